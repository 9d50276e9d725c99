#include "consortium/consortium_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "temp_dir.h"

namespace medledger::consortium {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

json ValidDoc() {
  return json::parse(R"({"self": "HospitalAMSP",
 "listen": "127.0.0.1:29443",
 "tlsCertFile": "tls/server.crt", "tlsKeyFile": "tls/server.key",
 "replicationFactor": 2,
 "members": [
   {"mspId": "HospitalAMSP", "displayName": "Hospital A", "tlsCaFile": "../HospitalA/tls/ca.crt",
    "url": "https://127.0.0.1:29443"},
   {"mspId": "HospitalBMSP", "displayName": "Hospital B", "tlsCaFile": "../HospitalB/tls/ca.crt",
    "url": "https://127.0.0.1:29543"}]})");
}

std::string CodeOf(const json& doc) {
  auto r = ParseConsortiumConfig(doc.dump(), "/etc/medledger/HospitalA");
  return r.ok() ? "ok" : r.error().code + ": " + r.error().message;
}

TEST(ConsortiumConfig, TheDocumentedExampleParses) {
  auto c = ParseConsortiumConfig(ValidDoc().dump(), "/etc/medledger/HospitalA");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->self, "HospitalAMSP");
  EXPECT_EQ(c->listen, "127.0.0.1:29443");
  EXPECT_EQ(c->tls_cert_file, "/etc/medledger/HospitalA/tls/server.crt");
  EXPECT_EQ(c->tls_key_file, "/etc/medledger/HospitalA/tls/server.key");
  EXPECT_EQ(c->replication_factor, 2);
  ASSERT_EQ(c->members.size(), 2u);
  EXPECT_EQ(c->members[1].msp_id, "HospitalBMSP");
  EXPECT_EQ(c->members[1].display_name, "Hospital B");
  EXPECT_EQ(c->members[1].tls_ca_file, "/etc/medledger/HospitalB/tls/ca.crt");
  EXPECT_EQ(c->members[1].url, "https://127.0.0.1:29543");
  EXPECT_EQ(c->Find("HospitalBMSP"), &c->members[1]);
  EXPECT_EQ(c->Find("HospitalCMSP"), nullptr);
  // Absolute paths stay as written.
  json doc = ValidDoc();
  doc["tlsCertFile"] = "/srv/tls/server.crt";
  EXPECT_EQ(ParseConsortiumConfig(doc.dump(), "/x")->tls_cert_file, "/srv/tls/server.crt");
}

TEST(ConsortiumConfig, EveryDeviationIsRefused) {
  auto refused = [](const json& doc) {
    auto r = ParseConsortiumConfig(doc.dump(), "/d");
    return !r.ok() && r.error().code == "consortium_config_invalid";
  };
  auto with = [](auto edit) {
    json d = ValidDoc();
    edit(d);
    return d;
  };
  EXPECT_EQ(CodeOf(ValidDoc()), "ok");
  EXPECT_TRUE(refused(with([](json& d) { d["extra"] = 1; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][0]["role"] = "x"; })));
  EXPECT_TRUE(refused(with([](json& d) { d.erase("listen"); })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1].erase("url"); })));
  EXPECT_TRUE(refused(with([](json& d) { d["self"] = "HospitalCMSP"; })));  // not a member
  EXPECT_TRUE(refused(with([](json& d) { d["self"] = "Hospital A"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["mspId"] = "Hospital/B"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["mspId"] = "HospitalAMSP"; })));  // repeated
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["url"] = "http://127.0.0.1:29543"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["url"] = "https://127.0.0.1:29543/peer"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["url"] = "https://user@127.0.0.1:29543"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["url"] = "https://127.0.0.1:0"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["url"] = "https://127.0.0.1:29443"; })));  // repeated
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["displayName"] = ""; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["displayName"] = "A\nB"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["tlsCaFile"] = ""; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"][1]["tlsCaFile"] = 7; })));
  EXPECT_TRUE(refused(with([](json& d) { d["replicationFactor"] = 0; })));
  EXPECT_TRUE(refused(with([](json& d) { d["replicationFactor"] = 3; })));
  EXPECT_TRUE(refused(with([](json& d) { d["replicationFactor"] = 1.5; })));
  EXPECT_TRUE(refused(with([](json& d) { d["replicationFactor"] = "2"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["listen"] = "127.0.0.1"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["listen"] = "127.0.0.1:99999"; })));
  EXPECT_TRUE(refused(with([](json& d) { d["members"] = json::array(); })));
  EXPECT_TRUE(refused(json::array()));
  EXPECT_EQ(ParseConsortiumConfig("{", "/d").error().code, "consortium_config_invalid");
  EXPECT_EQ(ParseConsortiumConfig(R"({"self":"a","self":"b"})", "/d").error().code, "consortium_config_invalid");
  // Accepted variants.
  EXPECT_EQ(CodeOf(with([](json& d) { d["listen"] = "[::1]:29443"; })), "ok");
  EXPECT_EQ(CodeOf(with([](json& d) { d["members"][1]["url"] = "https://hospital-b.example.org"; })), "ok");
  EXPECT_EQ(CodeOf(with([](json& d) { d["replicationFactor"] = 1; })), "ok");
}

TEST(ConsortiumConfig, MemberCountAndSizeAreBounded) {
  json doc = ValidDoc();
  for (int i = 0; i < 63; ++i) {
    doc["members"].push_back({{"mspId", "M" + std::to_string(i)},
                              {"displayName", "m"},
                              {"tlsCaFile", "ca.crt"},
                              {"url", "https://m" + std::to_string(i) + ".example"}});
  }
  EXPECT_FALSE(ParseConsortiumConfig(doc.dump(), "/d").ok());  // 65 members
  doc["members"].erase(doc["members"].size() - 1);
  EXPECT_TRUE(ParseConsortiumConfig(doc.dump(), "/d").ok());  // 64
  EXPECT_FALSE(ParseConsortiumConfig(std::string(kMaxConfigBytes + 1, ' '), "/d").ok());
}

// ---- files, CAs and client certificates ----

struct Ca {
  crypto::EcPrivateKey key = crypto::EcPrivateKey::Generate().value();
  crypto::Certificate cert;
  explicit Ca(const std::string& name)
      : cert(crypto::IssueCertificate({"tlsca." + name, name, {}, {}, true, std::chrono::hours(48)}, key.PublicKey(),
                                      key, nullptr)
                 .value()) {}
  crypto::Certificate Issue(const std::string& cn, std::chrono::hours validity = std::chrono::hours(24)) const {
    auto leaf_key = crypto::EcPrivateKey::Generate().value();
    return crypto::IssueCertificate({cn, "org", {}, {}, false, validity}, leaf_key.PublicKey(), key, &cert).value();
  }
};

class ConsortiumFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() / "HospitalA");
    Write("HospitalA/ca.crt", a_.cert.ToPem());
    Write("HospitalB/ca.crt", b_.cert.ToPem());
  }
  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir_.path() / rel).parent_path());
    std::ofstream(dir_.Sub(rel)) << text;
  }
  std::string WriteConfig(json doc) {
    doc["members"][0]["tlsCaFile"] = "ca.crt";
    doc["members"][1]["tlsCaFile"] = "../HospitalB/ca.crt";
    Write("HospitalA/consortium.json", doc.dump());
    return dir_.Sub("HospitalA/consortium.json");
  }

  testing::TempDir dir_{"medledger-consortium"};
  Ca a_{"A"}, b_{"B"}, stranger_{"X"};
};

TEST_F(ConsortiumFiles, LoadsTheCasOfEveryMember) {
  auto c = LoadConsortiumConfig(WriteConfig(ValidDoc()), "HospitalAMSP");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ASSERT_EQ(c->members[1].tls_cas.size(), 1u);
  EXPECT_EQ(c->members[1].tls_cas[0], b_.cert);
  EXPECT_EQ(c->members[0].tls_ca_file, dir_.Sub("HospitalA/ca.crt"));
  EXPECT_EQ(c->ClientCaBundlePem(), a_.cert.ToPem() + b_.cert.ToPem());
  EXPECT_EQ(c->members[1].tls_ca_file, dir_.Sub("HospitalB/ca.crt"));
}

TEST_F(ConsortiumFiles, RefusesWhatWouldConfuseMembers) {
  const std::string path = WriteConfig(ValidDoc());
  EXPECT_EQ(LoadConsortiumConfig(path, "HospitalBMSP").error().code, "consortium_config_invalid");  // not self
  EXPECT_EQ(LoadConsortiumConfig(dir_.Sub("none.json"), "HospitalAMSP").error().code, "consortium_config_unreadable");
  Write("HospitalB/ca.crt", a_.cert.ToPem());  // one CA for two members
  EXPECT_EQ(LoadConsortiumConfig(path, "HospitalAMSP").error().code, "consortium_config_invalid");
  Write("HospitalB/ca.crt", b_.Issue("not-a-ca").ToPem());
  EXPECT_EQ(LoadConsortiumConfig(path, "HospitalAMSP").error().code, "consortium_config_invalid");
  Write("HospitalB/ca.crt", "");
  EXPECT_EQ(LoadConsortiumConfig(path, "HospitalAMSP").error().code, "consortium_config_invalid");
  Write("HospitalB/ca.crt", b_.cert.ToPem() + "trailing text");
  EXPECT_EQ(LoadConsortiumConfig(path, "HospitalAMSP").error().code, "consortium_config_invalid");
  std::filesystem::remove(dir_.Sub("HospitalB/ca.crt"));
  EXPECT_EQ(LoadConsortiumConfig(path, "HospitalAMSP").error().code, "consortium_config_unreadable");
}

TEST_F(ConsortiumFiles, TheIssuingCaNamesTheMember) {
  auto c = LoadConsortiumConfig(WriteConfig(ValidDoc()), "HospitalAMSP").value();
  const auto now = Clock::now();
  auto member = [&](const std::string& chain) {
    auto r = MemberForClientCertificate(c, chain, now);
    return r.ok() ? *r : r.error().code;
  };
  EXPECT_EQ(member(b_.Issue("server.b").ToPem() + b_.cert.ToPem()), "HospitalBMSP");
  EXPECT_EQ(member(a_.Issue("server.a").ToPem() + a_.cert.ToPem()), "HospitalAMSP");
  EXPECT_EQ(member(stranger_.Issue("x").ToPem() + stranger_.cert.ToPem()), "not_a_member");
  EXPECT_EQ(member(""), "client_certificate_required");
  EXPECT_EQ(member("garbage"), "client_certificate_invalid");
  EXPECT_EQ(member(b_.Issue("server.b").ToPem()), "client_certificate_invalid");  // no issuer in the chain
  // A leaf of the stranger presented with B's CA: the link does not verify.
  EXPECT_EQ(member(stranger_.Issue("x").ToPem() + b_.cert.ToPem()), "client_certificate_invalid");
  // Expired by the time of the request.
  auto r = MemberForClientCertificate(c, b_.Issue("server.b").ToPem() + b_.cert.ToPem(), now + std::chrono::hours(30));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "client_certificate_invalid");
}

TEST(PemBundle, ParsesInOrderAndRefusesJunk) {
  Ca a("A"), b("B");
  auto two = ParsePemBundle(a.cert.ToPem() + "\n" + b.cert.ToPem(), 4);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0], a.cert);
  EXPECT_EQ((*two)[1], b.cert);
  EXPECT_EQ(ParsePemBundle(a.cert.ToPem() + b.cert.ToPem(), 1).error().code, "bad_certificate");
  EXPECT_EQ(ParsePemBundle("x" + a.cert.ToPem(), 4).error().code, "bad_certificate");
  EXPECT_EQ(ParsePemBundle("-----BEGIN CERTIFICATE-----\nAAAA\n", 4).error().code, "bad_certificate");
  EXPECT_TRUE(ParsePemBundle("", 4)->empty());
}

}  // namespace
}  // namespace medledger::consortium
