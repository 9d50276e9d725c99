#include "identity/wallet.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "crypto/random.h"
#include "io/env.h"
#include "temp_dir.h"

namespace medledger::identity {
namespace {

using medledger::testing::TempDir;

SigningIdentity MakeIdentity(const std::string& cn) {
  auto ca_key = crypto::EcPrivateKey::Generate().value();
  auto ca = crypto::IssueCertificate({.common_name = "ca", .organization = "H", .is_ca = true}, ca_key.PublicKey(),
                                     ca_key, nullptr)
                .value();
  auto key = crypto::EcPrivateKey::Generate().value();
  auto cert = crypto::IssueCertificate({.common_name = cn, .organization = "H"}, key.PublicKey(), ca_key, &ca).value();
  return SigningIdentity("HMSP", cert, key);
}

unsigned Mode(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 0777;
}

class WalletTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string master_ = crypto::RandomBytes(32);
  Wallet wallet_{dir_.path(), MasterKey::FromBytes(master_)};
  SigningIdentity alice_ = MakeIdentity("alice");
};

TEST_F(WalletTest, RoundTrip) {
  ASSERT_TRUE(wallet_.Put("alice", alice_).ok());
  auto loaded = wallet_.Load("alice");
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(loaded->msp_id(), "HMSP");
  EXPECT_EQ(loaded->cert_pem(), alice_.cert_pem());
  EXPECT_EQ(loaded->serialized(), alice_.serialized());
  EXPECT_TRUE(loaded->private_key().PublicKey() == alice_.private_key().PublicKey());
  EXPECT_TRUE(alice_.certificate().PublicKey().Verify("m", loaded->Sign("m").value()));
  EXPECT_TRUE(wallet_.Contains("alice"));
  EXPECT_FALSE(wallet_.Contains("bob"));
  EXPECT_EQ(wallet_.List(), std::vector<std::string>{"alice"});
  EXPECT_EQ(Mode(wallet_.PathFor("alice")), 0600u);
}

TEST_F(WalletTest, PrivateKeyIsNotStoredInClear) {
  ASSERT_TRUE(wallet_.Put("alice", alice_).ok());
  std::string file = io::ReadFile(*io::Env::Default(), wallet_.PathFor("alice"), 16 * 1024 * 1024).value();
  EXPECT_EQ(file.find("PRIVATE KEY"), std::string::npos);
  std::string pem = alice_.private_key().ToPem();
  // The base64 body of the PKCS#8 key must not appear either.
  std::string body_line = pem.substr(pem.find('\n') + 1, 40);
  EXPECT_EQ(file.find(body_line), std::string::npos);
}

TEST_F(WalletTest, EveryByteFlipIsDetected) {
  std::string file = wallet_.Seal("alice", alice_).value();
  ASSERT_TRUE(wallet_.Open("alice", file).ok());
  for (size_t i = 0; i < file.size(); ++i) {
    std::string t = file;
    t[i] = static_cast<char>(t[i] ^ 0x01);
    auto r = wallet_.Open("alice", t);
    ASSERT_FALSE(r.ok()) << "flip at " << i << " ('" << file[i] << "') went unnoticed";
    EXPECT_TRUE(r.error().code == "wallet_corrupt" || r.error().code == "wallet_decrypt_failed") << r.error().code;
  }
}

TEST_F(WalletTest, TamperedFileOnDiskFailsToLoad) {
  ASSERT_TRUE(wallet_.Put("alice", alice_).ok());
  std::string file = io::ReadFile(*io::Env::Default(), wallet_.PathFor("alice"), 16 * 1024 * 1024).value();
  size_t pos = file.find("\"sealed_key\": \"") + 20;
  file[pos] = file[pos] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(io::WriteFileAtomic(*io::Env::Default(), wallet_.PathFor("alice"), file).ok());
  EXPECT_EQ(wallet_.Load("alice").error().code, "wallet_decrypt_failed");
}

TEST_F(WalletTest, WrongMasterKeyFails) {
  ASSERT_TRUE(wallet_.Put("alice", alice_).ok());
  std::string other = master_;
  other[5] ^= 0x40;
  Wallet wrong(dir_.path(), MasterKey::FromBytes(other));
  EXPECT_EQ(wrong.Load("alice").error().code, "wallet_decrypt_failed");
}

TEST_F(WalletTest, EntriesCannotBeRenamedOrSwapped) {
  SigningIdentity bob = MakeIdentity("bob");
  ASSERT_TRUE(wallet_.Put("alice", alice_).ok());
  ASSERT_TRUE(wallet_.Put("bob", bob).ok());
  // Copying bob's file over alice's: the stored name no longer matches.
  std::string bob_file = io::ReadFile(*io::Env::Default(), wallet_.PathFor("bob"), 16 * 1024 * 1024).value();
  EXPECT_EQ(wallet_.Open("alice", bob_file).error().code, "wallet_corrupt");
  // Editing the name inside too: the AAD binds the name, so authentication fails.
  std::string renamed = bob_file;
  renamed.replace(renamed.find("\"name\": \"bob\""), 13, "\"name\": \"alice\"");
  EXPECT_EQ(wallet_.Open("alice", renamed).error().code, "wallet_decrypt_failed");
  // Pasting alice's certificate into bob's entry: the AAD binds the certificate as well.
  std::string swapped = bob_file;
  size_t start = swapped.find("-----BEGIN CERTIFICATE-----");
  size_t end = swapped.find("-----END CERTIFICATE-----") + 25;
  std::string alice_cert_escaped = alice_.cert_pem();
  std::string escaped;
  for (char c : alice_cert_escaped) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  escaped = escaped.substr(0, escaped.size() - 2);  // without the trailing "\n" already in the file
  swapped.replace(start, end - start, escaped);
  EXPECT_EQ(wallet_.Open("bob", swapped).error().code, "wallet_decrypt_failed");
}

TEST_F(WalletTest, BadNamesAndMissingEntries) {
  EXPECT_EQ(wallet_.Load("nobody").error().code, "wallet_entry_missing");
  for (const char* name : {"", "../x", "Alice", "a/b", ".hidden", "-x", "a b"}) {
    EXPECT_EQ(wallet_.Put(name, alice_).error().code, "bad_identity_name") << name;
    EXPECT_EQ(wallet_.Load(name).error().code, "bad_identity_name") << name;
  }
  EXPECT_EQ(wallet_.Put(std::string(65, 'a'), alice_).error().code, "bad_identity_name");
  EXPECT_TRUE(wallet_.Put("_peer", alice_).ok());
  EXPECT_TRUE(wallet_.Put("a.b-c_d", alice_).ok());
}

TEST(MasterKey, CreateLoadModesAndRefusals) {
  TempDir dir;
  auto path = dir.path() / "master.key";
  auto created = MasterKey::Create(path);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(std::filesystem::file_size(path), 32u);
  EXPECT_EQ(MasterKey::Create(path).error().code, "already_exists");  // never overwritten
  auto loaded = MasterKey::Load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Derive("p", "salt").value(), created->Derive("p", "salt").value());
  EXPECT_NE(loaded->Derive("p", "salt").value(), loaded->Derive("q", "salt").value());
  EXPECT_NE(loaded->Derive("p", "salt").value(), loaded->Derive("p", "salu").value());
  ::chmod(path.c_str(), 0644);
  EXPECT_EQ(MasterKey::Load(path).error().code, "master_key_insecure");
  ::chmod(path.c_str(), 0600);
  ASSERT_TRUE(io::WriteFileAtomic(*io::Env::Default(), path, "short").ok());
  EXPECT_EQ(MasterKey::Load(path).error().code, "master_key_corrupt");
  EXPECT_EQ(MasterKey::Load(dir.path() / "absent").error().code, "master_key_missing");
}

}  // namespace
}  // namespace medledger::identity
