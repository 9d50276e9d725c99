// Internals shared by the records contract's function files: the call context, the key schema, state
// helpers, the authorization rules and the audit-event writer. Only the contract's own .cpp files include
// this header (it pulls in nlohmann/json); everyone else sees records_contract.h.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "contract/args.h"
#include "contract/client_identity.h"
#include "contract/records_contract.h"
#include "contract/stub.h"

namespace medledger::contract::records {

using json = nlohmann::json;

// A filtered listing scans at most this many keys per call before it hands out a bookmark, so a caller who
// may see few of many keys cannot make one call read the whole range.
inline constexpr uint32_t kMaxScannedKeys = 1000;
// Lookup and search events name at most one page of patients.
inline constexpr size_t kMaxLookupRefs = kMaxPageSize;
inline constexpr int64_t kEmergencySeconds = 4 * 3600;
inline constexpr int64_t kMaxConsentSeconds = 366LL * 24 * 3600;  // "one year", leap years included
inline constexpr int64_t kMaxVersion = 1000000;

// Everything a function may depend on: the stub, the resolved caller and the transaction's time.
struct Ctx {
  ChaincodeStub& stub;
  const ClientIdentity& caller;
  Timestamp now;
  const std::string& tx_id;
};

Error Invalid(std::string code, std::string message);
Error Denied(std::string message);
Error NotFound(std::string code, std::string message);
Error AlreadyExists(std::string code, std::string message);
Error Conflict(std::string code, std::string message);

// ---- key schema (docs/CONTRACT.md) -----------------------------------------------------------------
namespace keys {
Result<std::string> Patient(std::string_view patient_ref);
Result<std::string> PatientLogin(std::string_view caller_id);
Result<std::string> ReportHead(std::string_view report_id);
Result<std::string> ReportVersion(std::string_view report_id, int64_t version);
Result<std::string> PatientReport(std::string_view patient_ref, std::string_view report_id);
Result<std::string> Consent(std::string_view patient_ref, std::string_view consent_id);
Result<std::string> DoctorConsent(std::string_view patient_ref, std::string_view doctor, std::string_view consent_id);
Result<std::string> Emergency(std::string_view report_id, std::string_view doctor, std::string_view grant_id);
Result<std::string> ConsentByDoctor(std::string_view doctor, std::string_view patient_ref, std::string_view consent_id);
Result<std::string> Clinician(std::string_view msp_id, std::string_view username);
Result<std::string> Erasure(std::string_view report_id);
}  // namespace keys

// Object types of the composite keys above; listings scan partial keys of these.
inline constexpr std::string_view kPatientType = "patient";
inline constexpr std::string_view kPatientLoginType = "patientlogin";
inline constexpr std::string_view kReportType = "report";
inline constexpr std::string_view kReportVersionType = "reportver";
inline constexpr std::string_view kPatientReportType = "patientreport";
inline constexpr std::string_view kConsentType = "consent";
inline constexpr std::string_view kDoctorConsentType = "consentdoc";
inline constexpr std::string_view kEmergencyType = "emergency";
inline constexpr std::string_view kConsentByDoctorType = "consentbydoctor";  // the doctor's own listing
inline constexpr std::string_view kClinicianType = "clinician";              // the consortium directory
inline constexpr std::string_view kErasureType = "erasure";                  // report ID -> its erasure record
// Events are indexed newest first (inverted time, see InvertedTimeKey): Fabric's stub has no reverse range
// scan, so an ascending scan of these keys is the trail in reverse chronological order.
inline constexpr std::string_view kEventType = "eventdesc";
inline constexpr std::string_view kPatientEventType = "patienteventdesc";
inline constexpr std::string_view kUserType = "user";  // caller ID -> its administration record (users.cpp)

// Zero-padded, so that byte order is numeric order inside composite keys.
std::string VersionKey(int64_t version);
std::string TimeKey(Timestamp t);  // nanoseconds since the epoch, 20 digits
// 2^64-1 minus the nanoseconds since the epoch, 20 digits: later times sort first.
std::string InvertedTimeKey(Timestamp t);

// ---- state ----------------------------------------------------------------------------------------
struct Stored {
  std::string raw;  // the bytes on the ledger, returned as-is where possible (no re-serialization)
  json doc;
};
Result<std::optional<Stored>> Load(ChaincodeStub& stub, const std::string& key);
Result<Stored> LoadPatient(Ctx& ctx, std::string_view patient_ref);
Result<Stored> LoadReport(Ctx& ctx, std::string_view report_id);
// The patient record linked to the calling patient login; "" for other roles or an unlinked login.
Result<std::string> CallerPatientRef(Ctx& ctx);

std::string Str(const json& doc, const char* field);  // "" when missing or not a string

struct PageRequest {
  uint32_t size = kDefaultPageSize;
  std::string bookmark;  // the raw key to resume from; arrives hex-encoded
};
Result<PageRequest> ParsePage(const Args& args);
// Decides whether the caller gets a scanned entry; may keep state of its own (e.g. the loaded record).
using KeepFn = std::function<Result<bool>(const KeyValue&)>;
// One page of the entries under a partial composite key that `keep` accepts (all when `keep` is empty): the
// scan continues past refused entries until the page is full, the range ends or kMaxScannedKeys were read.
// The bookmark is the key just after the last entry returned (a full page) or scanned (the scan bound), so it
// never names an entry the caller was refused, apart from the bound's case; empty when the range is done.
// The bookmark must lie inside the range.
Result<Page> FilteredRangePage(ChaincodeStub& stub, std::string_view type, const std::vector<std::string>& attrs,
                               const PageRequest& page, const KeepFn& keep);
// The page's JSON envelope: {"bookmark":"<hex>","items":[<raw JSON values>]}.
std::string PageJson(const std::string& bookmark, const std::vector<std::string_view>& raw_items);
Result<std::vector<KeyValue>> RangeAll(ChaincodeStub& stub, std::string_view type,
                                       const std::vector<std::string>& attrs);

// ---- authorization --------------------------------------------------------------------------------
Status RequireRole(const Ctx& ctx, std::initializer_list<Role> roles, std::string_view action);
// The caller is a patient whose linked record is `patient_ref`.
Status RequireOwnPatient(Ctx& ctx, std::string_view patient_ref, std::string_view action);
Result<bool> HasActiveConsent(Ctx& ctx, std::string_view patient_ref, std::string_view doctor);
Result<bool> HasActiveEmergency(Ctx& ctx, std::string_view report_id, std::string_view doctor);
// For a doctor without an active consent of the patient: "consent_expired" or "consent_revoked" when one existed
// (the latest by expiry decides), "" when none ever did.
Result<std::string> LapsedConsent(Ctx& ctx, std::string_view patient_ref, std::string_view doctor);
bool ConsentActive(const json& consent, Timestamp now);

struct Access {
  bool allowed = false;
  bool emergency = false;  // allowed only through a break-glass grant
  std::string basis;       // author | consent | emergency | self | audit
};
// Metadata reads (content=false) admit auditors; content reads (content=true) do not.
Result<Access> ReportAccess(Ctx& ctx, const json& report, bool content);

// ---- audit trail ----------------------------------------------------------------------------------
// Writes `event` (kind, patientRef and kind-specific fields) with eventId/txId/actor/actorRole/timestamp
// filled in, under the global time index and the patient's index. One event per transaction.
Status WriteEvent(Ctx& ctx, json event);
// An event about several patients (a search): the full event under the global index, and under each patient's
// index a copy that names only that patient, so no patient learns who else was in the result.
Status WriteSharedEvent(Ctx& ctx, json event, const std::vector<std::string>& patient_refs);

// ---- closed codes ---------------------------------------------------------------------------------
// No free text from a user reaches the ledger (it cannot be erased there): purposes are codes from these
// lists, and reasons or purpose notes are sealed content named by CID (docs/CONTRACT.md, "No free text").
inline constexpr std::array<std::string_view, 6> kAccessPurposes = {"treatment", "verification", "amendment",
                                                                    "emergency", "audit",        "self"};
inline constexpr std::array<std::string_view, 4> kConsentPurposes = {"treatment", "second_opinion", "care_coordination",
                                                                     "other"};
// The string field `name`, which must be one of `allowed` ("invalid_code" otherwise).
Result<std::string> Code(const Args& a, std::string_view name, std::span<const std::string_view> allowed);

// ---- the functions ----------------------------------------------------------------------------------
Result<std::string> RegisterPatient(Ctx& ctx, std::string_view arg);
Result<std::string> GetPatient(Ctx& ctx, std::string_view arg);
Result<std::string> CreateReport(Ctx& ctx, std::string_view arg);
Result<std::string> AmendReport(Ctx& ctx, std::string_view arg);
Result<std::string> GetReport(Ctx& ctx, std::string_view arg);
Result<std::string> ListReportsByPatient(Ctx& ctx, std::string_view arg);
Result<std::string> GetReportHistory(Ctx& ctx, std::string_view arg);
Result<std::string> GrantAccess(Ctx& ctx, std::string_view arg);
Result<std::string> RevokeAccess(Ctx& ctx, std::string_view arg);
Result<std::string> ListConsents(Ctx& ctx, std::string_view arg);
Result<std::string> EmergencyAccess(Ctx& ctx, std::string_view arg);
Result<std::string> RecordAccess(Ctx& ctx, std::string_view arg);
Result<std::string> ListAccessEvents(Ctx& ctx, std::string_view arg);
Result<std::string> RecordUserEvent(Ctx& ctx, std::string_view arg);
// A doctor whose enrolment or role change awaits a second administrator's approval may do nothing (one point
// read of the caller's user record; other roles pass without it).
Status RequireApprovedAccount(Ctx& ctx);
Result<std::string> GetUserRecord(Ctx& ctx, std::string_view arg);
Result<std::string> RecordLookup(Ctx& ctx, std::string_view arg);
Result<std::string> AnchorCheckpoint(Ctx& ctx, std::string_view arg);
Result<std::string> RecordKeyRelease(Ctx& ctx, std::string_view arg);
// The service identity's view of the consents of (patient, doctor) and the break-glass grants of (report, doctor),
// for a key holder's own check of a read before it releases a key (docs/CONSORTIUM.md).
Result<std::string> GetAccessGrants(Ctx& ctx, std::string_view arg);
// Written by RecordAccess: the read, by its transaction ID, for a later key release to check (key_releases.cpp).
Status RecordAccessFact(Ctx& ctx, const json& report, const Access& access);
Result<std::string> GetCheckpointAnchor(Ctx& ctx, std::string_view arg);
Result<std::string> PublishClinician(Ctx& ctx, std::string_view arg);
Result<std::string> ListClinicians(Ctx& ctx, std::string_view arg);
Result<std::string> ListConsentsForDoctor(Ctx& ctx, std::string_view arg);
// Erasure on the ledger (erasures.cpp): once per report, by an administrator of the author's organisation.
Result<std::string> EraseReport(Ctx& ctx, std::string_view arg);
Result<std::string> ListErasures(Ctx& ctx, std::string_view arg);
// The report's erasure record, if it was erased.
Result<std::optional<Stored>> LoadErasure(Ctx& ctx, std::string_view report_id);

}  // namespace medledger::contract::records
