// FHIR slice 2 (docs/FHIR.md): Provenance, BALP AuditEvent and Consent mappings, their search parameters, and
// the Provenance signature checked by the project's verifier against the real transaction of docs/examples
// (a wrong signature value, signer, target or transaction fails). No mapping throws on any JSON shape.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "common/encoding.h"
#include "fhir/audit_event.h"
#include "fhir/consent.h"
#include "fhir/provenance.h"
#include "fhir/search_params.h"
#include "random_json.h"
#include "receipt/ledger_evidence.h"
#include "source_dir.h"
#include "verifier/provenance_verifier.h"

namespace medledger::fhir {
namespace {

using json = nlohmann::json;
const std::string kExamples = std::string(MEDLEDGER_SOURCE_DIR) + "/docs/examples";

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- Provenance

json Version(int64_t v) {
  return {{"reportId", "r1"},
          {"version", v},
          {"patientId", "p1"},
          {"author", "dr.house"},
          {"createdAt", "2026-12-07T05:00:00.000Z"},
          {"updatedAt", "2026-12-07T06:00:00.000Z"},
          {"txId", "ab12"}};
}

TEST(FhirProvenance, MapsTargetAgentsEntitiesAndSignature) {
  ProvenanceInput in;
  in.version = Version(2);
  in.envelope = "signed-bytes";
  in.recorded = "2026-12-07T06:00:00.000Z";
  in.endorser_msp = "OrgMSP";
  in.endorser_name = "peer0";
  in.home_msp = "OrgMSP";
  in.receipt_url = "https://h/api/v1/reports/r1/receipt?version=2";
  json p = ReportProvenance(in);
  EXPECT_EQ(p["id"], "r1-v2");
  EXPECT_EQ(p["target"][0]["reference"], "DiagnosticReport/r1/_history/2");
  EXPECT_EQ(p["recorded"], in.recorded);
  EXPECT_EQ(p["activity"]["coding"][0]["code"], "UPDATE");
  EXPECT_EQ(p["agent"][0]["who"]["identifier"]["system"], "urn:medledger:msp:OrgMSP");
  EXPECT_EQ(p["agent"][0]["who"]["identifier"]["value"], "dr.house");
  EXPECT_EQ(p["agent"][0]["onBehalfOf"]["identifier"]["value"], "OrgMSP");
  EXPECT_EQ(p["entity"][0]["what"]["identifier"]["system"], kLedgerTxSystem);
  EXPECT_EQ(p["entity"][0]["what"]["identifier"]["value"], "ab12");
  EXPECT_EQ(p["entity"][1]["what"]["reference"], in.receipt_url);
  EXPECT_EQ(p["entity"][2]["role"], "revision");
  EXPECT_EQ(p["entity"][2]["what"]["reference"], "DiagnosticReport/r1/_history/1");
  const json& s = p["signature"][0];
  EXPECT_EQ(s["sigFormat"], kEnvelopeSigFormat);
  EXPECT_EQ(s["targetFormat"], kEndorsedTargetFormat);
  EXPECT_EQ(s["who"]["identifier"]["value"], "peer0");
  EXPECT_EQ(s["data"], Base64Encode("signed-bytes"));
  // Version 1 is a creation with no earlier revision; without a checked endorser there is no signature.
  in.version = Version(1);
  in.endorser_name.clear();
  json p1 = ReportProvenance(in);
  EXPECT_EQ(p1["activity"]["coding"][0]["code"], "CREATE");
  EXPECT_EQ(p1["entity"].size(), 2u);
  EXPECT_FALSE(p1.contains("signature"));
}

TEST(FhirProvenance, IdRoundTripsAndRefusesOthers) {
  auto k = ParseProvenanceId(ProvenanceId("faff798d04e882fc3442132a2463b1ab", 12));
  ASSERT_TRUE(k);
  EXPECT_EQ(k->report_id, "faff798d04e882fc3442132a2463b1ab");
  EXPECT_EQ(k->version, 12);
  for (const char* bad : {"", "r1", "r1-v", "r1-v0", "r1-v01", "r1-vx", "-v1", "r1-v12345678901", "r1-v-1"}) {
    EXPECT_FALSE(ParseProvenanceId(bad)) << bad;
  }
}

// The Provenance of the example receipt's transaction, built as the server builds it (the endorser named only
// after the envelope's checks pass), then checked by the offline verifier.
class ProvenanceSignature : public ::testing::Test {
 protected:
  void SetUp() override {
    auto trust = verifier::LoadTrust(kExamples + "/trust");
    ASSERT_TRUE(trust.ok()) << trust.error().ToString();
    trust_ = std::move(*trust);
    json receipt = json::parse(Read(kExamples + "/receipt.json"));
    const json& fields = receipt["leaf"]["fields"];
    auto envelope = Base64Decode(receipt["ledger"]["envelope"].get<std::string>());
    ASSERT_TRUE(envelope.ok());
    auto roots = receipt::LedgerTrust::FromPem(trust_.org_roots_pem);
    ASSERT_TRUE(roots.ok());
    auto verified = receipt::VerifyTransactionEnvelope(*envelope, fields["txId"].get<std::string>(), {}, *roots);
    ASSERT_TRUE(verified.ok()) << verified.error().ToString();
    ASSERT_FALSE(verified->endorsers.empty());
    ProvenanceInput in;
    in.version = {{"reportId", fields["reportId"]},
                  {"version", fields["version"]},
                  {"author", "dr.house"},
                  {"txId", fields["txId"]}};
    in.envelope = *envelope;
    in.recorded = verified->timestamp.ToRfc3339();
    in.endorser_msp = verified->endorsers[0].msp_id;
    in.endorser_name = verified->endorsers[0].common_name;
    in.home_msp = in.endorser_msp;
    provenance_ = ReportProvenance(in);
  }
  Status Verify(const json& p) {
    auto r = verifier::VerifyProvenanceSignature(p.dump(), trust_);
    return r.ok() ? OkStatus() : Status(r.error());
  }
  verifier::TrustSet trust_;
  json provenance_;
};

TEST_F(ProvenanceSignature, VerifiesWithTheOrganisationRoot) {
  auto st = Verify(provenance_);
  EXPECT_TRUE(st.ok()) << st.error().ToString();
}

TEST_F(ProvenanceSignature, EveryWrongPartFails) {
  struct Case {
    const char* name;
    std::function<void(json&)> tamper;
    const char* code;
  };
  auto flip = [](json& p, size_t at) {
    std::string raw = Base64Decode(p["signature"][0]["data"].get<std::string>()).value();
    raw[at % raw.size()] ^= 0x01;
    p["signature"][0]["data"] = Base64Encode(raw);
  };
  const std::vector<Case> cases = {
      {"signature value byte (signature)", [&](json& p) { flip(p, 0); }, nullptr},
      {"signature value byte (middle)", [&](json& p) { flip(p, 1500); }, nullptr},
      {"signature value byte (end)", [&](json& p) { flip(p, static_cast<size_t>(-3)); }, nullptr},
      {"other signer", [](json& p) { p["signature"][0]["who"]["identifier"]["value"] = "peer9"; },
       "provenance_mismatch"},
      {"other signer MSP",
       [](json& p) { p["signature"][0]["who"]["identifier"]["system"] = "urn:medledger:msp:Other"; },
       "provenance_mismatch"},
      {"other target version",
       [](json& p) {
         std::string t = p["target"][0]["reference"];
         p["target"][0]["reference"] = t.substr(0, t.rfind('/') + 1) + "2";
       },
       "provenance_mismatch"},
      {"other report", [](json& p) { p["target"][0]["reference"] = "DiagnosticReport/other/_history/1"; },
       "provenance_mismatch"},
      {"other transaction", [](json& p) { p["entity"][0]["what"]["identifier"]["value"] = std::string(64, 'a'); },
       "ledger_tx_id_mismatch"},
      {"other time", [](json& p) { p["signature"][0]["when"] = "2020-01-01T00:00:00Z"; }, "provenance_mismatch"},
      {"other format", [](json& p) { p["signature"][0]["sigFormat"] = "application/jose"; }, "provenance_malformed"},
      {"no signature", [](json& p) { p.erase("signature"); }, "provenance_malformed"},
      {"not base64", [](json& p) { p["signature"][0]["data"] = "%%%"; }, "provenance_malformed"},
  };
  for (const auto& c : cases) {
    json p = provenance_;
    c.tamper(p);
    auto st = Verify(p);
    ASSERT_FALSE(st.ok()) << c.name;
    if (c.code != nullptr) {
      EXPECT_EQ(st.error().code, c.code) << c.name << ": " << st.error().ToString();
    }
  }
}

// ---- AuditEvent (BALP)

json Event(const std::string& kind) {
  return {{"eventId", "e1"},       {"kind", kind},
          {"patientId", "p1"},     {"reportId", "r1"},
          {"consentId", "c1"},     {"actor", "dr.house"},
          {"actorRole", "doctor"}, {"timestamp", "2026-12-07T06:00:00.000Z"},
          {"txId", "t1"},          {"emergency", kind == "emergency"},
          {"purpose", "treatment"}};
}

TEST(FhirAuditEvent, EachKindHasItsBalpPattern) {
  struct Case {
    const char* kind;
    const char* profile;  // "" for none
    const char* interaction;
    const char* action;
    const char* data;  // the data entity's reference, "" for none
  };
  const Case cases[] = {
      {"read", "IHE.BasicAudit.PatientRead", "read", "R", "DiagnosticReport/r1"},
      {"emergency", "IHE.BasicAudit.PatientRead", "read", "R", "DiagnosticReport/r1"},
      {"lookup", "IHE.BasicAudit.PatientRead", "read", "R", "Patient/p1"},
      {"search", "IHE.BasicAudit.PatientQuery", "search-type", "E", ""},
      {"consent_granted", "IHE.BasicAudit.PatientCreate", "create", "C", "Consent/c1"},
      {"consent_revoked", "IHE.BasicAudit.PatientUpdate", "update", "U", "Consent/c1"},
      {"report_erased", "IHE.BasicAudit.PatientDelete", "delete", "D", "DiagnosticReport/r1"},
      {"user_enrolled", "", "", "E", ""},
  };
  for (const auto& c : cases) {
    json a = AccessEventToAuditEvent(Event(c.kind), "OrgMSP");
    EXPECT_EQ(a["resourceType"], "AuditEvent");
    EXPECT_EQ(a["type"]["code"], "rest");
    EXPECT_EQ(a["action"], c.action) << c.kind;
    if (*c.profile) {
      EXPECT_EQ(a["meta"]["profile"][0], std::string(kBalpBase) + c.profile) << c.kind;
      EXPECT_EQ(a["subtype"][0]["code"], c.interaction) << c.kind;
    } else {
      EXPECT_FALSE(a.contains("meta")) << c.kind;
    }
    EXPECT_EQ(a["subtype"].back()["system"], kAuditKindSystem);
    EXPECT_EQ(a["subtype"].back()["code"], c.kind);
    EXPECT_EQ(a["entity"][0]["what"]["reference"], "Patient/p1");
    EXPECT_EQ(a["entity"][0]["role"]["code"], "1");
    bool found = *c.data == 0;
    for (const auto& e : a["entity"]) found = found || e["what"].value("reference", "") == c.data;
    EXPECT_TRUE(found) << c.kind;
    // The user, organisation-qualified, is the requestor; client and server are not.
    EXPECT_EQ(a["agent"][2]["who"]["identifier"]["system"], "urn:medledger:msp:OrgMSP");
    EXPECT_EQ(a["agent"][2]["who"]["identifier"]["value"], "dr.house");
    EXPECT_TRUE(a["agent"][2]["requestor"].get<bool>());
    EXPECT_FALSE(a["agent"][0]["requestor"].get<bool>());
    EXPECT_EQ(a["recorded"], "2026-12-07T06:00:00.000Z");
  }
  json by_patient = Event("consent_granted");
  by_patient["actorRole"] = "patient";
  json granted = AccessEventToAuditEvent(by_patient, "OrgMSP");
  EXPECT_EQ(granted["agent"][2]["type"]["coding"][0]["code"], "AUT");
  EXPECT_EQ(granted["agent"][2]["type"]["coding"][1]["code"], "PAT");
  EXPECT_EQ(AccessEventToAuditEvent(Event("read"), "OrgMSP")["agent"][2]["type"]["coding"].size(), 1u);
  json e = AccessEventToAuditEvent(Event("emergency"), "OrgMSP");
  EXPECT_EQ(e["purposeOfEvent"][0]["coding"][0]["code"], "ETREAT");
  json r = AccessEventToAuditEvent(Event("read"), "OrgMSP");
  EXPECT_EQ(r["purposeOfEvent"][0]["coding"][0]["code"], "TREAT");
}

TEST(FhirAuditEvent, SearchCodingsMatchTokens) {
  json a = AccessEventToAuditEvent(Event("emergency"), "OrgMSP");
  auto parse = [](const std::string& q) { return ParseSearch(SearchResource::kAuditEvent, q, true); };
  auto matches = [&](const std::string& q) {
    auto p = parse(q);
    EXPECT_TRUE(p.ok()) << q;
    const auto& s = p.query;
    return SearchQuery::MatchesCodings(s.type, AuditTypeCodings(a)) &&
           SearchQuery::MatchesCodings(s.subtype, AuditSubtypeCodings(a)) &&
           SearchQuery::MatchesCodings(s.agent, AuditAgentCodings(a)) &&
           SearchQuery::MatchesDates(s.date, 1796623200000);  // 2026-12-07T06:00:00Z
  };
  EXPECT_TRUE(matches("type=rest"));
  EXPECT_TRUE(matches("type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest"));
  EXPECT_FALSE(matches("type=other|rest"));
  EXPECT_TRUE(matches("subtype=read"));
  EXPECT_TRUE(matches("subtype=urn:medledger:audit-kind|emergency"));
  EXPECT_TRUE(matches("subtype=delete,read"));
  EXPECT_FALSE(matches("subtype=read&subtype=delete"));
  EXPECT_TRUE(matches("agent=dr.house"));
  EXPECT_TRUE(matches("agent=OrgMSP|dr.house"));
  EXPECT_FALSE(matches("agent=OtherMSP|dr.house"));
  EXPECT_FALSE(matches("agent=alice"));
  EXPECT_TRUE(matches("date=2026-12-07&date=ge2026-12"));
  EXPECT_FALSE(matches("date=lt2026-12-07"));
  EXPECT_FALSE(parse("date=ap2026").ok());
  EXPECT_FALSE(parse("date=yesterday").ok());
}

// ---- Consent

json Grant() {
  return {{"consentId", "c1"},
          {"patientId", "p1"},
          {"doctor", "dr.house"},
          {"purposeCode", "treatment"},
          {"grantedAt", "2026-12-01T00:00:00.000Z"},
          {"expiresAt", "2027-01-01T00:00:00.000Z"},
          {"revoked", false}};
}

TEST(FhirConsent, GrantMapsToAPermitForTheDoctor) {
  json c = GrantToConsent(Grant(), "OrgMSP", "2026-12-07T00:00:00.000Z");
  EXPECT_EQ(c["resourceType"], "Consent");
  EXPECT_EQ(c["id"], "c1");
  EXPECT_EQ(c["status"], "active");
  EXPECT_EQ(c["scope"]["coding"][0]["code"], "patient-privacy");
  EXPECT_EQ(c["patient"]["reference"], "Patient/p1");
  EXPECT_EQ(c["dateTime"], "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(c["provision"]["type"], "permit");
  EXPECT_EQ(c["provision"]["period"]["end"], "2027-01-01T00:00:00.000Z");
  EXPECT_EQ(c["provision"]["actor"][0]["reference"]["identifier"]["value"], "dr.house");
  EXPECT_EQ(c["provision"]["actor"][0]["reference"]["identifier"]["system"], "urn:medledger:msp:OrgMSP");
  json revoked = Grant();
  revoked["revoked"] = true;
  EXPECT_EQ(GrantToConsent(revoked, "OrgMSP", "2026-12-07T00:00:00.000Z")["status"], "inactive");
  EXPECT_EQ(GrantToConsent(Grant(), "OrgMSP", "2027-02-01T00:00:00.000Z")["status"], "inactive");  // expired
}

TEST(FhirConsent, CreateInputAndItsIssues) {
  json c = GrantToConsent(Grant(), "OrgMSP", "2026-12-07T00:00:00.000Z");
  std::vector<service::FieldIssue> issues;
  ConsentInput in = ConsentToInput(c, &issues);
  EXPECT_TRUE(issues.empty());
  EXPECT_EQ(in.patient_id, "p1");
  EXPECT_EQ(in.doctor, "dr.house");
  EXPECT_EQ(in.purpose_code, "treatment");
  EXPECT_EQ(in.expires_at, "2027-01-01T00:00:00.000Z");
  EXPECT_EQ(in.status, "active");

  json no_purpose = c;
  no_purpose["provision"].erase("purpose");
  issues.clear();
  ConsentInput bare = ConsentToInput(no_purpose, &issues);
  EXPECT_TRUE(issues.empty());
  EXPECT_EQ(bare.purpose, "other");
  EXPECT_EQ(bare.purpose_code, "");

  json practitioner = c;
  practitioner["provision"]["actor"][0]["reference"] = {{"reference", "Practitioner/dr.grey"}};
  issues.clear();
  EXPECT_EQ(ConsentToInput(practitioner, &issues).doctor, "dr.grey");
  EXPECT_TRUE(issues.empty());

  struct Case {
    std::function<void(json&)> tamper;
    const char* field;
  };
  const Case cases[] = {
      {[](json& r) { r["resourceType"] = "Patient"; }, "Consent.resourceType"},
      {[](json& r) { r["patient"] = "p1"; }, "Consent.patient"},
      {[](json& r) { r.erase("patient"); }, "Consent.patient"},
      {[](json& r) { r["provision"]["type"] = "deny"; }, "Consent.provision.type"},
      {[](json& r) { r["provision"]["actor"] = json::array(); }, "Consent.provision.actor"},
      {[](json& r) { r["provision"]["period"]["end"] = 5; }, "Consent.provision.period.end"},
      {[](json& r) { r["provision"]["purpose"] = "x"; }, "Consent.provision.purpose"},
      {[](json& r) { r["status"] = json::array(); }, "Consent.status"},
  };
  for (const auto& k : cases) {
    json r = c;
    k.tamper(r);
    issues.clear();
    ConsentToInput(r, &issues);
    bool named = false;
    for (const auto& i : issues) named = named || i.field == k.field;
    EXPECT_TRUE(named) << k.field << " in " << r.dump();
  }
}

TEST(FhirSearch, Slice2ParametersAndTheirRequirements) {
  EXPECT_FALSE(ParseSearch(SearchResource::kProvenance, "", false).ok());
  EXPECT_FALSE(ParseSearch(SearchResource::kProvenance, "target=Patient/x", false).ok());
  auto p = ParseSearch(SearchResource::kProvenance, "target=DiagnosticReport/r1", false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.query.target, "r1");
  EXPECT_FALSE(ParseSearch(SearchResource::kConsent, "status=active", false).ok());  // patient required
  EXPECT_FALSE(ParseSearch(SearchResource::kConsent, "patient=p1&status=granted", false).ok());
  auto c = ParseSearch(SearchResource::kConsent, "patient=Patient/p1&status=active&actor=Practitioner/dr.house", false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.query.patient, "p1");
  EXPECT_EQ(c.query.actor[0][0], "dr.house");
  EXPECT_TRUE(c.query.MatchesStatus("active"));
  EXPECT_FALSE(c.query.MatchesStatus("inactive"));
  auto r = ParseSearch(SearchResource::kDiagnosticReport, "patient=p1&_revinclude=Provenance:target", false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.query.revinclude_provenance);
  EXPECT_FALSE(ParseSearch(SearchResource::kDiagnosticReport, "patient=p1&_revinclude=AuditEvent:x", true).ok());
  EXPECT_TRUE(ParseSearch(SearchResource::kAuditEvent, "", false).ok());  // the service decides who needs patient
}

// ---- No mapping throws

constexpr const char* kKeys[] = {"reportId", "version", "kind",    "patientId", "provision",  "actor",
                                 "period",   "end",     "patient", "reference", "identifier", "value"};

json RandomJson(std::mt19937_64& rng, int depth) {
  return testing::RandomJson(rng, depth, kKeys);
}

TEST(FhirSlice2, RandomShapesNeverThrow) {
  std::mt19937_64 rng(20261207);
  const json consent = GrantToConsent(Grant(), "M", "2026-12-07T00:00:00Z");
  const char* members[] = {"resourceType", "status", "patient", "provision", "id"};
  for (int i = 0; i < 10000; ++i) {
    json r = (i % 2) ? RandomJson(rng, 0) : consent;
    if (i % 2 == 0) {
      for (int k = static_cast<int>(rng() % 3) + 1; k > 0; --k) r[members[rng() % 5]] = RandomJson(rng, 1);
    }
    std::vector<service::FieldIssue> issues;
    ASSERT_NO_THROW(ConsentToInput(r, &issues)) << r.dump();
    for (const auto& issue : issues) ASSERT_EQ(issue.field.rfind("Consent", 0), 0u) << issue.field;
    ASSERT_NO_THROW(GrantToConsent(r, "M", "now").dump()) << r.dump();
    json a;
    ASSERT_NO_THROW(a = AccessEventToAuditEvent(r, "M")) << r.dump();
    ASSERT_NO_THROW(AuditTypeCodings(a));
    ASSERT_NO_THROW(AuditSubtypeCodings(r));
    ASSERT_NO_THROW(AuditAgentCodings(r));
    ProvenanceInput in;
    in.version = r;
    ASSERT_NO_THROW(ReportProvenance(in).dump()) << r.dump();
    ASSERT_NO_THROW((void)verifier::VerifyProvenanceSignature(r.dump(), verifier::TrustSet{})) << r.dump();
  }
}

}  // namespace
}  // namespace medledger::fhir
