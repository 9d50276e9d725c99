// The whole-file operations every store uses, on the real disk and under injected faults: a failed
// replacement never loses the old content and never leaves its temporary file visible.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <vector>

#include "io/env.h"
#include "io/fault_env.h"
#include "temp_dir.h"

namespace medledger::io {
namespace {

using medledger::testing::TempDir;
namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Names in `dir` other than the expected ones: a leftover temporary shows up here.
std::vector<std::string> Names(const TempDir& dir) {
  return Env::Default()->ListDir(dir.path().string()).value();
}

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(WriteFileAtomic, ReplacesWithExactModeAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.Sub("f");
  const mode_t old_umask = ::umask(0);
  Status first = WriteFileAtomic(*Env::Default(), path, "one");
  ::umask(old_umask);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(ModeOf(path), 0600u);
  ASSERT_TRUE(WriteFileAtomic(*Env::Default(), path, "two", {.mode = 0640}).ok());
  EXPECT_EQ(Slurp(path), "two");
  EXPECT_EQ(ModeOf(path), 0640u);
  EXPECT_EQ(Names(dir), std::vector<std::string>{"f"});
}

TEST(ReadFile, ReportsAbsentAndTooLarge) {
  TempDir dir;
  const std::string path = dir.Sub("f");
  auto missing = ReadFile(*Env::Default(), path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().code, "not_found");
  ASSERT_TRUE(WriteFileAtomic(*Env::Default(), path, "12345").ok());
  EXPECT_EQ(ReadFile(*Env::Default(), path, 5).value(), "12345");
  auto big = ReadFile(*Env::Default(), path, 4);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, "too_large");
  EXPECT_EQ(ReadFile(*Env::Default(), dir.path().string()).error().code, "io_error");  // a directory
}

TEST(CreateFileExclusive, RefusesAnExistingName) {
  TempDir dir;
  const std::string path = dir.Sub("f");
  ASSERT_TRUE(CreateFileExclusive(*Env::Default(), path, "first").ok());
  Status again = CreateFileExclusive(*Env::Default(), path, "second");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kAlreadyExists);
  EXPECT_EQ(again.error().code, "already_exists");
  EXPECT_EQ(Slurp(path), "first");
}

TEST(RemoveFileDurably, RemovesAndToleratesAbsence) {
  TempDir dir;
  const std::string path = dir.Sub("f");
  ASSERT_TRUE(WriteFileAtomic(*Env::Default(), path, "x").ok());
  ASSERT_TRUE(RemoveFileDurably(*Env::Default(), path).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(RemoveFileDurably(*Env::Default(), path).ok());
}

TEST(AppendLineDurably, AppendsLinesThatSurviveAPowerLoss) {
  TempDir dir;
  FaultInjectionEnv env;
  const std::string path = dir.Sub("log");
  ASSERT_TRUE(AppendLineDurably(env, path, "a").ok());
  ASSERT_TRUE(AppendLineDurably(env, path, "b").ok());
  ASSERT_TRUE(env.DropUnsyncedData().ok());  // the new name and both lines were synced
  EXPECT_EQ(Slurp(path), "a\nb\n");
  env.SetDiskFull(true);
  EXPECT_EQ(AppendLineDurably(env, path, "c").error().code, "no_space");
  EXPECT_EQ(Slurp(path), "a\nb\n");
}

class FaultyReplace : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(WriteFileAtomic(env_, path_, "old content").ok()); }
  // After the failure and after a power loss, `path_` holds the old content and nothing else is in the
  // directory.
  void ExpectOldContentOnly() {
    EXPECT_EQ(Slurp(path_), "old content");
    EXPECT_EQ(Names(dir_), std::vector<std::string>{"f"});
    ASSERT_TRUE(env_.DropUnsyncedData().ok());
    EXPECT_EQ(Slurp(path_), "old content");
    EXPECT_EQ(Names(dir_), std::vector<std::string>{"f"});
  }
  TempDir dir_;
  FaultInjectionEnv env_;
  std::string path_ = dir_.Sub("f");
};

TEST_F(FaultyReplace, DiskFullMidWrite) {
  env_.FailAppendAfter(3);  // a torn write: three bytes reach the temporary, then ENOSPC
  Status s = WriteFileAtomic(env_, path_, "new content");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "no_space");
  ExpectOldContentOnly();
}

TEST_F(FaultyReplace, WriteError) {
  env_.SetWriteFailure(true);
  Status s = WriteFileAtomic(env_, path_, "new content");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kIoError);
  EXPECT_EQ(s.error().code, "io_error");
  ExpectOldContentOnly();
}

TEST_F(FaultyReplace, FsyncError) {
  env_.SetSyncFailure(true);
  Status s = WriteFileAtomic(env_, path_, "new content");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "io_error");
  env_.ClearFaults();
  ExpectOldContentOnly();
}

TEST_F(FaultyReplace, PowerLossBeforeTheDirectorySyncUndoesTheRename) {
  ASSERT_TRUE(WriteFileAtomic(env_, path_, "new content", {.sync_dir = false}).ok());
  EXPECT_EQ(Slurp(path_), "new content");
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Slurp(path_), "old content");
  EXPECT_EQ(Names(dir_), std::vector<std::string>{"f"});
}

TEST_F(FaultyReplace, APowerLossAfterTheDirectorySyncKeepsTheNewContent) {
  ASSERT_TRUE(WriteFileAtomic(env_, path_, "new content").ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Slurp(path_), "new content");
  EXPECT_EQ(Names(dir_), std::vector<std::string>{"f"});
}

TEST(FaultInjectionEnv, PowerLossRemovesAnUnsyncedExclusiveCreate) {
  TempDir dir;
  FaultInjectionEnv env;
  auto f = env.CreateExclusive(dir.Sub("new"), 0600).value();
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("new")));
}

TEST(LockFile, ConflictsWithinOneProcessUntilReleased) {
  TempDir dir;
  FaultInjectionEnv fault;
  for (Env* env : {Env::Default(), static_cast<Env*>(&fault)}) {
    const std::string path = dir.Sub("LOCK");
    auto first = env->LockFile(path);
    ASSERT_TRUE(first.ok());
    auto second = env->LockFile(path);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().kind, ErrorKind::kConflict);
    EXPECT_EQ(second.error().code, "locked");
    first->reset();
    EXPECT_TRUE(env->LockFile(path).ok());
  }
}

TEST(LockFile, BlockingWaitsForTheHolder) {
  TempDir dir;
  const std::string path = dir.Sub("LOCK");
  auto held = Env::Default()->LockFile(path).value();
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    auto lock = Env::Default()->LockFile(path, LockWait::kBlock);
    EXPECT_TRUE(lock.ok());
    acquired = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(acquired.load());
  held.reset();
  waiter.join();
  EXPECT_TRUE(acquired.load());
}

// Moved from the service tests of its former copy (service::WriteFileAtomically).
// Writers of the same file (two requests with one idempotency key, two token refreshes) used to share the
// temporary "<file>.tmp": one truncated the other's bytes or renamed it away, so a writer failed or the file
// held a mix. Each write now has its own temporary, and the file always holds one writer's whole content.
TEST(WriteFileAtomicPosix, ConcurrentWritersOfOneFileEachSucceedAndLeaveOneWholeVersion) {
  TempDir tmp;
  fs::path dir = tmp.path();
  fs::path file = dir / "state.json";
  constexpr int kThreads = 8, kWrites = 40;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  std::set<std::string> written;
  for (int t = 0; t < kThreads; ++t) written.insert(std::string(4096 + t, static_cast<char>('a' + t)));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string content(4096 + t, static_cast<char>('a' + t));
      for (int i = 0; i < kWrites; ++i) {
        if (!WriteFileAtomic(*Env::Default(), file, content).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "writer " << t;
  auto final_content = ReadFile(*Env::Default(), file);
  ASSERT_TRUE(final_content.ok());
  EXPECT_EQ(written.count(*final_content), 1u);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "state.json");  // no temporary left behind
  }
  EXPECT_EQ(entries, 1u);
}

TEST(WriteFileAtomicPosix, OwnerOnlyWhateverTheUmask) {
  TempDir tmp;
  fs::path dir = tmp.path();
  mode_t old = ::umask(0);  // the widest umask: the mode must come from the writer, not the process
  Status s = WriteFileAtomic(*Env::Default(), dir / "secret", "x");
  ::umask(old);
  ASSERT_TRUE(s.ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Replacing an existing, wider file narrows it too.
  fs::permissions(dir / "secret", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  ASSERT_TRUE(WriteFileAtomic(*Env::Default(), dir / "secret", "y").ok());
  ASSERT_EQ(::stat((dir / "secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(*Env::Default(), dir / "secret").value(), "y");
}

TEST(WriteFileAtomicPosix, FailsCleanlyWhenTheDirectoryIsMissing) {
  TempDir tmp;
  fs::path dir = tmp.path();
  Status s = WriteFileAtomic(*Env::Default(), dir / "absent" / "file", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "io_error");
}

// A failed append used to leave its fragment in place, so the next line joined it and a line-per-record log
// (erasure journal, user-change outbox) lost both records to one unparseable line.
TEST(AppendLineDurably, ATornAppendIsCutOffSoTheNextLineStaysWhole) {
  TempDir dir("append-torn");
  const std::string path = dir.Sub("journal");
  FaultInjectionEnv env;
  ASSERT_TRUE(AppendLineDurably(env, path, "first").ok());
  env.ArmFault(Fault::kTornWrite, 1);
  Status torn = AppendLineDurably(env, path, "second-record");
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.error().code, "no_space");
  env.ClearFaults();
  ASSERT_TRUE(AppendLineDurably(env, path, "third").ok());
  EXPECT_EQ(Slurp(path), "first\nthird\n");
}

// A line a power cut left without its newline is set apart from the next one.
TEST(AppendLineDurably, StartsAfterATornLastLineOnALineOfItsOwn) {
  TempDir dir("append-tail");
  const std::string path = dir.Sub("journal");
  std::ofstream(path) << "first\nhalf-writ";
  ASSERT_TRUE(AppendLineDurably(*Env::Default(), path, "next").ok());
  EXPECT_EQ(Slurp(path), "first\nhalf-writ\nnext\n");
}

TEST(FaultInjectionEnv, CountsStepsAndFailsTheArmedOneAndEveryLaterOneOfItsClass) {
  TempDir dir("steps");
  FaultInjectionEnv env;
  ASSERT_TRUE(WriteFileAtomic(env, dir.Sub("a"), "one").ok());
  // create, append, sync, rename, directory sync
  StepCounts c = env.steps();
  EXPECT_EQ(c.appends, 1u);
  EXPECT_EQ(c.syncs, 2u);
  EXPECT_EQ(c.mutations, 5u);
  env.ResetSteps();
  env.ArmFault(Fault::kSyncError, 2);  // the directory sync
  Status s = WriteFileAtomic(env, dir.Sub("a"), "two");
  EXPECT_TRUE(env.fault_fired());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "io_error");
  EXPECT_FALSE(WriteFileAtomic(env, dir.Sub("b"), "x").ok());  // still failing: the device is broken
  env.ClearFaults();
  EXPECT_TRUE(WriteFileAtomic(env, dir.Sub("b"), "x").ok());

  env.ResetSteps();
  env.ArmFault(Fault::kCrash, 3);  // after create and append: the sync never happens
  EXPECT_FALSE(WriteFileAtomic(env, dir.Sub("c"), "lost").ok());
  EXPECT_FALSE(env.RenameFile(dir.Sub("b"), dir.Sub("d")).ok());  // nothing reaches the disk any more
  env.ClearFaults();
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_FALSE(fs::exists(dir.Sub("c")));
  EXPECT_EQ(Slurp(dir.Sub("b")), "x");
}

TEST(FaultInjectionEnv, SyncFilesystemMakesEveryWriteAndNameDurable) {
  TempDir dir("syncfs");
  FaultInjectionEnv env;
  auto f = env.OpenAppendable(dir.Sub("log")).value();
  ASSERT_TRUE(f->Append("unsynced").ok());
  ASSERT_TRUE(env.SyncFilesystem(dir.path().string()).ok());
  ASSERT_TRUE(f->Append("-after").ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(Slurp(dir.Sub("log")), "unsynced");
}

}  // namespace
}  // namespace medledger::io
