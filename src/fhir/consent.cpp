#include "fhir/consent.h"

namespace medledger::fhir {
namespace {

using json = nlohmann::json;

std::string Str(const json& obj, const char* name) {
  if (!obj.is_object()) return {};
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* Member(const json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// The member as `want`'s type, or an invalid_type issue at `path`; nullptr when absent or mistyped.
const json* Typed(const json& obj, const char* name, json::value_t want, const std::string& path,
                  std::vector<service::FieldIssue>* issues) {
  const json* v = Member(obj, name);
  if (v == nullptr) return nullptr;
  if (v->type() != want) {
    issues->push_back({path, "invalid_type",
                       want == json::value_t::object  ? "must be an object"
                       : want == json::value_t::array ? "must be an array"
                                                      : "must be a string"});
    return nullptr;
  }
  return v;
}

std::string TypedStr(const json& obj, const char* name, const std::string& path,
                     std::vector<service::FieldIssue>* issues) {
  const json* v = Typed(obj, name, json::value_t::string, path, issues);
  return v ? v->get<std::string>() : std::string();
}

}  // namespace

json GrantToConsent(const json& g, const std::string& home_msp, const std::string& now) {
  const std::string patient = Str(g, "patientId");
  std::string doctor_msp = Str(g, "doctorMsp");
  if (doctor_msp.empty()) doctor_msp = home_msp;
  const std::string doctor = Str(g, "doctor");
  const std::string granted = Str(g, "grantedAt");
  const std::string expires = Str(g, "expiresAt");
  const bool revoked = g.is_object() && g.contains("revoked") && g["revoked"].is_boolean() && g["revoked"].get<bool>();
  // RFC 3339 UTC times of one format compare as text.
  const bool expired = !expires.empty() && !now.empty() && expires <= now;
  std::string end = expires;
  if (revoked && !Str(g, "revokedAt").empty()) end = Str(g, "revokedAt");
  json period = json::object();
  if (!granted.empty()) period["start"] = granted;
  if (!end.empty()) period["end"] = end;
  std::string purpose_code = Str(g, "purposeCode");
  if (purpose_code.empty()) purpose_code = Str(g, "purpose");
  json purpose = {{"system", "urn:medledger:consent-purpose"}, {"code", purpose_code.empty() ? "other" : purpose_code}};
  if (!Str(g, "purposeNote").empty()) purpose["display"] = Str(g, "purposeNote");
  json out = {
      {"resourceType", "Consent"},
      {"id", Str(g, "consentId")},
      {"status", revoked || expired ? "inactive" : "active"},
      {"scope",
       {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/consentscope"},
                                 {"code", "patient-privacy"}}})}}},
      {"category",
       json::array(
           {{{"coding",
              json::array({{{"system", "http://loinc.org"}, {"code", "59284-0"}, {"display", "Patient Consent"}}})}}})},
      {"patient", {{"reference", "Patient/" + patient}}},
      {"performer", json::array({{{"reference", "Patient/" + patient}}})},
      {"policyRule",
       {{"coding",
         json::array({{{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "OPTIN"}}})}}},
      {"provision",
       {{"type", "permit"},
        {"period", period},
        {"actor", json::array({{{"role",
                                 {{"coding", json::array({{{"system",
                                                            "http://terminology.hl7.org/CodeSystem/"
                                                            "v3-ParticipationType"},
                                                           {"code", "IRCP"}}})}}},
                                {"reference",
                                 {{"identifier", {{"system", "urn:medledger:msp:" + doctor_msp}, {"value", doctor}}},
                                  {"display", doctor + " (" + doctor_msp + ")"}}}}})},
        {"purpose", json::array({purpose})}}}};
  if (!granted.empty()) out["dateTime"] = granted;
  return out;
}

ConsentInput ConsentToInput(const json& r, std::vector<service::FieldIssue>* issues) {
  ConsentInput in;
  if (!r.is_object()) {
    issues->push_back({"Consent", "invalid_type", "a FHIR resource is a JSON object"});
    return in;
  }
  if (TypedStr(r, "resourceType", "Consent.resourceType", issues) != "Consent") {
    issues->push_back({"Consent.resourceType", "invalid", "must be Consent"});
  }
  in.status = TypedStr(r, "status", "Consent.status", issues);
  if (const json* p = Typed(r, "patient", json::value_t::object, "Consent.patient", issues)) {
    std::string ref = TypedStr(*p, "reference", "Consent.patient.reference", issues);
    if (ref.rfind("Patient/", 0) == 0) in.patient_id = ref.substr(8);
  }
  if (in.patient_id.empty()) issues->push_back({"Consent.patient", "required", "Patient/<id> is required"});
  const json* prov = Typed(r, "provision", json::value_t::object, "Consent.provision", issues);
  if (prov == nullptr) {
    issues->push_back({"Consent.provision", "required", "a provision naming the doctor and the period is required"});
    return in;
  }
  if (const json* t = Member(*prov, "type"); t != nullptr && (!t->is_string() || t->get<std::string>() != "permit")) {
    issues->push_back({"Consent.provision.type", "invalid", "only permit provisions are granted"});
  }
  if (const json* actors = Typed(*prov, "actor", json::value_t::array, "Consent.provision.actor", issues)) {
    if (actors->size() != 1) {
      issues->push_back({"Consent.provision.actor", "invalid", "exactly one actor (the doctor) is granted"});
    } else if (const json* ref = Typed((*actors)[0], "reference", json::value_t::object,
                                       "Consent.provision.actor[0].reference", issues)) {
      std::string r2 = TypedStr(*ref, "reference", "Consent.provision.actor[0].reference.reference", issues);
      if (r2.rfind("Practitioner/", 0) == 0) in.doctor = r2.substr(13);
      if (const json* id = Typed(*ref, "identifier", json::value_t::object,
                                 "Consent.provision.actor[0].reference.identifier", issues)) {
        std::string v = TypedStr(*id, "value", "Consent.provision.actor[0].reference.identifier.value", issues);
        if (!v.empty()) in.doctor = v;
      }
    }
  }
  if (in.doctor.empty()) {
    issues->push_back({"Consent.provision.actor", "required", "the doctor (Practitioner/<username>) is required"});
  }
  if (const json* period = Typed(*prov, "period", json::value_t::object, "Consent.provision.period", issues)) {
    in.expires_at = TypedStr(*period, "end", "Consent.provision.period.end", issues);
  }
  if (in.expires_at.empty()) {
    issues->push_back({"Consent.provision.period.end", "required", "the grant's end time is required"});
  }
  if (const json* purposes = Typed(*prov, "purpose", json::value_t::array, "Consent.provision.purpose", issues)) {
    if (!purposes->empty()) {
      const json& p0 = (*purposes)[0];
      in.purpose_code = TypedStr(p0, "code", "Consent.provision.purpose[0].code", issues);
      in.purpose = TypedStr(p0, "display", "Consent.provision.purpose[0].display", issues);
    }
  }
  // R4 makes the purpose optional; the service wants words: a grant without one is recorded as "other", never as a
  // purpose the patient did not state.
  if (in.purpose.empty()) in.purpose = in.purpose_code.empty() ? "other" : in.purpose_code;
  return in;
}

}  // namespace medledger::fhir
