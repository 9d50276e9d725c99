#include "io/env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "io/fault_env.h"
#include "temp_dir.h"

namespace medledger::io {
namespace {

using medledger::testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PosixEnv, WritesReadsAndTruncates) {
  TempDir dir;
  Env* env = Env::Default();
  EXPECT_EQ(env, Env::Default());
  const std::string path = dir.Sub("a/b/f");
  ASSERT_TRUE(env->CreateDirs(dir.Sub("a/b")).ok());
  EXPECT_FALSE(env->FileExists(path).value());
  {
    auto f = env->OpenAppendable(path);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("hello ").ok());
    ASSERT_TRUE((*f)->Append("world").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
    EXPECT_FALSE((*f)->Append("x").ok());  // closed
  }
  ASSERT_TRUE(env->SyncDir(dir.Sub("a/b")).ok());
  EXPECT_TRUE(env->FileExists(path).value());
  EXPECT_EQ(env->FileSize(path).value(), 11u);
  EXPECT_EQ(env->ReadRange(path, 6, 100).value(), "world");  // short at the end of the file
  EXPECT_EQ(env->ReadRange(path, 50, 10).value(), "");
  {
    auto f = env->OpenAppendable(path);  // appends at the current end
    ASSERT_TRUE((*f)->Append("!").ok());
  }
  EXPECT_EQ(ReadFile(path), "hello world!");
  ASSERT_TRUE(env->Truncate(path, 5).ok());
  EXPECT_EQ(ReadFile(path), "hello");
  auto reader = env->OpenRandomAccess(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Read(1, 3).value(), "ell");
  EXPECT_EQ(env->ListDir(dir.Sub("a")).value(), std::vector<std::string>{"b"});
  ASSERT_TRUE(env->RemoveFile(path).ok());
  EXPECT_FALSE(env->FileExists(path).value());
}

TEST(PosixEnv, ReportsPreciseErrors) {
  TempDir dir;
  Env* env = Env::Default();
  const auto missing = env->FileSize(dir.Sub("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().code, "file_not_found");
  EXPECT_EQ(env->ReadRange(dir.Sub("nope"), 0, 1).error().code, "file_not_found");
  EXPECT_EQ(env->OpenRandomAccess(dir.Sub("nope")).error().code, "file_not_found");
  EXPECT_FALSE(env->ListDir(dir.Sub("nope")).ok());
  EXPECT_FALSE(env->OpenAppendable(dir.Sub("no/such/dir/f")).ok());
  EXPECT_FALSE(env->SyncDir(dir.Sub("nope")).ok());
}

TEST(FaultInjectionEnv, PowerLossDropsUnsyncedBytesAndUnsyncedNames) {
  TempDir dir;
  FaultInjectionEnv env;
  const std::string synced = dir.Sub("synced"), unsynced_name = dir.Sub("new");
  {
    auto f = env.OpenAppendable(synced).value();
    ASSERT_TRUE(f->Append("durable").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(env.SyncDir(dir.path()).ok());
    ASSERT_TRUE(f->Append(" lost").ok());
  }
  {
    auto f = env.OpenAppendable(unsynced_name).value();
    ASSERT_TRUE(f->Append("data").ok());
    ASSERT_TRUE(f->Sync().ok());  // the bytes are synced but the name is not
  }
  EXPECT_EQ(ReadFile(synced), "durable lost");
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(ReadFile(synced), "durable");
  EXPECT_FALSE(std::filesystem::exists(unsynced_name));
  EXPECT_GE(env.sync_count(), 3u);
}

TEST(FaultInjectionEnv, InjectsSyncFailuresTornWritesAndFullDisks) {
  TempDir dir;
  FaultInjectionEnv env;
  auto f = env.OpenAppendable(dir.Sub("f")).value();
  env.SetSyncFailure(true);
  EXPECT_EQ(f->Sync().error().kind, ErrorKind::kIoError);
  EXPECT_FALSE(env.SyncDir(dir.path()).ok());
  env.ClearFaults();
  ASSERT_TRUE(f->Sync().ok());

  env.FailAppendAfter(5);
  ASSERT_TRUE(f->Append("abc").ok());
  EXPECT_EQ(f->Append("defgh").error().code, "no_space");
  EXPECT_EQ(ReadFile(dir.Sub("f")), "abcde");  // the torn write kept the part that fit
  EXPECT_FALSE(f->Append("x").ok());
  env.ClearFaults();
  env.SetDiskFull(true);
  EXPECT_EQ(f->Append("x").error().code, "no_space");
  EXPECT_EQ(ReadFile(dir.Sub("f")), "abcde");
  env.SetDiskFull(false);
  ASSERT_TRUE(f->Append("f").ok());
  EXPECT_EQ(ReadFile(dir.Sub("f")), "abcdef");
}

}  // namespace
}  // namespace medledger::io
