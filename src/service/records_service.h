// The report workflows over Ledger + ContentStore + identity: patients, submit, read, amend, history,
// proof, consent, emergency access, access log, audit. Every ledger call is signed with the caller's own
// wallet identity; the contract is the final authority, and this layer denies by default before it.
// Lists and ledger records are returned as JSON text (API field names), single objects as structs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "common/result.h"
#include "common/time.h"
#include "content/content_store.h"
#include "content/report_vault.h"
#include "contract/records_contract.h"
#include "identity/organization.h"
#include "io/env.h"
#include "ledger/ledger.h"
#include "service/bookmarks.h"
#include "service/consortium_service.h"
#include "service/erasure.h"
#include "service/idempotency_store.h"
#include "service/patient_directory.h"
#include "service/report_log.h"
#include "service/report_validation.h"

namespace medledger::service {

// The service acts for a caller that auth has already verified; it decides what that caller may do.
using auth::Principal;

// Listing pages hold kMinPageSize..kMaxPageSize items: the contract's own range, so the API cannot accept a
// size the ledger refuses. A size outside it is `invalid_page_size`, never silently clamped.
inline constexpr uint32_t kMinPageSize = contract::kMinPageSize;
inline constexpr uint32_t kMaxPageSize = contract::kMaxPageSize;
inline constexpr uint32_t kDefaultPageSize = 50;
static_assert(kDefaultPageSize >= kMinPageSize && kDefaultPageSize <= kMaxPageSize);
Status CheckPageSize(uint32_t page_size);

struct Receipt {
  std::string report_id;
  uint32_t version = 1;
  std::string cid;
  std::string content_hash;
  std::string tx_id;
  uint64_t block_number = 0;
  std::string block_hash;
  std::string timestamp;
  std::vector<std::string> flags;
  bool replayed = false;  // an Idempotency-Key retry: nothing new was created

  std::string ToJson() const;
  static Result<Receipt> FromJson(std::string_view text);
};

struct PatientView {
  std::string patient_id;
  std::string name;
  std::string birth_date;
  std::string username;
};

struct NewPatient {
  std::string mrn;
  std::string name;
  std::string birth_date;
  std::string username;
};

struct ReportView {
  std::string json;                                              // the API `report` object
  std::string document;                                          // canonical document bytes (SHA-256 = contentHash)
  std::string envelope;                                          // stored bytes (CID = cid)
  std::vector<std::pair<std::string, std::string>> attachments;  // content type, bytes
};

struct AmendInput {
  std::optional<std::string> title;
  std::optional<std::string> diagnosis;
  std::string content;
  std::string reason;
};

// A member of the consortium as people should read it: "HospitalBMSP" -> "Hospital B".
struct OrganizationName {
  std::string msp_id;
  std::string display_name;
};

struct ServiceParts {
  ledger::Ledger* ledger = nullptr;
  content::ContentStore* content = nullptr;
  identity::Organization* org = nullptr;
  PatientDirectory* patients = nullptr;
  content::ReportVault* vault = nullptr;  // seals into `content` with keys from the keystore
  // The vault's keystore, for erasure, and the local erasure journal (DATA/server/erasures.jsonl).
  content::Keystore* keystore = nullptr;
  std::filesystem::path erasure_journal;
  io::Env* env = nullptr;  // the erasure journal's disk; null: io::Env::Default()
  // Makes the vault's writes durable (one syncfs for the content block, pin and key file of a report) before
  // the ledger transaction that points at them; empty when the stores sync each write themselves.
  std::function<Status()> durability_barrier;
  IdempotencyStore* idempotency = nullptr;
  const BookmarkSealer* bookmarks = nullptr;  // seals every listing's bookmark; required
  ValidationPolicy policy;
  const ReportLog* log = nullptr;  // the report log; receipts answer 503 log_unavailable without one
  // A consortium member's server-to-server side: reads of other hospitals' reports, replicas of this one's.
  // Null for one organisation (the embedded default).
  ConsortiumService* consortium = nullptr;
  // The other members of the consortium (docs/CONSORTIUM.md, consortium.json), for display; empty when alone.
  std::vector<OrganizationName> organizations;
  // The service's clock (creation times, consent expiry, birth-date checks); empty: Timestamp::Now. Tests fix it.
  // The ledger's transaction times come from the ledger, not from here.
  std::function<Timestamp()> clock;
};

struct PatientPage {
  std::vector<PatientView> items;
  std::string bookmark;  // sealed; "" on the last page
};

class RecordsService {
 public:
  explicit RecordsService(ServiceParts parts) : p_(std::move(parts)) {}

  Result<PatientView> RegisterPatient(const Principal& who, const NewPatient& in, std::vector<FieldIssue>* issues);
  // A doctor's or administrator's lookup is recorded on the ledger (an access event the patient sees) before
  // the registration is returned.
  Result<PatientView> GetPatient(const Principal& who, const std::string& patient_id);
  // Matches in (name, patientId) order, one page; the page's patients (never the query) are recorded on the
  // ledger as one `search` event.
  Result<PatientPage> SearchPatients(const Principal& who, const std::string& query, uint32_t page_size,
                                     const std::string& bookmark);

  // Operations whose permission depends on the caller's role alone. Each operation checks its own; a handler
  // asks first so that a caller who may not perform it is refused before a large body is read, by the same rule.
  enum class Action { kSubmitReport, kEraseReport, kPublishClinician };
  static Status MayPerform(const Principal& who, Action action);

  // `request_hash` identifies the request body for Idempotency-Key checks (empty key: no idempotency).
  Result<Receipt> SubmitReport(const Principal& who, ReportInput in, const std::string& idempotency_key,
                               const std::string& request_hash, std::vector<FieldIssue>* issues);
  Result<Receipt> AmendReport(const Principal& who, const std::string& report_id, const AmendInput& in,
                              std::vector<FieldIssue>* issues);
  // Records the access on the ledger, then fetches, verifies (CID, hash) and decrypts.
  Result<ReportView> ReadReport(const Principal& who, const std::string& report_id, const std::string& purpose);
  Result<std::string> ListPatientReports(const Principal& who, const std::string& patient_id, uint32_t page_size,
                                         const std::string& bookmark);
  Result<std::string> ReportHistory(const Principal& who, const std::string& report_id);
  // A filtered walk over a patient's report index (the FHIR search, docs/FHIR.md "Paging"): the contract's pages
  // of ListReportsByPatient, authorized exactly as that listing, each item (API-shaped JSON text, metadata only,
  // no content is read or decrypted) kept when `keep` says so. Stops once `want` items were kept (`want` 0:
  // count only), the index ends, or kMaxWalkEntries entries were examined. The page token is sealed and bound
  // to the caller, the patient and `query_key` (the filters `keep` applies).
  static constexpr size_t kMaxWalkEntries = 1000;
  struct ReportWalk {
    std::vector<std::string> items;
    size_t matched = 0;      // items kept, counted even when `want` is 0
    std::string page_token;  // sealed; "" when the index ended
    bool complete = false;   // started at the first entry and reached the end: `matched` is the total
  };
  Result<ReportWalk> WalkPatientReports(const Principal& who, const std::string& patient_id,
                                        const std::string& query_key,
                                        const std::function<bool(const std::string& item)>& keep, uint32_t want,
                                        const std::string& page_token);
  Result<std::string> ReportProof(const Principal& who, const std::string& report_id);
  // The offline-verifiable receipt (docs/RECEIPTS.md) of a version's creation or amendment (the head's without
  // `version`), authorized as reading the report's metadata. "receipt_not_ready" (409) until a checkpoint
  // covers it.
  Result<std::string> ReportReceipt(const Principal& who, const std::string& report_id, std::optional<int64_t> version);

  // Every version of a report with the transaction that wrote it (FHIR Provenance, docs/FHIR.md), oldest
  // first, at most the newest `max_versions`; only `only_version` when given (none when the report has no such
  // version). Authorized exactly as ReportHistory, which it calls with the same principal; each envelope's
  // signatures are checked against this organisation's CA before its endorser is named.
  struct VersionTransaction {
    std::string version_json;  // the history item, in the API's shape
    std::string envelope;      // serialized common.Envelope
    std::string recorded;      // the transaction's time (its channel header's), RFC 3339
    std::string endorser_msp;
    std::string endorser_name;
  };
  Result<std::vector<VersionTransaction>> ReportTransactions(const Principal& who, const std::string& report_id,
                                                             std::optional<int64_t> only_version = std::nullopt,
                                                             size_t max_versions = 100);

  Result<std::string> ListConsents(const Principal& who, const std::string& patient_id);
  // `purpose` is the patient's words: a code from the closed list goes to the ledger as is, other text is
  // sealed (erasable) and the ledger gets `purpose_code` ("other" when empty) and the note's CID.
  Result<std::string> GrantConsent(const Principal& who, const std::string& patient_id, const std::string& doctor,
                                   const std::string& purpose, const std::string& purpose_code,
                                   const std::string& expires_at);
  Status RevokeConsent(const Principal& who, const std::string& patient_id, const std::string& consent_id);
  Result<std::string> EmergencyAccess(const Principal& who, const std::string& report_id, const std::string& reason);
  // Newest first, one page; bookmarks are sealed (BookmarkSealer) and bound to the caller and the listing.
  Result<std::string> AccessLog(const Principal& who, const std::string& patient_id, uint32_t page_size,
                                const std::string& bookmark);
  struct AuditFilter {
    std::string kind, actor, patient_id, bookmark;
    bool emergency_only = false;
    uint32_t page_size = kDefaultPageSize;
  };
  Result<std::string> AuditEvents(const Principal& who, const AuditFilter& filter);

  Result<std::string> LedgerStatus(const Principal& who);

  // Erasure on the ledger (docs/OPERATIONS.md): an administrator records EraseReport with their own identity,
  // then the report's keys are destroyed and the erasure journalled with `note` (local only). See erasure.h.
  Result<ErasureOutcome> EraseReport(const Principal& admin, const std::string& report_id,
                                     const std::string& reason_code, const std::string& note);
  // Every erasure on the ledger, one page (administrators and auditors).
  Result<std::string> ListErasures(const Principal& who, uint32_t page_size, const std::string& bookmark);

  // The consortium directory (docs/CONSORTIUM.md): every signed-in user lists it (optionally one hospital's
  // MSP ID); an administrator publishes a doctor of this hospital under a display name (one line, <= 128 bytes).
  Result<std::string> ListClinicians(const Principal& who, const std::string& msp_id, uint32_t page_size,
                                     const std::string& bookmark);
  Result<std::string> PublishClinician(const Principal& admin, const std::string& username,
                                       const std::string& display_name, bool active);
  // A doctor's consents, at any hospital, that name them; and one consenting patient's reports by pseudonym
  // ("no_consent" 403 without an active consent naming the doctor).
  // The hospitals this server can name: itself (its organisation's name) and the consortium's other members.
  Result<std::string> Organizations(const Principal& who) const;
  Result<std::string> SharedConsents(const Principal& who, uint32_t page_size, const std::string& bookmark);
  Result<std::string> SharedPatientReports(const Principal& who, const std::string& patient_id, uint32_t page_size,
                                           const std::string& bookmark);

  // User administration on the ledger, signed by the acting administrator `admin` (docs/IDENTITY.md, "What stops
  // an administrator"). `action`: enrolled | role_changed | disabled | enabled | password_reset | approved;
  // `channel`: api | cli. The subject is the user's enrollment ID (a pseudonym for patients).
  // `requires_approval` (enrolled, role_changed): the account stays refused by the contract until a second,
  // different administrator records `approved`.
  Status RecordUserEvent(const Principal& admin, std::string_view action, const std::string& username,
                         std::string_view channel, bool requires_approval = false);
  // Break-glass by a recently enrolled account is what an administrator who made themselves a doctor looks like:
  // emergency events in AuditEvents get `actorEnrolledAt`, `actorEnrolledBy` and `recentlyEnrolled` (enrolled
  // or given the role within this many days of the access) from the ledger's user records.
  void set_recent_enrollment_days(int days) { recent_enrollment_days_ = days; }

 private:
  struct CallResult;
  Timestamp Now() const { return p_.clock ? p_.clock() : Timestamp::Now(); }
  Result<CallResult> Call(const Principal& who, const std::string& function, const std::string& arg_json, bool submit);
  Result<Receipt> SealAndCommit(const Principal& who, const std::string& function, const std::string& report_id,
                                uint32_t version, const std::string& patient_id, const std::string& document,
                                nlohmann::json args);  // the contract call's arguments beyond the report's own
  // Free text from a user (a break-glass reason, a consent purpose) sealed as erasable content under `owner`'s
  // keys, made durable before the transaction that names it; returns its CID, the only thing the ledger gets.
  Result<std::string> SealNote(const std::string& owner, std::string_view label, const std::string& text);
  // The note's text for a reader the caller has checked; "key_destroyed" once its owner was erased.
  Result<std::string> OpenNote(const std::string& owner, std::string_view label, const std::string& cid);
  Result<const BookmarkSealer*> Bookmarks() const;
  // The consent's `doctor` for the ledger: a doctor of this hospital by username (or "<own MSP>/<username>"),
  // or "<MSP>/<username>" of another hospital listed, active, in the directory; else 400 "unknown_doctor".
  Result<std::string> ConsentDoctor(const Principal& who, const std::string& doctor);

  ServiceParts p_;
  int recent_enrollment_days_ = 30;
};

}  // namespace medledger::service
