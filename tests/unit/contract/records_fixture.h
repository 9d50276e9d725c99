// Shared set-up for the records contract tests: one organisation CA, users of every role (plus broken
// identities), a FakeStub, and helpers that run one function as one transaction and commit it on success.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "contract/records_contract.h"
#include "crypto/hash.h"
#include "crypto/x509.h"
#include "fake_stub.h"

namespace medledger::contract::testing {

using json = nlohmann::json;

struct User {
  Creator creator;
  std::string id;  // "<msp>/<CN>"
};

// Certificates are issued once per test binary: key generation and signing are the slow part.
class Identities {
 public:
  static const Identities& Get() {
    static const Identities* instance = new Identities();  // intentionally leaked test fixture
    return *instance;
  }
  const User& operator[](const std::string& name) const { return users_.at(name); }

  // A certificate for `cn` with the given attributes, issued by the Org1 CA.
  std::string Issue(const std::string& cn, std::map<std::string, std::string> attrs) const {
    auto key = crypto::EcPrivateKey::Generate();
    EXPECT_TRUE(key.ok());
    crypto::CertificateRequest req;
    req.common_name = cn;
    req.organization = "Org1";
    req.organizational_units = {"client"};
    req.attributes = std::move(attrs);
    auto cert = crypto::IssueCertificate(req, key->PublicKey(), ca_key_, &ca_cert_);
    EXPECT_TRUE(cert.ok()) << (cert.ok() ? "" : cert.error().ToString());
    return cert->ToPem();
  }

 private:
  Identities()
      : ca_key_(crypto::EcPrivateKey::Generate().value()),
        ca_cert_(crypto::IssueCertificate(
                     crypto::CertificateRequest{"ca.org1", "Org1", {}, {}, true, std::chrono::hours(24 * 3650)},
                     ca_key_.PublicKey(), ca_key_, nullptr)
                     .value()) {
    auto add = [&](const std::string& name, const std::string& msp, const std::string& cn,
                   std::map<std::string, std::string> attrs) {
      users_[name] = User{Creator{msp, Issue(cn, std::move(attrs))}, msp + "/" + cn};
    };
    add("admin", "Org1MSP", "admin1", {{"role", "admin"}});
    add("admin2", "Org1MSP", "admin2", {{"role", "admin"}});  // a second administrator (two-person rule)
    add("doctor", "Org1MSP", "drhouse", {{"role", "doctor"}});
    add("doctor2", "Org1MSP", "drwho", {{"role", "doctor"}});
    add("doctor3", "Org1MSP", "drstrange", {{"role", "doctor"}});
    add("alice", "Org1MSP", "alice", {{"role", "patient"}});
    add("bob", "Org1MSP", "bob", {{"role", "patient"}});
    add("carol", "Org1MSP", "carol", {{"role", "patient"}});  // a patient login linked to no record
    add("auditor", "Org1MSP", "audit1", {{"role", "auditor"}});
    add("service", "Org1MSP", "medledger-log", {{"role", "service"}});        // the report log's anchoring identity
    add("other_doctor", "Org2MSP", "drhouse", {{"role", "doctor"}});          // same CN, another organisation
    add("other_service", "Org2MSP", "medledger-log", {{"role", "service"}});  // another hospital's key service
    add("no_role", "Org1MSP", "norole", {{"dept", "cardiology"}});
    add("no_attrs", "Org1MSP", "noattrs", {});
    add("nurse", "Org1MSP", "nurse1", {{"role", "nurse"}});
    add("bad_cn", "Org1MSP", "bad/cn name", {{"role", "doctor"}});
    users_["bad_pem"] = User{Creator{"Org1MSP", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, ""};
    users_["no_msp"] = User{Creator{"", users_["doctor"].creator.cert_pem}, ""};
  }

  crypto::EcPrivateKey ca_key_;
  crypto::Certificate ca_cert_;
  std::map<std::string, User> users_;
};

inline const std::string kPatientA = HexEncode(crypto::Sha256("patient-A"));  // alice's record
inline const std::string kPatientB = HexEncode(crypto::Sha256("patient-B"));  // bob's record
inline const std::string kPatientC = HexEncode(crypto::Sha256("patient-C"));  // no login
inline const std::string kCid1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
inline const std::string kCid2 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
inline const std::string kHash1 = HexEncode(crypto::Sha256("report v1"));
inline const std::string kHash2 = HexEncode(crypto::Sha256("report v2"));

// The contract, a fake ledger and a clock; usable inside and outside a gtest fixture.
// prefix + number, by append (GCC 12 -O3 reports a false -Wrestrict for "literal" + std::string&&).
inline std::string Numbered(std::string prefix, uint64_t n) {
  return prefix.append(std::to_string(n));
}

class Harness {
 public:
  Harness() : now_(Timestamp::FromRfc3339("2026-06-01T08:00:00Z").value()) {}

  const User& U(const std::string& name) { return Identities::Get()[name]; }

  // Runs one transaction; commits its writes when the function succeeded (a failed proposal is never
  // ordered, so it leaves no trace).
  Response Call(const std::string& user, std::string_view fn, const std::string& arg) {
    return CallAs(U(user).creator, fn, arg);
  }
  Response Call(const std::string& user, std::string_view fn, const json& arg) { return Call(user, fn, arg.dump()); }
  Response CallAs(const Creator& creator, std::string_view fn, const std::string& arg) {
    last_tx_ = NextTxId();
    stub_.Begin(creator, last_tx_, now_);
    Response r = contract_->Invoke(stub_, fn, {arg});
    if (r.status == 200) stub_.Commit();
    return r;
  }
  // Calls that must succeed; returns the parsed payload.
  json Ok(const std::string& user, std::string_view fn, const json& arg) {
    Response r = Call(user, fn, arg);
    EXPECT_EQ(r.status, 200) << fn << " as " << user << ": " << r.message;
    json j = json::parse(r.payload, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.payload;
    return j;
  }
  // The stable code of an error response ("code: text" -> "code").
  static std::string Code(const Response& r) { return r.message.substr(0, r.message.find(':')); }

  std::string NextTxId() {
    char buf[80];
    std::snprintf(buf, sizeof buf, "%064llx", static_cast<unsigned long long>(++tx_counter_));
    return buf;
  }
  void Advance(int64_t seconds) { now_.seconds += seconds; }
  static std::string Rfc3339(Timestamp t) { return t.ToRfc3339(); }
  Timestamp In(int64_t seconds) const { return Timestamp{now_.seconds + seconds, now_.nanos}; }

  // alice -> patient A, bob -> patient B, patient C without a login.
  void RegisterPatients() {
    Ok("admin", "RegisterPatient", {{"patientRef", kPatientA}, {"login", "alice"}});
    Ok("admin", "RegisterPatient", {{"patientRef", kPatientB}, {"login", "bob"}});
    Ok("admin", "RegisterPatient", {{"patientRef", kPatientC}});
  }
  json CreateArgs(const std::string& id, const std::string& ref) {
    return {{"reportId", id},
            {"patientRef", ref},
            {"cid", kCid1},
            {"contentHash", kHash1},
            {"metadata", {{"title", "Chest X-ray"}, {"contentType", "application/json"}, {"size", 1234}}}};
  }
  json CreateReport(const std::string& doctor, const std::string& id, const std::string& ref) {
    return Ok(doctor, "CreateReport", CreateArgs(id, ref));
  }
  json Grant(const std::string& patient, const std::string& ref, const std::string& doctor_id, int64_t seconds) {
    return Ok(
        patient, "GrantAccess",
        {{"patientRef", ref}, {"doctor", doctor_id}, {"purpose", "treatment"}, {"expiresAt", Rfc3339(In(seconds))}});
  }

  FakeStub stub_;
  std::unique_ptr<Contract> contract_ = NewRecordsContract();
  Timestamp now_;
  std::string last_tx_;
  uint64_t tx_counter_ = 0;
};

class RecordsTest : public ::testing::Test, public Harness {};

}  // namespace medledger::contract::testing
