// The backup library on a synthetic data directory (real block files through BlockStore, the other stores as
// plain files): what is copied, how much, and every refusal of a damaged, incomplete or foreign backup.
#include "backup/backup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "backup/encrypted_file.h"
#include "backup/key_file.h"
#include "backup/manifest.h"
#include "backup/restore.h"
#include "backup/snapshot.h"
#include "common/encoding.h"
#include "crypto/random.h"
#include "io/fault_env.h"
#include "ledger/storage/block_store.h"
#include "temp_dir.h"

namespace medledger::backup {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void WriteFile(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
}
void AppendFile(const fs::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary | std::ios::app) << data;
}

// Every file and directory under `root`, one per line (for failure messages).
std::string ListTree(const fs::path& root) {
  std::string out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    out += "\n  " + e.path().lexically_relative(root).generic_string();
  }
  return out;
}

// Every regular file under `root` with its bytes.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[e.path().lexically_relative(root).generic_string()] = ReadAll(e.path());
  }
  return out;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = crypto::RandomBytes(32);
    data_ = dir_.path() / "data";
    out_ = dir_.path() / "backups";
    WriteFile(data_ / "org.json", R"({"name":"org"})");
    WriteFile(data_ / "keys/master.key", crypto::RandomBytes(32));
    WriteFile(data_ / "wallet/dr.id", "identity");
    WriteFile(data_ / "content/pins.log", "pin1\n");
    // 2.5 MiB: three chunks, so chunk order and truncation at a chunk boundary are exercised.
    WriteFile(data_ / "content/blocks/pack-00000001.dat", crypto::RandomBytes((5u << 20) / 2));
    WriteFile(data_ / "content/blocks/LOCK", "");
    WriteFile(data_ / "server/keystore/keks", "keks-v1");
    WriteFile(data_ / "server/keystore/keys.log", std::string(4096, 'k'));
    WriteFile(data_ / "server/keystore/owner.lock", "");
    WriteFile(data_ / "server/patients/p1.sealed", "patient");
    WriteFile(data_ / "server/refresh-tokens.json", "{}");
    WriteFile(data_ / "server/idempotency/000001.log", "idem");
    WriteFile(data_ / "ledger/state/CURRENT", "MANIFEST-000001");
    WriteFile(data_ / "log/tree/meta", "medledger-tlog/1\n1\n1\n");
    WriteFile(data_ / "log/tree/entries.data", "leaf");
    WriteFile(data_ / "log/tree/lock", "");
    WriteFile(data_ / "log/checkpoints.json", "[]");
    WriteFile(data_ / "users.json.tmp-0011223344556677", "half-written");
    AppendBlocks(3);
  }

  void AppendBlocks(int n) {
    auto store = ledger::storage::BlockStore::Open((data_ / "ledger/blocks").string()).value();
    for (int i = 0; i < n; ++i) {
      uint64_t h = store->Height();
      ASSERT_TRUE(store->Append(h, "block " + std::to_string(h) + std::string(100, 'b')).ok());
    }
  }

  Result<BackupSummary> Backup(bool full = false, io::Env* env = io::Env::Default()) {
    BackupOptions o;
    o.data_dir = data_;
    o.out_dir = out_;
    o.secret = secret_;
    o.force_full = full;
    o.env = env;
    return RunBackup(o);
  }
  Result<RestoreSummary> Restore(const fs::path& to, std::optional<uint64_t> n = std::nullopt,
                                 const std::string& secret = "", io::Env* env = io::Env::Default()) {
    RestoreOptions o;
    o.from = out_;
    o.secret = secret.empty() ? secret_ : secret;
    o.data_dir = to;
    o.number = n;
    o.env = env;
    return RunRestore(o);
  }

  // What a restore must reproduce: everything but the excluded files, and the blocks up to the cut.
  std::map<std::string, std::string> Expected() {
    auto all = Snapshot(data_);
    std::map<std::string, std::string> out;
    for (auto& [k, v] : all) {
      if (!Excluded(k)) out[k] = v;
    }
    return out;
  }

  TempDir dir_{"backup-test"};
  std::string secret_;
  fs::path data_;
  fs::path out_;
};

TEST(KeyFileTest, AcceptsBase64Of32BytesOwnerOnlyAndRefusesEverythingElse) {
  TempDir dir("backup-key");
  const std::string secret = crypto::RandomBytes(32);
  auto write = [&](const std::string& name, const std::string& text, mode_t mode) {
    fs::path p = dir.path() / name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  };
  auto good = LoadBackupSecret(write("good", Base64Encode(secret) + "\n", 0600));
  ASSERT_TRUE(good.ok()) << good.error().ToString();
  EXPECT_EQ(*good, secret);
  for (const auto& [name, text, mode] :
       std::vector<std::tuple<std::string, std::string, mode_t>>{{"world", Base64Encode(secret), 0644},
                                                                 {"group", Base64Encode(secret), 0640},
                                                                 {"short", Base64Encode(secret.substr(0, 31)), 0600},
                                                                 {"long", Base64Encode(secret + "x"), 0600},
                                                                 {"hex", HexEncode(secret), 0600},
                                                                 {"junk", "not base64 at all!", 0600}}) {
    auto r = LoadBackupSecret(write(name, text, mode));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, "key_file_invalid") << name;
  }
  auto missing = LoadBackupSecret(dir.path() / "absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "key_file_invalid");
}

TEST(SnapshotTest, ExcludesDerivedAndShortLivedState) {
  for (const char* p : {"ledger/state/CURRENT", "ledger/state", "server/idempotency/x", "server/refresh-tokens.json",
                        "ledger/blocks/LOCK", "log/tree/lock", "users.json.lock", "server/keystore/erase.lock",
                        "users.json.tmp-0123456789abcdef", "ledger/verify-checkpoint.json"}) {
    EXPECT_TRUE(Excluded(p)) << p;
  }
  for (const char* p : {"org.json", "ledger/blocks/blockfile_000000", "server/keystore/keys.log",
                        "server/erasures.jsonl", "FORMAT", "log/tree/meta", "content/blocks/pack-00000001.dat"}) {
    EXPECT_FALSE(Excluded(p)) << p;
  }
  EXPECT_LT(LogCopyRank("log/checkpoints.json"), LogCopyRank("log/tree/meta"));
  EXPECT_LT(LogCopyRank("log/tree/meta"), LogCopyRank("log/tree/entries.data"));
  EXPECT_LT(LogCopyRank("log/tree/meta"), LogCopyRank("log/block-ends"));
}

TEST(EncryptedFileTest, ChunksAuthenticateOnlyInPlace) {
  TempDir dir("backup-chunks");
  const std::string key = crypto::RandomBytes(32);
  const std::string plain = crypto::RandomBytes(kChunkSize * 2 + 7);
  auto w = EncryptedFileWriter::Create(*io::Env::Default(), dir.path() / "a", key, "id1", "content/a").value();
  ASSERT_TRUE(w.Append(plain).ok());
  ASSERT_TRUE(w.Finish().ok());
  std::string back;
  auto collect = [&](std::string_view d) {
    back.append(d);
    return OkStatus();
  };
  ASSERT_TRUE(DecryptFile(*io::Env::Default(), dir.path() / "a", key, "id1", "content/a", "a", collect).ok());
  EXPECT_EQ(back, plain);
  // Another path, another backup id: the same bytes do not authenticate.
  for (auto [id, path] : {std::pair{"id1", "content/b"}, std::pair{"id2", "content/a"}}) {
    auto r = DecryptFile(*io::Env::Default(), dir.path() / "a", key, id, path, "a",
                         [](std::string_view) { return OkStatus(); });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "backup_corrupted");
  }
  // Truncated after the first chunk (a chunk boundary): the first chunk was not sealed as the last one.
  const std::string sealed = ReadAll(dir.path() / "a");
  const size_t first = 4 + 12 + kChunkSize + 16;
  WriteFile(dir.path() / "t", sealed.substr(0, first));
  auto truncated = DecryptFile(*io::Env::Default(), dir.path() / "t", key, "id1", "content/a", "t",
                               [](std::string_view) { return OkStatus(); });
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code, "backup_corrupted");
  // Two full chunks swapped.
  WriteFile(dir.path() / "s", sealed.substr(first, first) + sealed.substr(0, first) + sealed.substr(2 * first));
  auto swapped = DecryptFile(*io::Env::Default(), dir.path() / "s", key, "id1", "content/a", "s",
                             [](std::string_view) { return OkStatus(); });
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().code, "backup_corrupted");
  // An empty file still has its one (empty, last) chunk; an empty backup file is refused.
  auto e = EncryptedFileWriter::Create(*io::Env::Default(), dir.path() / "empty", key, "id1", "x").value();
  ASSERT_TRUE(e.Finish().ok());
  EXPECT_TRUE(DecryptFile(*io::Env::Default(), dir.path() / "empty", key, "id1", "x", "x", collect).ok());
  WriteFile(dir.path() / "zero", "");
  EXPECT_EQ(DecryptFile(*io::Env::Default(), dir.path() / "zero", key, "id1", "x", "x", collect).error().code,
            "backup_corrupted");
}

TEST_F(BackupTest, FullRoundTripCopiesWhatIsNotDerivedAndCutsBlocksAtTheRecordBoundary) {
  // A torn tail after the last block (a crash mid-append, or an append in progress) is not part of height H.
  const fs::path blockfile = data_ / "ledger/blocks/blockfile_000000";
  const std::string blocks_before = ReadAll(blockfile);
  AppendFile(blockfile, std::string("MLBK\0\0\0\x50partial", 15));

  auto b = Backup();
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_FALSE(b->parent.has_value());
  EXPECT_EQ(b->height, 3u);
  EXPECT_TRUE(fs::exists(out_ / "backup-000001" / kManifestFile));

  const fs::path restored = dir_.path() / "restored";
  auto r = Restore(restored);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->height, 3u);
  EXPECT_FALSE(fs::exists(RestoringDirFor(restored)));
  auto expected = Expected();
  expected["ledger/blocks/blockfile_000000"] = blocks_before;
  EXPECT_EQ(Snapshot(restored), expected);
  EXPECT_FALSE(fs::exists(restored / "ledger/state"));
  EXPECT_FALSE(fs::exists(restored / "server/refresh-tokens.json"));
  EXPECT_FALSE(fs::exists(restored / "server/idempotency"));

  // The backup shows no file names of the data directory, only keyed hashes of them.
  for (const auto& e : fs::recursive_directory_iterator(out_)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "backup-000001" || name == "files" || name == kManifestFile || name == kBackupLockFile ||
                name.size() == 32)
        << name;
  }
}

TEST_F(BackupTest, IncrementalCopiesOnlyWhatIsNewAndEachBackupRestoresItsOwnState) {
  auto first = Backup();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  auto at_first = Expected();

  AppendBlocks(2);
  AppendFile(data_ / "content/blocks/pack-00000001.dat", crypto::RandomBytes(1000));
  AppendFile(data_ / "content/pins.log", "pin2\n");
  WriteFile(data_ / "org.json", R"({"name":"org renamed"})");
  WriteFile(data_ / "server/patients/p2.sealed", "patient 2");
  fs::remove(data_ / "wallet/dr.id");
  // An erasure zeroes a record of keys.log in place: its old bytes no longer stand, the whole file is copied.
  std::string keys = ReadAll(data_ / "server/keystore/keys.log");
  keys[100] = '\0';
  WriteFile(data_ / "server/keystore/keys.log", keys + "new-record");

  auto second = Backup();
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  ASSERT_EQ(second->parent, std::optional<uint64_t>(1));
  EXPECT_EQ(second->height, 5u);
  EXPECT_LT(second->bytes_copied, first->bytes_copied / 10) << "the pack's old 2.5 MiB must not be copied again";
  auto manifest = ReadManifest(*io::Env::Default(), out_ / "backup-000002", secret_).value().manifest;
  auto kind = [&](const std::string& p) {
    const ManifestEntry* e = manifest.Find(p);
    return e == nullptr ? std::string("absent") : std::string(EntryKindName(e->kind));
  };
  EXPECT_EQ(kind("content/blocks/pack-00000001.dat"), "suffix");
  EXPECT_EQ(kind("content/pins.log"), "suffix");
  EXPECT_EQ(kind("ledger/blocks/blockfile_000000"), "suffix");
  EXPECT_EQ(kind("server/keystore/keys.log"), "full");
  EXPECT_EQ(kind("org.json"), "full");
  EXPECT_EQ(kind("keys/master.key"), "unchanged");
  EXPECT_EQ(kind("server/patients/p2.sealed"), "full");
  EXPECT_EQ(kind("wallet/dr.id"), "absent");

  auto latest = Restore(dir_.path() / "latest");
  ASSERT_TRUE(latest.ok()) << latest.error().ToString();
  EXPECT_EQ(latest->chain, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(Snapshot(dir_.path() / "latest"), Expected());
  auto older = Restore(dir_.path() / "older", 1);
  ASSERT_TRUE(older.ok()) << older.error().ToString();
  EXPECT_EQ(Snapshot(dir_.path() / "older"), at_first);

  auto full = Backup(/*full=*/true);
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->parent.has_value());
  EXPECT_EQ(full->bytes_copied, full->bytes_total);
}

TEST_F(BackupTest, AFlippedByteAnywhereIsRefusedAndNothingIsCreated) {
  ASSERT_TRUE(Backup().ok());
  AppendFile(data_ / "content/blocks/pack-00000001.dat", "more");
  ASSERT_TRUE(Backup().ok());
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(out_)) {
    if (e.is_regular_file() && e.path().filename() != kBackupLockFile) files.push_back(e.path());
  }
  ASSERT_EQ(files.size(), 15u);  // 12 files and a manifest, then a pack suffix and a manifest
  for (const auto& file : files) {
    const std::string original = ReadAll(file);
    for (size_t at : {size_t{0}, original.size() / 2, original.size() - 1}) {
      std::string flipped = original;
      flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
      WriteFile(file, flipped);
      const fs::path to = dir_.path() / "flipped";
      auto r = Restore(to);
      ASSERT_FALSE(r.ok()) << file << " at " << at;
      const std::string& code = r.error().code;
      EXPECT_TRUE(code == "backup_corrupted" || code == "backup_key_wrong") << file << ": " << code;
      if (code == "backup_corrupted" && file.filename() != kManifestFile) {
        EXPECT_NE(r.error().message.find(file.filename().string()), std::string::npos) << r.error().message;
      }
      EXPECT_FALSE(fs::exists(to)) << file;
      EXPECT_FALSE(fs::exists(RestoringDirFor(to))) << file;
    }
    WriteFile(file, original);
  }
  EXPECT_TRUE(Restore(dir_.path() / "intact").ok());
}

TEST_F(BackupTest, RefusalsNameTheirCause) {
  ASSERT_TRUE(Backup().ok());
  AppendBlocks(1);
  ASSERT_TRUE(Backup().ok());
  const fs::path to = dir_.path() / "to";

  auto wrong = Restore(to, std::nullopt, crypto::RandomBytes(32));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "backup_key_wrong");

  // A backup killed before its manifest: refused, and the message points at the one that finished.
  fs::create_directories(out_ / "backup-000003/files/content");
  WriteFile(out_ / "backup-000003/files/org.json", "partial");
  auto incomplete = Restore(to);
  ASSERT_FALSE(incomplete.ok());
  EXPECT_EQ(incomplete.error().code, "backup_incomplete");
  EXPECT_NE(incomplete.error().message.find("--backup 2"), std::string::npos) << incomplete.error().message;
  EXPECT_TRUE(Restore(dir_.path() / "two", 2).ok());
  // The next backup skips the killed one: it chains to backup-000002 and takes number 4.
  auto next = Backup();
  ASSERT_TRUE(next.ok()) << next.error().ToString();
  EXPECT_EQ(next->number, 4u);
  EXPECT_EQ(next->parent, std::optional<uint64_t>(2));
  EXPECT_EQ(next->incomplete, (std::vector<uint64_t>{3}));
  fs::remove_all(out_ / "backup-000003");

  // A file the manifest lists is missing.
  const fs::path org_enc =
      out_ / "backup-000001" /
      StoredName(ReadManifest(*io::Env::Default(), out_ / "backup-000001", secret_)->keys, "org.json");
  fs::rename(org_enc, dir_.path() / "org.json.enc");
  auto missing = Restore(to, 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "backup_incomplete");
  EXPECT_NE(missing.error().message.find("org.json"), std::string::npos) << missing.error().message;
  fs::rename(dir_.path() / "org.json.enc", org_enc);

  // The parent of an incremental is gone, or is another chain's backup-000001.
  fs::rename(out_ / "backup-000001", dir_.path() / "one");
  auto broken = Restore(to, 2);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, "backup_chain_broken");
  {
    TempDir other("backup-other");
    BackupOptions o;
    o.data_dir = data_;
    o.out_dir = other.path();
    o.secret = secret_;
    ASSERT_TRUE(RunBackup(o).ok());
    fs::rename(other.path() / "backup-000001", out_ / "backup-000001");
  }
  auto foreign = Restore(to, 2);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, "backup_chain_broken");
  EXPECT_FALSE(fs::exists(to));

  // NEW must be absent or empty.
  WriteFile(to / "something", "x");
  auto not_empty = Restore(to, 4);
  ASSERT_FALSE(not_empty.ok());
  EXPECT_EQ(not_empty.error().code, "data_dir_not_empty");
  fs::remove(to / "something");
  auto into_empty = Restore(to, 1);
  EXPECT_TRUE(into_empty.ok()) << into_empty.error().ToString();
}

TEST_F(BackupTest, AnIncrementalRefusesToChainToABackupWrittenWithAnotherKey) {
  ASSERT_TRUE(Backup().ok());
  secret_ = crypto::RandomBytes(32);
  auto r = Backup();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "backup_key_wrong");
  EXPECT_TRUE(Backup(/*full=*/true).ok());
}

TEST_F(BackupTest, AKilledRestoresLeftoverIsReplacedButAStrangersDirectoryIsNot) {
  ASSERT_TRUE(Backup().ok());
  const fs::path to = dir_.path() / "to";
  const fs::path staging = RestoringDirFor(to);
  EXPECT_EQ(staging, dir_.path() / "to.restoring");
  // What a restore killed midway leaves: its marker and some files.
  fs::create_directories(staging / "content");
  WriteFile(staging / ".medledger-restoring", "");
  WriteFile(staging / "content/pins.log", "half");
  auto r = Restore(to);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(Snapshot(to), Expected());
  EXPECT_FALSE(fs::exists(staging));
  // A directory of that name without the marker is not ours to delete.
  const fs::path other = dir_.path() / "other";
  WriteFile(RestoringDirFor(other) / "precious", "x");
  auto refused = Restore(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "data_dir_not_empty");
  EXPECT_EQ(ReadAll(RestoringDirFor(other) / "precious"), "x");
  EXPECT_FALSE(fs::exists(other));
}

TEST_F(BackupTest, RefusesABackupDirectoryInsideTheDataDirectory) {
  out_ = data_ / "server" / "backups";
  auto r = Backup();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "backup_inside_data_dir");
  EXPECT_FALSE(fs::exists(out_));
  // Relative paths, the backup directory not yet created: inside is refused, beside is fine.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_.path());
  out_ = "data/backups";
  data_ = "data";
  auto relative_inside = Backup();
  out_ = "backups";
  auto relative_beside = Backup();
  fs::current_path(cwd);
  ASSERT_FALSE(relative_inside.ok());
  EXPECT_EQ(relative_inside.error().code, "backup_inside_data_dir");
  EXPECT_TRUE(relative_beside.ok()) << relative_beside.error().ToString();
}

// Every I/O step of a backup and of a restore, failed in turn by each fault a disk can produce. A failed backup
// is never taken for a finished one and the next backup still chains correctly; a failed restore leaves no
// data directory, and the next restore produces exactly the backed-up state.
TEST_F(BackupTest, EveryFaultAtEveryStepFailsCleanlyAndTheNextRunSucceeds) {
  io::FaultInjectionEnv env;
  env.LogSteps(true);  // a failure below prints the steps of the faulted run
  auto steps_of = [&env] {
    std::string out;
    for (const auto& step : env.step_log()) out += "\n  " + step;
    return out;
  };
  auto counted_backup = [&](bool full) {
    env.ResetSteps();
    auto b = Backup(full, &env);
    EXPECT_TRUE(b.ok()) << b.error().ToString();
    return env.steps();
  };
  // One chunk of pack data instead of three: the fault points are per file and per chunk write, and several
  // hundred restores of 2.5 MiB would only repeat the same steps with more bytes.
  WriteFile(data_ / "content/blocks/pack-00000001.dat", crypto::RandomBytes(64 << 10));
  ASSERT_TRUE(Backup().ok());  // backup-000001, the parent of the incrementals below
  AppendBlocks(1);
  const io::StepCounts backup_steps = counted_backup(/*full=*/false);  // backup-000002: an incremental
  ASSERT_GT(backup_steps.appends, 0u);
  ASSERT_GT(backup_steps.syncs, 0u);

  const std::vector<std::pair<io::Fault, uint64_t>> kinds = {
      {io::Fault::kNoSpace, backup_steps.appends},   {io::Fault::kWriteError, backup_steps.appends},
      {io::Fault::kTornWrite, backup_steps.appends}, {io::Fault::kSyncError, backup_steps.syncs},
      {io::Fault::kCrash, backup_steps.mutations},
  };
  int runs = 0;
  for (const auto& [fault, count] : kinds) {
    for (uint64_t step = 1; step <= count; ++step) {
      SCOPED_TRACE(std::string(io::FaultName(fault)) + " at step " + std::to_string(step));
      AppendBlocks(1);  // something new for every incremental
      env.ResetSteps();
      env.ArmFault(fault, step);
      auto failed = Backup(false, &env);
      const std::string failed_steps = steps_of();
      ASSERT_TRUE(env.fault_fired());
      ASSERT_FALSE(failed.ok());
      const ErrorKind expected =
          fault == io::Fault::kNoSpace || fault == io::Fault::kTornWrite ? ErrorKind::kNoSpace : ErrorKind::kIoError;
      if (fault != io::Fault::kCrash) {
        EXPECT_EQ(failed.error().kind, expected) << failed.error().ToString();
      }
      env.ClearFaults();
      if (fault == io::Fault::kCrash) {
        ASSERT_TRUE(env.DropUnsyncedData().ok());
      }
      // The next backup succeeds, chains to the newest finished one, and restores to the data as it is now.
      auto next = Backup(false, &env);
      ASSERT_TRUE(next.ok()) << next.error().ToString();
      ASSERT_TRUE(next->parent.has_value());
      const fs::path to = dir_.path() / ("restored-" + std::to_string(++runs));
      auto r = Restore(to, next->number, "", &env);
      ASSERT_TRUE(r.ok()) << r.error().ToString() << "\nthe faulted backup's steps:" << failed_steps
                          << "\nfaulted: " << failed.error().ToString() << "\nnext: " << next->number << " on "
                          << next->parent.value_or(0) << ListTree(out_);
      EXPECT_EQ(Snapshot(to), Expected());
      fs::remove_all(to);
    }
  }

  // Restore: the newest backup, into a fresh directory, with each step failed in turn.
  const fs::path counted_to = dir_.path() / "restore-counted";
  env.ResetSteps();
  ASSERT_TRUE(Restore(counted_to, std::nullopt, "", &env).ok());
  const io::StepCounts restore_steps = env.steps();
  fs::remove_all(counted_to);
  const std::vector<std::pair<io::Fault, uint64_t>> restore_kinds = {
      {io::Fault::kNoSpace, restore_steps.appends},   {io::Fault::kWriteError, restore_steps.appends},
      {io::Fault::kTornWrite, restore_steps.appends}, {io::Fault::kSyncError, restore_steps.syncs},
      {io::Fault::kCrash, restore_steps.mutations},
  };
  for (const auto& [fault, count] : restore_kinds) {
    for (uint64_t step = 1; step <= count; ++step) {
      SCOPED_TRACE(std::string("restore: ") + io::FaultName(fault) + " at step " + std::to_string(step));
      const fs::path to = dir_.path() / ("restore-" + std::to_string(++runs));
      env.ResetSteps();
      env.ArmFault(fault, step);
      auto failed = Restore(to, std::nullopt, "", &env);
      const std::string failed_steps = steps_of();
      ASSERT_TRUE(env.fault_fired());
      ASSERT_FALSE(failed.ok());
      env.ClearFaults();
      if (fault == io::Fault::kCrash) {
        ASSERT_TRUE(env.DropUnsyncedData().ok());
      }
      if (fs::exists(to)) {
        // Only a fault after the copy took NEW's name leaves NEW, and then it is complete; the marker, removed
        // last, may still be in it.
        EXPECT_NE(failed_steps.find("rename " + RestoringDirFor(to).string()), std::string::npos) << failed_steps;
        fs::remove(to / ".medledger-restoring");
      } else {
        // Anything else leaves no NEW, and the next restore into the same place succeeds (a killed restore's
        // staging directory is ours to replace).
        auto again = Restore(to, std::nullopt, "", &env);
        ASSERT_TRUE(again.ok()) << again.error().ToString() << "\nthe faulted restore's steps:" << failed_steps;
      }
      EXPECT_EQ(Snapshot(to), Expected());
      EXPECT_FALSE(fs::exists(RestoringDirFor(to)));
      fs::remove_all(to);
    }
  }
  RecordProperty("backup_fault_points",
                 std::to_string(backup_steps.appends * 3 + backup_steps.syncs + backup_steps.mutations));
  RecordProperty("restore_fault_points",
                 std::to_string(restore_steps.appends * 3 + restore_steps.syncs + restore_steps.mutations));
}

}  // namespace
}  // namespace medledger::backup
