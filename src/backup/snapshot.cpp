#include "backup/snapshot.h"

#include <algorithm>
#include <system_error>

#include "backup/errors.h"
#include "ledger/storage/block_store.h"

namespace medledger::backup {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
std::string_view BaseName(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

}  // namespace

bool Excluded(std::string_view rel) {
  if (rel == "ledger/state" || StartsWith(rel, "ledger/state/")) return true;
  if (rel == "server/idempotency" || StartsWith(rel, "server/idempotency/")) return true;
  if (rel == "server/refresh-tokens.json") return true;
  // Derived, and it may describe a longer chain than the blocks a backup copies: restore runs verify afresh.
  if (rel == "ledger/verify-checkpoint.json") return true;
  std::string_view base = BaseName(rel);
  if (base == "LOCK" || base == "lock" || EndsWith(base, ".lock")) return true;
  // io::WriteFileAtomic writes "<name>.tmp-<hex>" and renames it over <name>.
  return base.find(".tmp-") != std::string_view::npos || EndsWith(base, ".tmp");
}

Result<std::vector<std::string>> ListDataFiles(const std::filesystem::path& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) {
    return MakeError(ErrorKind::kNotFound, "data_dir_not_found", data_dir.string() + " is not a data directory");
  }
  std::vector<std::string> out;
  fs::recursive_directory_iterator it(data_dir, fs::directory_options::none, ec);
  if (ec) return IoError("list", data_dir.string(), ec.value());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return IoError("list", data_dir.string(), ec.value());
    std::string rel = it->path().lexically_relative(data_dir).generic_string();
    std::error_code st_ec;
    auto status = it->symlink_status(st_ec);
    if (st_ec) continue;  // vanished while listing
    if (fs::is_directory(status)) {
      if (Excluded(rel)) it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(status) || Excluded(rel)) continue;
    out.push_back(std::move(rel));
  }
  std::sort(out.begin(), out.end());
  return out;
}

int LogCopyRank(std::string_view rel) {
  if (rel == "log/tree/meta") return 1;
  std::string_view base = BaseName(rel);
  if (rel == "log/block-ends" || base == "entries.data" || base == "entries.index" ||
      (StartsWith(base, "level-") && EndsWith(base, ".hashes"))) {
    return 2;
  }
  return 0;
}

Result<LedgerCut> CutLedger(const std::filesystem::path& data_dir, const BlockHashFn& block_hash) {
  namespace fs = std::filesystem;
  namespace le = ledger::storage;
  LedgerCut cut;
  const fs::path dir = data_dir / kBlocksDir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return cut;
  le::BlockStoreOptions options;
  options.read_only = true;  // the server owns the store; a torn tail it is still writing is left alone
  ML_ASSIGN_OR_RETURN(auto store, le::BlockStore::Open(dir.string(), nullptr, options));
  cut.height = store->Height();
  if (cut.height == 0) return cut;
  ML_ASSIGN_OR_RETURN(le::RawBlockRecord last, store->ReadRaw(cut.height - 1));
  if (!last.checksum_ok()) {
    return MakeError(ErrorKind::kCorruption, "block_corrupt",
                     "block " + std::to_string(cut.height - 1) + " fails its checksum; run medledger verify");
  }
  if (block_hash) {
    ML_ASSIGN_OR_RETURN(cut.last_block_hash, block_hash(last.payload));
  }
  const std::string last_file = fs::path(last.file).filename().string();
  const uint64_t end = last.offset + le::kBlockRecordHeaderSize + last.payload.size();
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (StartsWith(name, "blockfile_") && name <= last_file) names.push_back(std::move(name));
  }
  if (ec) return IoError("list", dir.string(), ec.value());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    uint64_t length = end;
    if (name != last_file) {
      // Files before the last one were rolled over and are never written again.
      length = fs::file_size(dir / name, ec);
      if (ec) return IoError("stat", (dir / name).string(), ec.value());
    }
    cut.block_files.push_back({std::string(kBlocksDir) + "/" + name, length});
  }
  return cut;
}

}  // namespace medledger::backup
