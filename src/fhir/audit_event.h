// AuditEvent as IHE Basic Audit Log Patterns (BALP, https://profiles.ihe.net/ITI/BALP/) from the ledger's access
// trail (docs/FHIR.md, "AuditEvent"): a content read or patient lookup is PatientRead, a break-glass access is
// PatientRead with purposeOfEvent ETREAT, a shared search PatientQuery, a consent grant PatientCreate of a
// Consent, a revocation PatientUpdate, an erasure PatientDelete. Kinds BALP has no pattern for keep type `rest`
// and the medledger kind but claim no profile. Pure; never throws on any JSON shape.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace medledger::fhir {

inline constexpr const char* kBalpBase = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";
inline constexpr const char* kAuditKindSystem = "urn:medledger:audit-kind";

// One event of the access trail (RecordsService::AccessLog / AuditEvents item: eventId, kind, patientId,
// reportId, consentId, actor, actorMsp, actorRole, timestamp, txId, purpose, emergency). `home_msp`: this
// server's organisation (the source, and the actor's when the event names none).
nlohmann::json AccessEventToAuditEvent(const nlohmann::json& event, const std::string& home_msp);

// For search: the type and subtype codings (system, code) and the user agent's identifier values (the username
// and "<MSP>|<username>") of a mapped AuditEvent.
std::vector<std::pair<std::string, std::string>> AuditTypeCodings(const nlohmann::json& audit_event);
std::vector<std::pair<std::string, std::string>> AuditSubtypeCodings(const nlohmann::json& audit_event);
std::vector<std::pair<std::string, std::string>> AuditAgentCodings(const nlohmann::json& audit_event);

}  // namespace medledger::fhir
