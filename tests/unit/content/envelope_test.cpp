#include "content/envelope.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "content/embedded_store.h"
#include "content/keystore.h"
#include "content/report_vault.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "io/env.h"
#include "io/posix_util.h"
#include "temp_dir.h"

namespace medledger::content {
namespace {

using medledger::testing::TempDir;

TEST(Envelope, SealOpenAndEveryTamperingFails) {
  std::string key = crypto::RandomBytes(32);
  EnvelopeBinding binding{"rep-1", "pat-9"};
  auto sealed = SealEnvelope(key, "kid-1", binding, "the report").value();
  EXPECT_EQ(sealed.substr(0, 7), std::string("MLEV\x01\x01\x05", 7));
  EXPECT_EQ(sealed.size(), 7 + 5 + 12 + 10 + 16u);
  auto parsed = ParseEnvelope(sealed).value();
  EXPECT_EQ(parsed.key_id, "kid-1");
  EXPECT_EQ(OpenEnvelope(key, parsed, binding).value(), "the report");
  // Two seals of the same bytes differ (fresh nonce).
  EXPECT_NE(SealEnvelope(key, "kid-1", binding, "the report").value(), sealed);

  EXPECT_EQ(OpenEnvelope(crypto::RandomBytes(32), parsed, binding).error().code, "decrypt_failed");
  EXPECT_EQ(OpenEnvelope(key, parsed, {"rep-2", "pat-9"}).error().code, "decrypt_failed");
  EXPECT_EQ(OpenEnvelope(key, parsed, {"rep-1", "pat-8"}).error().code, "decrypt_failed");
  // Moving bytes between report id and patient ref is not a collision (length-prefixed AAD).
  EXPECT_EQ(OpenEnvelope(key, parsed, {"rep-1pat-9", ""}).error().code, "decrypt_failed");
  for (size_t i = 0; i < sealed.size(); ++i) {
    if (i == 4 || i == 5) continue;  // version and alg are checked before decryption
    std::string t = sealed;
    t[i] ^= 0x01;
    auto p = ParseEnvelope(t);
    if (!p.ok()) continue;  // a damaged header may already fail to parse
    EXPECT_EQ(OpenEnvelope(key, *p, binding).error().code, "decrypt_failed") << "byte " << i;
  }
  std::string t = sealed;
  t[4] = 2;
  EXPECT_EQ(ParseEnvelope(t).error().code, "envelope_unsupported_version");
  t = sealed;
  t[5] = 9;
  EXPECT_EQ(ParseEnvelope(t).error().code, "envelope_unsupported_alg");
  EXPECT_EQ(ParseEnvelope("MLEX").error().code, "envelope_invalid");
  EXPECT_EQ(ParseEnvelope(sealed.substr(0, 30)).error().code, "envelope_invalid");
  for (size_t n = 0; n < sealed.size(); ++n) {
    std::string prefix = sealed.substr(0, n);  // ParsedEnvelope views into it
    auto p = ParseEnvelope(prefix);
    if (p.ok()) {
      EXPECT_FALSE(OpenEnvelope(key, *p, binding).ok());
    }
  }
  EXPECT_EQ(SealEnvelope("short", "k", binding, "x").error().code, "envelope_bad_key");
  EXPECT_EQ(SealEnvelope(key, "", binding, "x").error().code, "envelope_bad_key_id");
}

TEST(FileKeystore, StoresEncryptedAtRestRotatesAndShreds) {
  TempDir dir;
  std::string master = crypto::RandomBytes(32);
  auto ks = FileKeystore::Open(dir.path() / "ks", master).value();
  std::string dk1 = crypto::RandomBytes(32), dk2 = crypto::RandomBytes(32);
  ASSERT_TRUE(ks->Store("report-1", "k1", dk1).ok());
  ASSERT_TRUE(ks->Store("report-2", "k2", dk2).ok());
  EXPECT_EQ(ks->Store("report-1", "k1", dk1).error().code, "key_exists");
  EXPECT_EQ(ks->Load("report-1", "k1").value(), dk1);
  EXPECT_EQ(ks->Load("report-1", "k2").error().code, "key_destroyed");

  // At rest: 0600 files, and neither a data key nor the report id appears in any of them.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path() / "ks")) {
    if (!e.is_regular_file()) continue;
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(dk1), std::string::npos);
    EXPECT_EQ(bytes.find("report-1"), std::string::npos);
  }
  auto key_file = dir.path() / "ks" / "keys.log";
  std::string before;
  {
    std::ifstream in(key_file, std::ios::binary);
    before.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::string old_kek = ks->current_kek_id();
  ASSERT_TRUE(ks->RotateKek().ok());
  EXPECT_NE(ks->current_kek_id(), old_kek);
  std::string after;
  {
    std::ifstream in(key_file, std::ios::binary);
    after.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  EXPECT_NE(before, after);  // re-wrapped
  EXPECT_EQ(ks->Load("report-1", "k1").value(), dk1);

  // Reopen with the right key, then the wrong one.
  ks.reset();
  ks = FileKeystore::Open(dir.path() / "ks", master).value();
  EXPECT_EQ(ks->Load("report-2", "k2").value(), dk2);
  EXPECT_EQ(FileKeystore::Open(dir.path() / "ks", crypto::RandomBytes(32)).error().code, "keystore_locked");
  EXPECT_EQ(FileKeystore::Open(dir.path() / "ks", "short").error().code, "keystore_bad_master_key");

  // A stale copy of the key log from before rotation no longer unwraps (its KEK is retired).
  {
    std::ofstream out(key_file, std::ios::binary | std::ios::trunc);
    out << before;
  }
  EXPECT_EQ(ks->Load("report-1", "k1").error().code, "keystore_corrupted");

  ASSERT_TRUE(ks->Destroy("report-2").ok());
  EXPECT_EQ(ks->Load("report-2", "k2").error().code, "key_destroyed");
  EXPECT_TRUE(ks->Destroy("report-2").ok());  // idempotent
  // A key log cut under a live record is a precise error, not a crash.
  ASSERT_TRUE(ks->Store("report-3", "k3", dk1).ok());
  std::filesystem::resize_file(key_file, std::filesystem::file_size(key_file) - 3);
  EXPECT_EQ(ks->Load("report-3", "k3").error().code, "keystore_corrupted");
}

// One content store and both keystores: every vault test runs against each.
struct VaultWorld {
  TempDir dir;
  std::unique_ptr<EmbeddedStore> store = EmbeddedStore::Open(dir.path() / "store", Unsynced()).value();
  std::unique_ptr<FileKeystore> file_keys = FileKeystore::Open(dir.path() / "ks", crypto::RandomBytes(32)).value();
  MemoryKeystore mem_keys;

  static EmbeddedStoreOptions Unsynced() {
    EmbeddedStoreOptions so;
    so.sync = false;
    return so;
  }
  std::vector<Keystore*> Keystores() { return {file_keys.get(), &mem_keys}; }
};

TEST(ReportVault, SealAddGetEraseWithMemoryAndFileKeystores) {
  VaultWorld w;
  auto& store = w.store;
  for (Keystore* keys : w.Keystores()) {
    ReportVault vault(*store, *keys);
    std::string doc = "{\"diagnosis\":\"fine\"}" + crypto::RandomBytes(300000);  // more than one chunk
    auto stored = vault.Put("r-1", "p-1", doc).value();
    EXPECT_EQ(stored.content_hash, HexEncode(crypto::Sha256(doc)));
    EXPECT_EQ(stored.cid.substr(0, 4), "bafy");
    // The ciphertext in the store does not contain the plaintext.
    auto cipher = store->Cat(stored.cid).value();
    EXPECT_EQ(cipher.find("diagnosis"), std::string::npos);
    EXPECT_EQ(vault.Get("r-1", "p-1", stored.cid, stored.content_hash).value(), doc);
    EXPECT_EQ(vault.Get("r-1", "p-2", stored.cid, stored.content_hash).error().code, "decrypt_failed");
    EXPECT_EQ(vault.Get("r-1", "p-1", stored.cid, std::string(64, '0')).error().code, "content_hash_mismatch");
    ASSERT_TRUE(keys->RotateKek().ok());
    EXPECT_EQ(vault.Get("r-1", "p-1", stored.cid, stored.content_hash).value(), doc);  // content untouched

    // Erase: the content and its CID remain verifiable, the plaintext is gone.
    ASSERT_TRUE(vault.Erase("r-1").ok());
    EXPECT_EQ(vault.Get("r-1", "p-1", stored.cid, stored.content_hash).error().code, "key_destroyed");
    EXPECT_EQ(store->Cat(stored.cid).value(), cipher);
    EXPECT_EQ(ComputeCid(cipher, ImportOptions::Ipfs(1)).value().ToString(), stored.cid);
    EXPECT_EQ(vault.Put("", "p", "x").error().code, "report_id_required");
  }
}

TEST(FileKeystore, ParallelStoresAndRotationStayConsistent) {
  TempDir dir;
  auto ks = FileKeystore::Open(dir.path() / "ks", crypto::RandomBytes(32)).value();
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "ks").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir.path() / "ks" / "keys.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::vector<std::string> keys(40);
  for (auto& k : keys) k = crypto::RandomBytes(32);
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&, t] {
        for (int i = t; i < 40; i += 4) {
          EXPECT_TRUE(ks->Store("report-" + std::to_string(i % 20), "k" + std::to_string(i), keys[i]).ok());
        }
      });
    }
    workers.emplace_back([&] {
      for (int i = 0; i < 3; ++i) EXPECT_TRUE(ks->RotateKek().ok());
    });
  }
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(ks->Load("report-" + std::to_string(i % 20), "k" + std::to_string(i)).value(), keys[i]) << i;
  }
}

TEST(ReportVault, VersionsShareTheReportsKeysEraseCoversAllDiscardOnlyOne) {
  VaultWorld w;
  auto& store = w.store;
  for (Keystore* keys : w.Keystores()) {
    ReportVault vault(*store, *keys);
    auto v1 = vault.Put("r-9", "p-1", "version one").value();
    auto v2 = vault.Put("r-9", "p-1", "version two").value();
    auto failed = vault.Put("r-9", "p-1", "version three, never committed").value();
    EXPECT_EQ(keys->KeyCount("r-9").value(), 3u);

    // Discard drops only the failed version's key and unpins its content.
    ASSERT_TRUE(vault.Discard("r-9", failed).ok());
    EXPECT_EQ(keys->KeyCount("r-9").value(), 2u);
    EXPECT_EQ(vault.Get("r-9", "p-1", failed.cid, failed.content_hash).error().code, "key_destroyed");
    auto pins = store->Pins().value();
    EXPECT_EQ(std::count(pins.begin(), pins.end(), failed.cid), 0);
    EXPECT_EQ(std::count(pins.begin(), pins.end(), v2.cid), 1);
    auto opened = vault.Fetch("r-9", "p-1", v2.cid, v2.content_hash).value();
    EXPECT_EQ(opened.plaintext, "version two");
    EXPECT_EQ(opened.envelope, store->Cat(v2.cid).value());

    // Erase covers every version and says how many keys went; a second erase is "not found".
    EXPECT_EQ(vault.Erase("r-9").value(), 2u);
    EXPECT_EQ(keys->KeyCount("r-9").value(), 0u);
    EXPECT_EQ(vault.Get("r-9", "p-1", v1.cid, v1.content_hash).error().code, "key_destroyed");
    EXPECT_EQ(vault.Get("r-9", "p-1", v2.cid, v2.content_hash).error().code, "key_destroyed");
    auto again = vault.Erase("r-9");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, "report_not_in_keystore");
    EXPECT_EQ(again.error().kind, ErrorKind::kNotFound);
    EXPECT_TRUE(keys->DestroyKey("r-9", "no-such-key").ok());  // idempotent
  }
}

TEST(FileKeystore, ErasedKeyIsGoneFromDiskAndOtherReportsStillOpen) {
  TempDir dir;
  std::string master = crypto::RandomBytes(32);
  auto ks = FileKeystore::Open(dir.path() / "ks", master).value();
  std::string dk_a = crypto::RandomBytes(32), dk_b = crypto::RandomBytes(32);
  ASSERT_TRUE(ks->Store("a", "k1", dk_a).ok());
  ASSERT_TRUE(ks->Store("b", "k1", dk_b).ok());
  auto log_bytes = [&] {
    std::ifstream in(dir.path() / "ks" / "keys.log", std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  ASSERT_NE(log_bytes().find(crypto::Sha256("a")), std::string::npos);
  EXPECT_EQ(ShredReport(*ks, "a").value(), 1u);
  EXPECT_EQ(log_bytes().find(crypto::Sha256("a")), std::string::npos);  // zeroed in place, with its wrapped key
  // A reopened keystore agrees, rotation after erasure still works, and the other report is intact.
  ks.reset();
  auto reopened = FileKeystore::Open(dir.path() / "ks", master).value();
  EXPECT_EQ(reopened->Load("a", "k1").error().code, "key_destroyed");
  ASSERT_TRUE(reopened->RotateKek().ok());
  EXPECT_EQ(reopened->Load("b", "k1").value(), dk_b);
  EXPECT_EQ(reopened->KeyCount("a").value(), 0u);
}

TEST(FsUtil, AppendLineDurablyAppendsPrivately) {
  TempDir dir;
  auto log = dir.path() / "log.jsonl";
  ASSERT_TRUE(io::AppendLineDurably(*io::Env::Default(), log, "{\"a\":1}").ok());
  ASSERT_TRUE(io::AppendLineDurably(*io::Env::Default(), log, "{\"b\":2}").ok());
  EXPECT_EQ(io::ReadFile(*io::Env::Default(), log).value(), "{\"a\":1}\n{\"b\":2}\n");
  struct stat st {};
  ASSERT_EQ(::stat(log.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(io::AppendLineDurably(*io::Env::Default(), dir.path() / "missing" / "x", "y").error().code, "io_error");
}

}  // namespace
}  // namespace medledger::content

namespace medledger::content {
namespace {

// A consortium's key release: the holder hands out the data key of one version; the reader opens the envelope
// it fetched elsewhere with it, and the recorded hash still decides.
TEST(ReportVault, ReleasedKeysOpenOnlyTheirVersionAndTheRecordedContent) {
  VaultWorld w;
  ReportVault vault(*w.store, w.mem_keys);
  auto v1 = vault.Put("r-5", "p-1", "version one").value();
  auto v2 = vault.Put("r-5", "p-1", "version two").value();
  const std::string key1 = vault.DataKey("r-5", w.store->Cat(v1.cid).value()).value().data_key;
  EXPECT_EQ(vault.DataKey("r-5", w.store->Cat(v1.cid).value()).value().key_id, v1.key_id);
  const std::string env1 = w.store->Cat(v1.cid).value();
  const std::string env2 = w.store->Cat(v2.cid).value();
  EXPECT_EQ(ReportVault::OpenReleased(env1, key1, "r-5", "p-1", v1.content_hash).value(), "version one");
  EXPECT_EQ(ReportVault::OpenReleased(env2, key1, "r-5", "p-1", v2.content_hash).error().code, "decrypt_failed");
  EXPECT_EQ(ReportVault::OpenReleased(env1, key1, "r-6", "p-1", v1.content_hash).error().code, "decrypt_failed");
  EXPECT_EQ(ReportVault::OpenReleased(env1, key1, "r-5", "p-1", v2.content_hash).error().code, "content_hash_mismatch");
  ASSERT_TRUE(vault.Erase("r-5").ok());
  EXPECT_EQ(vault.DataKey("r-5", w.store->Cat(v1.cid).value()).error().code, "key_destroyed");
}

}  // namespace
}  // namespace medledger::content
