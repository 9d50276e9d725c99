// RegisterPatient and GetPatient: the registration record of a keyed patient pseudonym.
#include "contract/records_support.h"

namespace medledger::contract::records {

Result<std::string> RegisterPatient(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"patientRef", "login"}));
  ML_ASSIGN_OR_RETURN(std::string ref, a.String("patientRef", 64, Pattern::kHex64));
  // `login` is the enrollment ID in the patient's certificate (its CN), a random pseudonym the server maps to
  // the login name; no login name reaches the ledger (docs/IDENTITY.md, "Patients' ledger identities").
  ML_ASSIGN_OR_RETURN(auto login_id, a.OptionalString("login", 128, Pattern::kId));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kAdmin}, "register patients"));
  ML_ASSIGN_OR_RETURN(std::string key, keys::Patient(ref));
  ML_ASSIGN_OR_RETURN(auto existing, ctx.stub.GetState(key));
  if (existing) return AlreadyExists("patient_exists", "a patient is already registered under this reference");
  json patient = {
      {"patientRef", ref}, {"registeredBy", ctx.caller.id}, {"registeredAt", ctx.now.ToRfc3339()}, {"txId", ctx.tx_id}};
  if (login_id && !login_id->empty()) {
    // The login lives in the registering administrator's organisation.
    std::string login = ctx.caller.msp_id + "/" + *login_id;
    ML_ASSIGN_OR_RETURN(std::string login_key, keys::PatientLogin(login));
    ML_ASSIGN_OR_RETURN(auto linked, ctx.stub.GetState(login_key));
    if (linked) return AlreadyExists("login_already_linked", "this login is already linked to a patient record");
    ML_RETURN_IF_ERROR(ctx.stub.PutState(login_key, ref));
  }
  std::string text = patient.dump();
  ML_RETURN_IF_ERROR(ctx.stub.PutState(key, text));
  ML_RETURN_IF_ERROR(WriteEvent(ctx, {{"kind", "patient_registered"}, {"patientRef", ref}}));
  return text;
}

Result<std::string> GetPatient(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"patientRef"}));
  ML_ASSIGN_OR_RETURN(std::string ref, a.String("patientRef", 64, Pattern::kHex64));
  if (ctx.caller.role == Role::kPatient) {
    ML_RETURN_IF_ERROR(RequireOwnPatient(ctx, ref, "read the registration"));
  } else {
    ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kAdmin, Role::kDoctor}, "read patient registrations"));
  }
  ML_ASSIGN_OR_RETURN(Stored patient, LoadPatient(ctx, ref));
  return std::move(patient.raw);
}

}  // namespace medledger::contract::records
