#include "content/block_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <system_error>

#include "common/encoding.h"
#include "content/fs_util.h"

namespace medledger::content {

Result<BlockStore> BlockStore::Open(std::filesystem::path dir, bool sync) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot create " + dir.string() + ": " + ec.message());
  return BlockStore(std::move(dir), sync);
}

std::filesystem::path BlockStore::PathOf(const std::string& digest) const {
  std::string hex = HexEncode(digest);
  return dir_ / hex.substr(0, 2) / hex;
}

Status BlockStore::PutMany(const std::vector<std::pair<Cid, std::string_view>>& blocks) {
  std::set<std::filesystem::path> touched_dirs;
  for (const auto& [cid, data] : blocks) {
    auto path = PathOf(cid.digest());
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) continue;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot create shard: " + ec.message());
    // Not synced here: the fsyncs are batched below, after every write was issued.
    ML_RETURN_IF_ERROR(WriteFileAtomic(path, data, /*sync=*/false));
    if (sync_) touched_dirs.insert(path.parent_path());
  }
  if (sync_) {
    // fdatasync of each block happens here, after all writes were issued, so the kernel writes them back
    // together instead of one round trip per block.
    for (const auto& [cid, data] : blocks) {
      (void)data;
      auto path = PathOf(cid.digest());
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return MakeError(ErrorKind::kIoError, "io_error", "reopen " + path.string());
      int rc = ::fdatasync(fd);
      ::close(fd);
      if (rc != 0) return MakeError(ErrorKind::kIoError, "io_error", "fsync " + path.string());
    }
    for (const auto& d : touched_dirs) ML_RETURN_IF_ERROR(SyncDirectory(d));
    ML_RETURN_IF_ERROR(SyncDirectory(dir_));
  }
  return OkStatus();
}

Result<std::string> BlockStore::Get(const Cid& cid) const {
  auto r = ReadFileBytes(PathOf(cid.digest()));
  if (!r.ok() && r.error().kind == ErrorKind::kNotFound) {
    return MakeError(ErrorKind::kNotFound, "block_not_found", "block " + cid.ToString() + " is not in the store");
  }
  return r;
}

bool BlockStore::Has(const Cid& cid) const {
  std::error_code ec;
  return std::filesystem::exists(PathOf(cid.digest()), ec);
}

Status BlockStore::Delete(const std::string& digest) { return RemoveFileDurably(PathOf(digest)); }

Status BlockStore::ForEach(const std::function<void(const std::string& digest)>& fn) const {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir_, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string name = it->path().filename().string();
    if (name.size() != 64) continue;  // temporary files of interrupted writes
    auto digest = HexDecode(name);
    if (digest.ok()) fn(*digest);
  }
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot list blocks: " + ec.message());
  return OkStatus();
}

}  // namespace medledger::content
