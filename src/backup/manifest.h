// The manifest of one backup: what it holds and how it chains to its parent. Stored as manifest.json.enc:
//   "medledger-backup/1\n" | salt (32) | key check (32) | nonce (12) | AES-256-GCM(manifest JSON)
// with the header bytes as AAD. Keys come from the backup secret by HKDF-SHA-256 with the per-backup salt, one
// per purpose (manifest, files, key check), so a wrong secret is told apart from a damaged manifest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "io/env.h"

namespace medledger::backup {

inline constexpr char kManifestFile[] = "manifest.json.enc";
// Held by a running backup in its --out directory (flock): a second backup into it is refused.
inline constexpr char kBackupLockFile[] = "backup.lock";
inline constexpr char kFilesDir[] = "files";
inline constexpr int kBackupFormat = 1;

struct BackupKeys {
  std::string salt;  // 32 random bytes, per backup
  std::string manifest_key;
  std::string file_key;
  std::string key_check;
};
BackupKeys DeriveBackupKeys(std::string_view secret, std::string salt);

enum class EntryKind { kFull, kSuffix, kUnchanged };
const char* EntryKindName(EntryKind kind);

struct ManifestEntry {
  std::string path;  // relative to the data directory, '/'-separated
  EntryKind kind = EntryKind::kFull;
  uint64_t offset = 0;  // kSuffix: where this backup's bytes start; the parent holds [0, offset)
  uint64_t size = 0;    // the whole file's plaintext size after this backup
  std::string sha256;   // hex, of the whole plaintext after this backup
  uint64_t stored = 0;  // plaintext bytes this backup holds for the file
};

struct Manifest {
  int format = kBackupFormat;
  uint64_t number = 0;    // NNNNNN of backup-NNNNNN
  std::string backup_id;  // "NNNNNN-<16 hex>": bound into every chunk's AAD
  std::optional<uint64_t> parent_number;
  std::string parent_id;
  std::string created;  // RFC 3339
  uint64_t ledger_height = 0;
  std::string last_block_hash;  // hex; "" when the ledger is empty or no hash function was given
  std::vector<ManifestEntry> files;
  bool full() const { return !parent_number.has_value(); }
  const ManifestEntry* Find(std::string_view path) const;
};

// Where a file's chunks are stored inside its backup directory: "files/<32 hex>", a keyed hash of its path, so
// a backup copied off site shows neither the data directory's layout nor its file names (patient pseudonyms).
std::string StoredName(const BackupKeys& keys, std::string_view path);

std::string BackupDirName(uint64_t number);  // "backup-000001"
// The number of a "backup-NNNNNN" name, or nullopt.
std::optional<uint64_t> ParseBackupDirName(std::string_view name);

// Seals and writes `dir`/manifest.json.enc atomically (temp, fsync, rename, directory fsync).
Status WriteManifest(io::Env& env, const std::filesystem::path& dir, const Manifest& manifest, const BackupKeys& keys);
// Reads and authenticates the manifest of backup directory `dir` and derives its keys.
// "backup_incomplete" without a manifest, "backup_key_wrong" when the secret is not the one it was written
// with, "backup_corrupted" when the key matches but the manifest does not authenticate or parse.
struct OpenedManifest {
  Manifest manifest;
  BackupKeys keys;
};
Result<OpenedManifest> ReadManifest(io::Env& env, const std::filesystem::path& dir, std::string_view secret);

}  // namespace medledger::backup
