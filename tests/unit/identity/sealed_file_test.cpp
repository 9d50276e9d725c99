#include "identity/sealed_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "crypto/random.h"
#include "io/fault_env.h"

namespace medledger::identity {
namespace {

namespace fs = std::filesystem;

fs::path TempDir() {
  fs::path d = fs::temp_directory_path() / ("sealed-file-test-" + crypto::RandomHex(6));
  fs::create_directories(d);
  return d;
}

SealedFiles Sealer(io::Env* env) {
  return SealedFiles::Create(identity::MasterKey::FromBytes(std::string(32, 'k')), "test-purpose", env).value();
}

// SealedFiles reaches the disk through its Env: a full disk during a rewrite fails cleanly and the last
// sealed content still opens, also after a power loss.
TEST(SealedFiles, AFullDiskKeepsTheOldSealedContent) {
  const fs::path dir = TempDir();
  io::FaultInjectionEnv env;
  const SealedFiles sealer = Sealer(&env);
  const fs::path file = dir / "secret";
  ASSERT_TRUE(sealer.Write(file, "old secret", "aad").ok());
  env.FailAppendAfter(10);
  Status s = sealer.Write(file, "new secret", "aad");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "no_space");
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(sealer.Read(file, "aad").value(), "old secret");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
}

TEST(SealedFiles, ReportsAbsentAndTamperedFiles) {
  const fs::path dir = TempDir();
  const SealedFiles sealer = Sealer(nullptr);
  EXPECT_EQ(sealer.Read(dir / "absent", "aad").error().code, "not_found");
  ASSERT_TRUE(sealer.Write(dir / "f", "text", "aad").ok());
  EXPECT_EQ(sealer.Read(dir / "f", "other aad").error().code, "sealed_data_corrupt");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace medledger::identity
