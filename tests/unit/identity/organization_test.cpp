#include "identity/organization.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "crypto/random.h"
#include "crypto/x509.h"
#include "io/env.h"
#include "temp_dir.h"

namespace medledger::identity {
namespace {

using medledger::testing::TempDir;
namespace fs = std::filesystem;

unsigned Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

CreateOrganizationOptions FastOptions() {
  CreateOrganizationOptions o;
  o.password_cost = PasswordCost::Minimal();
  o.admin_password = "admin-password";
  return o;
}

OrganizationOptions FastOpen() {
  OrganizationOptions o;
  o.password_cost = PasswordCost::Minimal();
  return o;
}

class OrganizationTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  fs::path dir_ = tmp_.path() / "data";
  std::unique_ptr<Organization> org_ = Organization::Create(dir_, "St. Mary's Hospital", FastOptions()).value();
};

TEST(MspId, Sanitized) {
  EXPECT_EQ(MspIdForName("Hospital").value(), "HospitalMSP");
  EXPECT_EQ(MspIdForName("St. Mary's Hospital 2").value(), "StMarysHospital2MSP");
  EXPECT_EQ(MspIdForName("Hôpital").value(), "HpitalMSP");
  EXPECT_EQ(MspIdForName("!!!").error().code, "bad_org_name");
}

TEST_F(OrganizationTest, CreatesTheLayoutWithSafeModes) {
  EXPECT_EQ(org_->msp_id(), "StMarysHospitalMSP");
  EXPECT_EQ(org_->name(), "St. Mary's Hospital");
  EXPECT_EQ(Mode(dir_), 0700u);
  EXPECT_EQ(Mode(dir_ / "keys"), 0700u);
  EXPECT_EQ(Mode(dir_ / "wallet"), 0700u);
  EXPECT_EQ(Mode(dir_ / "keys" / "master.key"), 0600u);
  EXPECT_EQ(fs::file_size(dir_ / "keys" / "master.key"), 32u);
  EXPECT_EQ(Mode(dir_ / "users.json"), 0600u);
  for (const char* name : {"_ca", "_orderer", "_peer", "admin"}) {
    EXPECT_EQ(Mode(dir_ / "wallet" / (std::string(name) + ".id")), 0600u) << name;
  }
  EXPECT_TRUE(fs::exists(dir_ / "org.json"));
  auto on_disk = MasterKey::Load(dir_ / "keys" / "master.key").value();
  EXPECT_EQ(org_->master_key().Derive("x", "s").value(), on_disk.Derive("x", "s").value());
  EXPECT_TRUE(fs::exists(dir_ / "ca" / "ca-cert.pem"));
}

TEST_F(OrganizationTest, CaAndNodeIdentities) {
  const auto& ca = org_->ca_certificate();
  EXPECT_TRUE(ca.IsCa());
  EXPECT_TRUE(ca.IsIssuedBy(ca));
  EXPECT_EQ(ca.SubjectOrganization(), "St. Mary's Hospital");
  struct Node {
    const SigningIdentity& id;
    const char* ou;
  };
  for (const Node& node : {Node{org_->orderer(), "orderer"}, Node{org_->peer(), "peer"}}) {
    EXPECT_EQ(node.id.msp_id(), "StMarysHospitalMSP");
    EXPECT_TRUE(node.id.certificate().IsIssuedBy(ca));
    EXPECT_FALSE(node.id.certificate().IsCa());
    EXPECT_EQ(node.id.certificate().SubjectOrganizationalUnits(), std::vector<std::string>{node.ou});
    std::string sig = node.id.Sign("block").value();
    EXPECT_TRUE(node.id.certificate().PublicKey().Verify("block", sig));
    EXPECT_TRUE(org_->VerifyMember(node.id.certificate()).ok());
  }
  EXPECT_NE(org_->orderer().cert_pem(), org_->peer().cert_pem());
}

TEST_F(OrganizationTest, AdminUser) {
  auto admin = org_->users().GetUser("admin").value();
  EXPECT_EQ(admin.role, Role::kAdmin);
  EXPECT_TRUE(org_->users().VerifyPassword("admin", "admin-password").ok());
  auto id = org_->LoadIdentity("admin").value();
  EXPECT_EQ(id.certificate().SubjectCommonName(), "admin");
  EXPECT_EQ(id.certificate().SubjectOrganizationalUnits(), std::vector<std::string>{"admin"});
  EXPECT_EQ(id.certificate().FabricAttributes().value().at("role"), "admin");
}

TEST_F(OrganizationTest, EnrolledUserCarriesRoleInItsCertificate) {
  auto user = org_->AddUser({"dr.house", Role::kDoctor, "Gregory House", std::string("vicodin!")});
  ASSERT_TRUE(user.ok()) << user.error().ToString();
  EXPECT_EQ(user->display_name, "Gregory House");
  auto cert = crypto::Certificate::FromPem(user->cert_pem).value();
  EXPECT_EQ(cert.SubjectCommonName(), "dr.house");
  EXPECT_EQ(cert.SubjectOrganizationalUnits(), std::vector<std::string>{"client"});
  auto attrs = cert.FabricAttributes().value();
  EXPECT_EQ(attrs.at("role"), "doctor");
  EXPECT_EQ(attrs.at("hf.EnrollmentID"), "dr.house");
  EXPECT_EQ(attrs.at("hf.Type"), "client");
  EXPECT_TRUE(org_->VerifyMember(cert).ok());

  auto id = org_->LoadIdentity("dr.house").value();
  EXPECT_EQ(id.cert_pem(), user->cert_pem);
  auto creator = ParseSerializedIdentity(id.serialized()).value();
  EXPECT_EQ(creator.first, "StMarysHospitalMSP");
  EXPECT_EQ(creator.second, user->cert_pem);
  EXPECT_TRUE(cert.PublicKey().Verify("tx", id.Sign("tx").value()));

  EXPECT_EQ(org_->AddUser({"dr.house", Role::kPatient, "", std::nullopt}).error().code, "user_exists");
  EXPECT_EQ(org_->AddUser({"Dr House", Role::kDoctor, "", std::nullopt}).error().code, "bad_username");
  EXPECT_EQ(org_->AddUser({"p1", Role::kPatient, "", std::string("short")}).error().code, "weak_password");
  EXPECT_EQ(org_->LoadIdentity("nobody").error().code, "user_not_found");
}

TEST_F(OrganizationTest, ReopenSeesEverything) {
  ASSERT_TRUE(org_->AddUser({"pat", Role::kPatient, "", std::nullopt}).ok());
  std::string ca_pem = org_->ca_certificate().ToPem();
  std::string peer_pem = org_->peer().cert_pem();
  org_.reset();
  auto reopened = Organization::Open(dir_, FastOpen());
  ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
  auto& org = **reopened;
  EXPECT_EQ(org.ca_certificate().ToPem(), ca_pem);
  EXPECT_EQ(org.peer().cert_pem(), peer_pem);
  EXPECT_EQ(org.msp_id(), "StMarysHospitalMSP");
  EXPECT_EQ(org.LoadIdentity("pat").value().certificate().FabricAttributes().value().at("role"), "patient");
  // The reopened CA can still enroll users that chain to the same root.
  auto aud = org.AddUser({"aud", Role::kAuditor, "", std::nullopt}).value();
  EXPECT_TRUE(crypto::Certificate::FromPem(aud.cert_pem)->IsIssuedBy(org.ca_certificate()));
}

TEST_F(OrganizationTest, RefusesToReinitialise) {
  auto again = Organization::Create(dir_, "Other", FastOptions());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "data_dir_not_empty");
  fs::path stray = tmp_.path() / "stray";
  fs::create_directories(stray);
  std::ofstream(stray / "notes.txt") << "hello";
  EXPECT_EQ(Organization::Create(stray, "Other", FastOptions()).error().code, "data_dir_not_empty");
  fs::path empty = tmp_.path() / "empty";
  fs::create_directories(empty);
  EXPECT_TRUE(Organization::Create(empty, "Other", FastOptions()).ok());
}

TEST_F(OrganizationTest, DisabledUsersCannotSign) {
  ASSERT_TRUE(org_->AddUser({"doc", Role::kDoctor, "", std::nullopt}).ok());
  ASSERT_TRUE(org_->LoadIdentity("doc").ok());
  ASSERT_TRUE(org_->users().SetDisabled("doc", true).ok());
  EXPECT_EQ(org_->LoadIdentity("doc").error().code, "user_disabled");
}

TEST_F(OrganizationTest, WrongMasterKeyOrTamperedWalletFails) {
  ASSERT_TRUE(org_->AddUser({"doc", Role::kDoctor, "", std::nullopt}).ok());
  org_.reset();
  // Tampering with a user's wallet entry: the organisation opens, loading that user fails.
  fs::path entry = dir_ / "wallet" / "doc.id";
  std::string text = io::ReadFile(*io::Env::Default(), entry, 16 * 1024 * 1024).value();
  size_t pos = text.find("\"nonce\": \"") + 10;
  text[pos] = text[pos] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(io::WriteFileAtomic(*io::Env::Default(), entry, text).ok());
  auto org = Organization::Open(dir_, FastOpen()).value();
  EXPECT_EQ(org->LoadIdentity("doc").error().code, "wallet_decrypt_failed");
  org.reset();
  // A different master key: nothing in the wallet opens, so neither does the organisation.
  fs::path key = dir_ / "keys" / "master.key";
  ASSERT_TRUE(io::WriteFileAtomic(*io::Env::Default(), key, crypto::RandomBytes(32)).ok());
  EXPECT_EQ(Organization::Open(dir_, FastOpen()).error().code, "wallet_decrypt_failed");
}

TEST_F(OrganizationTest, ForeignCertificatesAreNotMembers) {
  fs::path other_dir = tmp_.path() / "other";
  auto other = Organization::Create(other_dir, "Other Clinic", FastOptions()).value();
  auto stranger = other->AddUser({"doc", Role::kDoctor, "", std::nullopt}).value();
  auto cert = crypto::Certificate::FromPem(stranger.cert_pem).value();
  EXPECT_EQ(org_->VerifyMember(cert).error().code, "cert_wrong_issuer");
  EXPECT_EQ(org_->VerifyMember(other->peer().certificate()).error().code, "cert_wrong_issuer");
}

TEST_F(OrganizationTest, ConcurrentEnrollmentFromTwoInstances) {
  auto second = Organization::Open(dir_, FastOpen()).value();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Organization& org = t % 2 == 0 ? *org_ : *second;
      for (int i = 0; i < 5; ++i) {
        if (!org.AddUser({"u" + std::to_string(t) + "x" + std::to_string(i), Role::kPatient, "", std::nullopt}).ok()) {
          failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(org_->users().ListUsers().size(), 21u);  // 20 + admin
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 5; ++i) {
      std::string name = "u" + std::to_string(t) + "x" + std::to_string(i);
      auto a = org_->LoadIdentity(name);
      auto b = second->LoadIdentity(name);
      ASSERT_TRUE(a.ok() && b.ok()) << name;
      EXPECT_EQ(a->cert_pem(), b->cert_pem());
    }
  }
}

TEST(OrganizationErrors, BadNamesAndMissingDirs) {
  TempDir tmp;
  EXPECT_EQ(Organization::Create(tmp.path() / "a", "", FastOptions()).error().code, "bad_org_name");
  EXPECT_EQ(Organization::Create(tmp.path() / "b", "???", FastOptions()).error().code, "bad_org_name");
  EXPECT_EQ(Organization::Create(tmp.path() / "c", "Bad\nName", FastOptions()).error().code, "bad_org_name");
  EXPECT_EQ(Organization::Create(tmp.path() / "d", std::string(65, 'a'), FastOptions()).error().code, "bad_org_name");
  EXPECT_EQ(Organization::Open(tmp.path() / "none", FastOpen()).error().code, "org_not_found");
  EXPECT_FALSE(fs::exists(tmp.path() / "a"));  // validation happens before anything is created
}

// Identities enrolled by another CA (a Fabric CA) join the wallet as they are, only when everything checks.
TEST_F(OrganizationTest, ImportsExternallyEnrolledIdentitiesAndRefusesBadOnes) {
  auto fabric_ca_key = crypto::EcPrivateKey::Generate().value();
  crypto::CertificateRequest ca_req;
  ca_req.common_name = "fabric-ca.hospital";
  ca_req.organization = "Hospital";
  ca_req.is_ca = true;
  auto fabric_ca = crypto::IssueCertificate(ca_req, fabric_ca_key.PublicKey(), fabric_ca_key, nullptr).value();
  auto enroll = [&](const std::string& cn, std::map<std::string, std::string> attrs, const crypto::EcPrivateKey& key) {
    crypto::CertificateRequest req;
    req.common_name = cn;
    req.organization = "Hospital";
    req.organizational_units = {"client"};
    req.attributes = std::move(attrs);
    return crypto::IssueCertificate(req, key.PublicKey(), fabric_ca_key, &fabric_ca).value();
  };
  auto key = crypto::EcPrivateKey::Generate().value();
  auto cert = enroll("dr.cuddy", {{"role", "doctor"}, {"hf.EnrollmentID", "dr.cuddy"}}, key);
  ImportedUser in{"dr.cuddy", cert.ToPem(), key.ToPem(), fabric_ca.ToPem(), "Dr. Lisa Cuddy", "cuddy-password-1"};

  // Without naming the issuing CA, a foreign certificate is not trusted.
  ImportedUser untrusted = in;
  untrusted.issuer_ca_pem.clear();
  EXPECT_EQ(org_->ImportUser(untrusted).error().code, "untrusted_certificate");
  ImportedUser wrong_key = in;
  wrong_key.key_pem = crypto::EcPrivateKey::Generate().value().ToPem();
  EXPECT_EQ(org_->ImportUser(wrong_key).error().code, "key_mismatch");
  ImportedUser wrong_name = in;
  wrong_name.username = "dr.house2";
  EXPECT_EQ(org_->ImportUser(wrong_name).error().code, "username_mismatch");
  auto no_role_key = crypto::EcPrivateKey::Generate().value();
  ImportedUser no_role{
      "nurse.x", enroll("nurse.x", {}, no_role_key).ToPem(), no_role_key.ToPem(), fabric_ca.ToPem(), "", std::nullopt};
  EXPECT_EQ(org_->ImportUser(no_role).error().code, "role_attribute_missing");
  ImportedUser garbage = in;
  garbage.cert_pem = "not a certificate";
  EXPECT_EQ(org_->ImportUser(garbage).error().code, "invalid_certificate");
  EXPECT_FALSE(org_->users().GetUser("dr.cuddy").ok()) << "a refused import stores nothing";

  auto user = org_->ImportUser(in);
  ASSERT_TRUE(user.ok()) << user.error().ToString();
  EXPECT_EQ(user->role, Role::kDoctor);
  EXPECT_EQ(user->display_name, "Dr. Lisa Cuddy");
  EXPECT_TRUE(org_->users().VerifyPassword("dr.cuddy", "cuddy-password-1").ok());
  EXPECT_EQ(org_->ImportUser(in).error().code, "user_exists");
  // The wallet gives back the same certificate and a key that signs for it, also after reopening.
  org_.reset();
  auto reopened = Organization::Open(dir_, {PasswordCost::Minimal()}).value();
  auto identity = reopened->LoadIdentity("dr.cuddy").value();
  EXPECT_EQ(identity.cert_pem(), cert.ToPem());
  auto sig = identity.Sign("proposal bytes").value();
  EXPECT_TRUE(cert.PublicKey().Verify("proposal bytes", sig));
}

}  // namespace
}  // namespace medledger::identity
