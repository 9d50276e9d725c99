// Consent (a patient lets a doctor read their reports for a purpose until an expiry) and break-glass
// emergency grants (a doctor states a reason and gets four hours on one report, flagged for audit).
#include "contract/records_support.h"

namespace medledger::contract::records {

Result<std::string> GrantAccess(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"patientRef", "doctor", "purpose", "purposeNote", "expiresAt"}));
  ML_ASSIGN_OR_RETURN(std::string ref, a.String("patientRef", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(std::string doctor, a.String("doctor", 257));
  // A bare user name means a doctor of the patient's own organisation.
  if (doctor.find('/') == std::string::npos) doctor = ctx.caller.msp_id + "/" + doctor;
  if (!MatchesPattern(doctor, Pattern::kCallerId)) {
    return Invalid("invalid_field", "\"doctor\" must be a caller ID \"<mspId>/<username>\"");
  }
  ML_ASSIGN_OR_RETURN(std::string purpose, Code(a, "purpose", kConsentPurposes));
  // The patient's own words, if any, are sealed content erasable off the ledger; only their CID is here.
  ML_ASSIGN_OR_RETURN(auto purpose_note, a.OptionalString("purposeNote", 128, Pattern::kCid));
  ML_ASSIGN_OR_RETURN(std::string expires_text, a.String("expiresAt", 64));
  auto expires = Timestamp::FromRfc3339(expires_text);
  if (!expires.ok()) return Invalid("invalid_field", "\"expiresAt\" must be an RFC 3339 timestamp");
  if (*expires <= ctx.now) return Invalid("expiry_not_in_future", "consent must expire after the transaction time");
  if (expires->seconds - ctx.now.seconds > kMaxConsentSeconds) {
    return Invalid("expiry_too_far", "consent may last at most one year");
  }
  ML_RETURN_IF_ERROR(RequireOwnPatient(ctx, ref, "grant access"));

  json consent = {{"consentId", ctx.tx_id},
                  {"patientRef", ref},
                  {"doctor", doctor},
                  {"patientMsp", ctx.caller.msp_id},
                  {"purpose", purpose},
                  {"grantedAt", ctx.now.ToRfc3339()},
                  {"expiresAt", expires->ToRfc3339()},
                  {"expiresAtMs", expires->UnixMillis()},
                  {"revoked", false},
                  {"txId", ctx.tx_id}};
  if (purpose_note && !purpose_note->empty()) consent["purposeNote"] = *purpose_note;
  std::string text = consent.dump();
  ML_ASSIGN_OR_RETURN(std::string by_patient, keys::Consent(ref, ctx.tx_id));
  ML_ASSIGN_OR_RETURN(std::string by_doctor, keys::DoctorConsent(ref, doctor, ctx.tx_id));
  ML_ASSIGN_OR_RETURN(std::string doctor_listing, keys::ConsentByDoctor(doctor, ref, ctx.tx_id));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(by_patient, text));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(by_doctor, text));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(doctor_listing, text));
  ML_RETURN_IF_ERROR(WriteEvent(ctx, {{"kind", "consent_granted"},
                                      {"patientRef", ref},
                                      {"doctor", doctor},
                                      {"purpose", purpose},
                                      {"consentId", ctx.tx_id},
                                      {"expiresAt", expires->ToRfc3339()}}));
  return text;
}

Result<std::string> RevokeAccess(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"patientRef", "consentId"}));
  ML_ASSIGN_OR_RETURN(std::string ref, a.String("patientRef", 64, Pattern::kHex64));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("consentId", 128, Pattern::kId));
  ML_RETURN_IF_ERROR(RequireOwnPatient(ctx, ref, "revoke access"));
  ML_ASSIGN_OR_RETURN(std::string by_patient, keys::Consent(ref, id));
  ML_ASSIGN_OR_RETURN(auto stored, Load(ctx.stub, by_patient));
  if (!stored) return NotFound("consent_not_found", "this patient has no consent with this ID");
  json& consent = stored->doc;
  if (consent.value("revoked", false)) return Conflict("consent_already_revoked", "this consent is already revoked");
  const std::string doctor = Str(consent, "doctor");
  consent["revoked"] = true;
  consent["revokedAt"] = ctx.now.ToRfc3339();
  consent["revokedTxId"] = ctx.tx_id;
  std::string text = consent.dump();
  ML_ASSIGN_OR_RETURN(std::string by_doctor, keys::DoctorConsent(ref, doctor, id));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(by_patient, text));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(by_doctor, text));
  // The doctor's listing keeps the revoked consent (reported inactive), as the patient's does. A consent granted
  // before this index existed has no entry there, and none is made for it now.
  ML_ASSIGN_OR_RETURN(std::string doctor_listing, keys::ConsentByDoctor(doctor, ref, id));
  ML_ASSIGN_OR_RETURN(auto listed, ctx.stub.GetState(doctor_listing));
  if (listed) ML_RETURN_IF_ERROR(ctx.stub.PutState(doctor_listing, text));
  ML_RETURN_IF_ERROR(
      WriteEvent(ctx, {{"kind", "consent_revoked"}, {"patientRef", ref}, {"doctor", doctor}, {"consentId", id}}));
  return text;
}

Result<std::string> ListConsents(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"patientRef"}));
  ML_ASSIGN_OR_RETURN(std::string ref, a.String("patientRef", 64, Pattern::kHex64));
  if (ctx.caller.role != Role::kAdmin) ML_RETURN_IF_ERROR(RequireOwnPatient(ctx, ref, "list consents"));
  ML_ASSIGN_OR_RETURN(auto consents, RangeAll(ctx.stub, kConsentType, {ref}));
  json items = json::array();
  for (const auto& kv : consents) {
    json c = json::parse(kv.value, nullptr, false);
    if (!c.is_object()) return MakeError(ErrorKind::kCorruption, "corrupt_state", "a consent is not a JSON object");
    c["active"] = ConsentActive(c, ctx.now);
    items.push_back(std::move(c));
  }
  return json{{"items", std::move(items)}}.dump();
}

Result<std::string> EmergencyAccess(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"reportId", "reasonNote"}));
  ML_ASSIGN_OR_RETURN(std::string id, a.String("reportId", 128, Pattern::kId));
  // The stated reason is free text: the server seals it under the report's own keys (so erasing the report
  // erases it) and the grant names the sealed note by CID. A break-glass without a stated reason is refused.
  ML_ASSIGN_OR_RETURN(std::string reason_note, a.String("reasonNote", 128, Pattern::kCid));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kDoctor}, "use emergency access"));
  ML_ASSIGN_OR_RETURN(Stored head, LoadReport(ctx, id));
  const std::string ref = Str(head.doc, "patientRef");
  const Timestamp expires{ctx.now.seconds + kEmergencySeconds, ctx.now.nanos};
  json grant = {{"grantId", ctx.tx_id},
                {"reportId", id},
                {"patientRef", ref},
                {"doctor", ctx.caller.id},
                {"reasonNote", reason_note},
                {"emergency", true},
                {"grantedAt", ctx.now.ToRfc3339()},
                {"expiresAt", expires.ToRfc3339()},
                {"expiresAtMs", expires.UnixMillis()},
                {"txId", ctx.tx_id}};
  std::string text = grant.dump();
  ML_ASSIGN_OR_RETURN(std::string key, keys::Emergency(id, ctx.caller.id, ctx.tx_id));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(key, text));
  ML_RETURN_IF_ERROR(WriteEvent(ctx, {{"kind", "emergency"},
                                      {"reportId", id},
                                      {"patientRef", ref},
                                      {"reasonNote", reason_note},
                                      {"emergency", true},
                                      {"expiresAt", expires.ToRfc3339()}}));
  ML_RETURN_IF_ERROR(ctx.stub.SetEvent("EmergencyAccess", text));
  return text;
}

}  // namespace medledger::contract::records
