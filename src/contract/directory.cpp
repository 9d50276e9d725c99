// The consortium directory of clinicians, and a doctor's view of the consents that name them. Each
// organisation's administrator publishes its own doctors (MSP ID, username, display name, role) so that a patient
// at any hospital can choose a doctor at another one; the directory holds no patient data.
#include "contract/records_support.h"

namespace medledger::contract::records {
namespace {

constexpr std::array<std::string_view, 1> kClinicianRoles = {"doctor"};
constexpr size_t kMaxDisplayNameBytes = 128;

// kText refuses C0 controls and DEL; a name that every hospital's screens show on one line must also be free of
// C1 controls (U+0080-U+009F), line and paragraph separators (U+2028, U+2029) and bidirectional controls
// (U+202A-U+202E, U+2066-U+2069), which make a name display as another. `s` is valid UTF-8.
bool HasHiddenControls(std::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b0 == 0xC2 && b1 >= 0x80 && b1 <= 0x9F) return true;
    if (b0 != 0xE2 || i + 2 >= s.size()) continue;
    const auto b2 = static_cast<unsigned char>(s[i + 2]);
    if (b1 == 0x80 && b2 >= 0xA8 && b2 <= 0xAE) return true;  // U+2028-U+202E
    if (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9) return true;  // U+2066-U+2069
  }
  return false;
}

// A username is a certificate CN as caller IDs hold it: kId characters and '@' (kCallerId's name part).
bool IsUsername(const std::string& s) {
  return MatchesPattern("m/" + s, Pattern::kCallerId);
}

}  // namespace

namespace keys {
Result<std::string> Clinician(std::string_view msp_id, std::string_view username) {
  return CreateCompositeKey(kClinicianType, {std::string(msp_id), std::string(username)});
}
Result<std::string> ConsentByDoctor(std::string_view doctor, std::string_view patient_ref,
                                    std::string_view consent_id) {
  return CreateCompositeKey(kConsentByDoctorType,
                            {std::string(doctor), std::string(patient_ref), std::string(consent_id)});
}
}  // namespace keys

Result<std::string> PublishClinician(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"username", "displayName", "role", "active"}));
  ML_ASSIGN_OR_RETURN(std::string username, a.String("username", 128));
  if (!IsUsername(username)) return Invalid("invalid_field", "\"username\" must be a username ([A-Za-z0-9._:@-])");
  ML_ASSIGN_OR_RETURN(std::string display_name, a.String("displayName", kMaxDisplayNameBytes, Pattern::kText));
  // kText admits \n and \t for report metadata; a name shown in a one-line list admits neither.
  if (display_name.find_first_of("\n\t") != std::string::npos || HasHiddenControls(display_name)) {
    return Invalid("invalid_field", "\"displayName\" must be one line without control characters");
  }
  if (display_name.find_first_not_of(' ') == std::string::npos) {
    return Invalid("invalid_field", "\"displayName\" must not be blank");
  }
  ML_ASSIGN_OR_RETURN(std::string role, Code(a, "role", kClinicianRoles));
  ML_ASSIGN_OR_RETURN(auto active, a.OptionalBool("active"));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kAdmin}, "publish clinicians"));

  // The organisation is the administrator's own, from the certificate: no argument can name another one, so an
  // administrator speaks only for their own hospital's clinicians.
  const std::string clinician_id = ctx.caller.msp_id + "/" + username;
  // A user the ledger knows under another role (its enrolment was recorded) is not published as a doctor.
  ML_ASSIGN_OR_RETURN(std::string user_key, CreateCompositeKey(kUserType, {clinician_id}));
  ML_ASSIGN_OR_RETURN(auto user, Load(ctx.stub, user_key));
  if (user && user->doc.contains("role") && Str(user->doc, "role") != role) {
    return Conflict("clinician_role_mismatch", "the ledger records this user under another role");
  }
  ML_ASSIGN_OR_RETURN(std::string key, keys::Clinician(ctx.caller.msp_id, username));
  json entry = {{"mspId", ctx.caller.msp_id},         {"username", username},
                {"displayName", display_name},        {"role", role},
                {"active", active.value_or(true)},    {"publishedBy", ctx.caller.id},
                {"publishedAt", ctx.now.ToRfc3339()}, {"txId", ctx.tx_id}};
  std::string text = entry.dump();
  ML_RETURN_IF_ERROR(ctx.stub.PutState(key, text));
  // The global trail only: a directory entry concerns no patient. The display name stays off the trail.
  ML_RETURN_IF_ERROR(WriteEvent(
      ctx, {{"kind", "clinician_published"}, {"subject", clinician_id}, {"role", role}, {"active", entry["active"]}}));
  return text;
}

Result<std::string> ListClinicians(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"mspId", "username", "pageSize", "bookmark"}));
  ML_ASSIGN_OR_RETURN(auto msp_id, a.OptionalString("mspId", 128, Pattern::kId));
  ML_ASSIGN_OR_RETURN(auto username, a.OptionalString("username", 128));
  if (username && !username->empty() && !IsUsername(*username)) {
    return Invalid("invalid_field", "\"username\" must be a username ([A-Za-z0-9._:@-])");
  }
  ML_ASSIGN_OR_RETURN(PageRequest page, ParsePage(a));
  std::vector<std::string> attrs;
  if (msp_id && !msp_id->empty()) attrs.push_back(*msp_id);
  // One clinician (a lookup before a consent to another hospital's doctor): the range of one full key.
  if (username && !username->empty()) {
    if (attrs.empty()) return Invalid("missing_field", "\"username\" needs \"mspId\"");
    attrs.push_back(*username);
  }
  ML_ASSIGN_OR_RETURN(Page p, FilteredRangePage(ctx.stub, kClinicianType, attrs, page, {}));
  std::vector<std::string_view> raws;
  raws.reserve(p.items.size());
  for (const auto& kv : p.items) raws.push_back(kv.value);
  return PageJson(p.bookmark, raws);
}

Result<std::string> ListConsentsForDoctor(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"patientRef", "activeOnly", "pageSize", "bookmark"}));
  ML_ASSIGN_OR_RETURN(auto ref, a.OptionalString("patientRef", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(auto active_only, a.OptionalBool("activeOnly"));
  ML_ASSIGN_OR_RETURN(PageRequest page, ParsePage(a));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kDoctor}, "list the consents that name them"));
  // The index is keyed by the caller's own ID: a doctor sees only the consents that name them.
  std::vector<std::string> attrs = {ctx.caller.id};
  if (ref && !ref->empty()) attrs.push_back(*ref);
  std::vector<json> consents;
  KeepFn keep = [&](const KeyValue& kv) -> Result<bool> {
    json c = json::parse(kv.value, nullptr, false);
    if (!c.is_object()) return MakeError(ErrorKind::kCorruption, "corrupt_state", "a consent is not a JSON object");
    const bool active = ConsentActive(c, ctx.now);
    if (active_only.value_or(false) && !active) return false;
    c["active"] = active;
    consents.push_back(std::move(c));
    return true;
  };
  ML_ASSIGN_OR_RETURN(Page p, FilteredRangePage(ctx.stub, kConsentByDoctorType, attrs, page, keep));
  std::vector<std::string> texts;
  texts.reserve(consents.size());
  for (const auto& c : consents) texts.push_back(c.dump());
  std::vector<std::string_view> raws(texts.begin(), texts.end());
  return PageJson(p.bookmark, raws);
}

}  // namespace medledger::contract::records
