#include "content/block_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <system_error>
#include <thread>

#include "common/encoding.h"
#include "content/fs_util.h"

namespace medledger::content {

Result<BlockStore> BlockStore::Open(std::filesystem::path dir, bool sync, unsigned threads) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot create " + dir.string() + ": " + ec.message());
  // All 256 shards up front: PutMany then never races on creating a directory.
  for (int i = 0; i < 256; ++i) {
    std::filesystem::create_directories(dir / HexEncode(std::string(1, static_cast<char>(i))), ec);
    if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot create shard: " + ec.message());
  }
  return BlockStore(std::move(dir), sync, std::max(1u, threads));
}

std::filesystem::path BlockStore::PathOf(const std::string& digest) const {
  std::string hex = HexEncode(digest);
  return dir_ / hex.substr(0, 2) / hex;
}

Status BlockStore::WriteRange(const std::vector<std::pair<Cid, std::string_view>>& blocks, size_t begin,
                              size_t end) const {
  for (size_t i = begin; i < end; ++i) {
    // Content-addressed: a present block is identical. Each block is fdatasynced before its rename; the
    // shard directories are fsynced once, by the caller.
    ML_RETURN_IF_ERROR(WriteOne(blocks[i].first, blocks[i].second));
  }
  return OkStatus();
}

Status BlockStore::WriteOne(const Cid& cid, std::string_view data) const {
  auto path = PathOf(cid.digest());
  // Content-addressed: a present block of the right size is this block. A wrong size is a write that a crash
  // cut short before anything was acknowledged (possible when syncing is deferred to a barrier): rewrite it.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) == data.size()) return OkStatus();
  return WriteFileAtomic(path, data, sync_, /*private_file=*/false, /*sync_dir=*/false);
}

Status BlockStore::PutMany(const std::vector<std::pair<Cid, std::string_view>>& blocks) {
  size_t n = blocks.size();
  unsigned threads = static_cast<unsigned>(std::min<size_t>(threads_, n / 4 + 1));
  if (threads <= 1) {
    ML_RETURN_IF_ERROR(WriteRange(blocks, 0, n));
  } else {
    // Writing is copying into the page cache plus, when syncing, waiting on the disk: both overlap well.
    std::vector<Status> results(threads);
    {
      std::vector<std::jthread> pool;
      size_t per = (n + threads - 1) / threads;
      for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back(
            [&, t] { results[t] = WriteRange(blocks, std::min(n, t * per), std::min(n, (t + 1) * per)); });
      }
    }
    for (const auto& r : results) ML_RETURN_IF_ERROR(r);
  }
  if (sync_) {
    std::set<std::filesystem::path> dirs;
    for (const auto& [cid, data] : blocks) dirs.insert(PathOf(cid.digest()).parent_path());
    for (const auto& d : dirs) ML_RETURN_IF_ERROR(SyncDirectory(d));
  }
  return OkStatus();
}

Result<std::string> BlockStore::Get(const Cid& cid) const {
  std::string out;
  ML_RETURN_IF_ERROR(Read(cid, &out));
  return out;
}

Status BlockStore::Read(const Cid& cid, std::string* out) const {
  auto r = ReadFileInto(PathOf(cid.digest()), out);
  if (!r.ok() && r.error().kind == ErrorKind::kNotFound) {
    return MakeError(ErrorKind::kNotFound, "block_not_found", "block " + cid.ToString() + " is not in the store");
  }
  return r;
}

bool BlockStore::Has(const Cid& cid) const {
  return ::access(PathOf(cid.digest()).c_str(), F_OK) == 0;
}

Status BlockStore::Delete(const std::string& digest) {
  return RemoveFileDurably(PathOf(digest));
}

Result<size_t> BlockStore::RemoveTemporaries() {
  std::vector<std::filesystem::path> litter;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir_, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename().string().find(".tmp.") != std::string::npos) {
      litter.push_back(it->path());
    }
  }
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot list blocks: " + ec.message());
  for (const auto& p : litter) ML_RETURN_IF_ERROR(RemoveFileDurably(p));
  return litter.size();
}

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
