// Consent (docs/FHIR.md, "Consent"): a patient's grant to a doctor as an R4 Consent (scope patient-privacy,
// provision permit for the doctor over the grant's period), and a Consent create back into the arguments of
// RecordsService::GrantConsent. Pure; never throws on any JSON shape: a wrong type is an issue naming its path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "service/report_validation.h"

namespace medledger::fhir {

// One ListConsents / GrantConsent item (consentId, patientId, doctor, doctorMsp, purposeCode, purposeNote,
// grantedAt, expiresAt, revoked, revokedAt). `now_rfc3339` decides whether an unrevoked grant has expired.
nlohmann::json GrantToConsent(const nlohmann::json& grant, const std::string& home_msp, const std::string& now_rfc3339);

struct ConsentInput {
  std::string patient_id;
  std::string doctor;        // username (provision.actor[0].reference: Practitioner/<username> or identifier)
  std::string purpose;       // the patient's words (provision.purpose[0].display) or the code
  std::string purpose_code;  // provision.purpose[0].code: treatment | second_opinion | care_coordination | other
  std::string expires_at;    // provision.period.end
  std::string status;        // the resource's status
};

// Issues (FHIRPath fields) are appended to `issues`; the input is meaningful only when none were added.
ConsentInput ConsentToInput(const nlohmann::json& resource, std::vector<service::FieldIssue>* issues);

}  // namespace medledger::fhir
