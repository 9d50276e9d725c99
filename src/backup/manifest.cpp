#include "backup/manifest.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "backup/errors.h"
#include "common/encoding.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "io/env.h"

namespace medledger::backup {
namespace {

using nlohmann::json;

constexpr std::string_view kMagic = "medledger-backup/1\n";
constexpr size_t kSaltSize = 32;
constexpr size_t kKeyCheckSize = 32;
constexpr size_t kHeaderSize = kMagic.size() + kSaltSize + kKeyCheckSize + crypto::kGcmNonceSize;
constexpr size_t kMaxManifestBytes = 256 << 20;  // a million files' entries, far beyond any data directory

std::string Derive(std::string_view secret, std::string_view salt, std::string_view purpose) {
  // HKDF fails only for an impossible length; 32 bytes is always valid.
  return crypto::HkdfSha256(secret, salt, purpose, 32).value();
}

std::optional<EntryKind> ParseKind(std::string_view s) {
  if (s == "full") return EntryKind::kFull;
  if (s == "suffix") return EntryKind::kSuffix;
  if (s == "unchanged") return EntryKind::kUnchanged;
  return std::nullopt;
}

json ToJson(const Manifest& m) {
  json files = json::array();
  for (const auto& f : m.files) {
    files.push_back({{"path", f.path},
                     {"kind", EntryKindName(f.kind)},
                     {"offset", f.offset},
                     {"size", f.size},
                     {"sha256", f.sha256},
                     {"stored", f.stored}});
  }
  return {{"format", m.format},
          {"number", m.number},
          {"backupId", m.backup_id},
          {"parentNumber", m.parent_number ? json(*m.parent_number) : json(nullptr)},
          {"parentId", m.parent_id},
          {"created", m.created},
          {"ledgerHeight", m.ledger_height},
          {"lastBlockHash", m.last_block_hash},
          {"files", std::move(files)}};
}

// A path from a manifest becomes a path under the restore directory, so it must not escape it.
bool SafeRelativePath(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.size() > 4096) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return p.find('\0') == std::string_view::npos;
}

Result<Manifest> FromJson(const json& j, const std::string& display) {
  auto bad = [&](const std::string& why) { return Corrupted(display, why); };
  if (!j.is_object()) return bad("the manifest is not a JSON object");
  Manifest m;
  try {
    m.format = j.at("format").get<int>();
    if (m.format != kBackupFormat) return bad("manifest format " + std::to_string(m.format) + " is not supported");
    m.number = j.at("number").get<uint64_t>();
    m.backup_id = j.at("backupId").get<std::string>();
    if (!j.at("parentNumber").is_null()) m.parent_number = j.at("parentNumber").get<uint64_t>();
    m.parent_id = j.at("parentId").get<std::string>();
    m.created = j.at("created").get<std::string>();
    m.ledger_height = j.at("ledgerHeight").get<uint64_t>();
    m.last_block_hash = j.at("lastBlockHash").get<std::string>();
    for (const auto& f : j.at("files")) {
      ManifestEntry e;
      e.path = f.at("path").get<std::string>();
      if (!SafeRelativePath(e.path)) return bad("a file path leaves the data directory: " + e.path);
      auto kind = ParseKind(f.at("kind").get<std::string>());
      if (!kind) return bad("unknown kind for " + e.path);
      e.kind = *kind;
      e.offset = f.at("offset").get<uint64_t>();
      e.size = f.at("size").get<uint64_t>();
      e.sha256 = f.at("sha256").get<std::string>();
      e.stored = f.at("stored").get<uint64_t>();
      m.files.push_back(std::move(e));
    }
  } catch (const json::exception& e) {
    return bad(std::string("malformed manifest: ") + e.what());
  }
  return m;
}

}  // namespace

BackupKeys DeriveBackupKeys(std::string_view secret, std::string salt) {
  BackupKeys k;
  k.manifest_key = Derive(secret, salt, "medledger-backup/1 manifest key");
  k.file_key = Derive(secret, salt, "medledger-backup/1 file key");
  k.key_check = Derive(secret, salt, "medledger-backup/1 key check");
  k.salt = std::move(salt);
  return k;
}

const char* EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kFull: return "full";
    case EntryKind::kSuffix: return "suffix";
    case EntryKind::kUnchanged: return "unchanged";
  }
  return "full";
}

const ManifestEntry* Manifest::Find(std::string_view path) const {
  for (const auto& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

std::string StoredName(const BackupKeys& keys, std::string_view path) {
  return std::string(kFilesDir) + "/" + HexEncode(crypto::HmacSha256(keys.file_key, path)).substr(0, 32);
}

std::string BackupDirName(uint64_t number) {
  std::string digits = std::to_string(number);
  if (digits.size() < 6) digits.insert(0, 6 - digits.size(), '0');
  return "backup-" + digits;
}

std::optional<uint64_t> ParseBackupDirName(std::string_view name) {
  constexpr std::string_view kPrefix = "backup-";
  if (name.size() < kPrefix.size() + 6 || name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view digits = name.substr(kPrefix.size());
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  if (BackupDirName(n) != name) return std::nullopt;  // one spelling per number
  return n;
}

Status WriteManifest(io::Env& env, const std::filesystem::path& dir, const Manifest& manifest, const BackupKeys& keys) {
  std::string header(kMagic);
  header += keys.salt;
  header += keys.key_check;
  header += crypto::RandomBytes(crypto::kGcmNonceSize);
  ML_ASSIGN_OR_RETURN(std::string sealed,
                      crypto::AesGcmSeal(keys.manifest_key, header.substr(header.size() - crypto::kGcmNonceSize),
                                         ToJson(manifest).dump(), header));
  return io::WriteFileAtomic(env, dir / kManifestFile, header + sealed);
}

Result<OpenedManifest> ReadManifest(io::Env& env, const std::filesystem::path& dir, std::string_view secret) {
  const std::string display = dir.filename().string() + "/" + kManifestFile;
  auto raw = io::ReadFile(env, dir / kManifestFile, kMaxManifestBytes);
  if (!raw.ok()) {
    if (raw.error().code == "not_found") {
      return Incomplete(dir.filename().string() + " has no manifest: the backup did not finish");
    }
    return raw.error();
  }
  const std::string& bytes = *raw;
  if (bytes.size() < kHeaderSize + crypto::kGcmTagSize || bytes.compare(0, kMagic.size(), kMagic) != 0) {
    return Corrupted(display, "not a medledger backup manifest");
  }
  std::string salt = bytes.substr(kMagic.size(), kSaltSize);
  std::string check = bytes.substr(kMagic.size() + kSaltSize, kKeyCheckSize);
  BackupKeys keys = DeriveBackupKeys(secret, salt);
  if (!crypto::ConstantTimeEquals(check, keys.key_check)) return KeyWrong(display);
  std::string header = bytes.substr(0, kHeaderSize);
  auto plain = crypto::AesGcmOpen(keys.manifest_key, header.substr(header.size() - crypto::kGcmNonceSize),
                                  std::string_view(bytes).substr(kHeaderSize), header);
  if (!plain.ok()) return Corrupted(display, "the manifest fails authentication");
  json j = json::parse(*plain, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupted(display, "the manifest is not JSON");
  ML_ASSIGN_OR_RETURN(Manifest m, FromJson(j, display));
  auto number = ParseBackupDirName(dir.filename().string());
  if (!number || *number != m.number) {
    return ChainBroken(display + " belongs to " + BackupDirName(m.number) + ", not to " + dir.filename().string());
  }
  return OpenedManifest{std::move(m), std::move(keys)};
}

}  // namespace medledger::backup
