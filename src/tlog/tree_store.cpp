#include "tlog/tree_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>

#include "common/encoding.h"
#include "common/errno_text.h"

namespace medledger::tlog {
namespace {

constexpr std::string_view kMetaMagic = "medledger-tlog/1\n";

Error IoError(const std::string& what, const std::filesystem::path& path, int err) {
  return ErrnoError(what + " " + path.string(), err);
}

Error Corrupt(const std::string& why) {
  return MakeError(ErrorKind::kCorruption, "tlog_corrupt", why);
}

Status PwriteAll(int fd, std::string_view data, uint64_t offset, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return OkStatus();
}

Result<std::string> PreadExact(int fd, size_t size, uint64_t offset, const std::filesystem::path& path) {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("read", path, errno);
    }
    if (n == 0) return Corrupt(path.string() + " is shorter than its committed size");
    done += static_cast<size_t>(n);
  }
  return out;
}

Result<uint64_t> FileSize(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return IoError("stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

Result<UniqueFd> OpenFile(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return IoError("open", path, errno);
  return fd;
}

// Cuts a file back to `size` bytes (the tail of an uncommitted or torn append) after checking it holds at
// least that much.
Status TruncateTo(int fd, uint64_t size, const std::filesystem::path& path) {
  ML_ASSIGN_OR_RETURN(uint64_t have, FileSize(fd, path));
  if (have < size) return Corrupt(path.string() + " is shorter than the committed tree");
  if (have > size && ::ftruncate(fd, static_cast<off_t>(size)) != 0) return IoError("truncate", path, errno);
  return OkStatus();
}

// The Merkle root of 2^k hashes of equal-size complete subtrees.
std::string BalancedRoot(std::vector<std::string> hashes) {
  while (hashes.size() > 1) {
    std::vector<std::string> next;
    next.reserve(hashes.size() / 2);
    for (size_t i = 0; i + 1 < hashes.size(); i += 2) next.push_back(NodeHash(hashes[i], hashes[i + 1]));
    hashes = std::move(next);
  }
  return hashes.empty() ? std::string() : std::move(hashes[0]);
}

std::vector<std::string> SplitHashes(std::string_view concatenated) {
  std::vector<std::string> out;
  out.reserve(concatenated.size() / kHashSize);
  for (size_t at = 0; at + kHashSize <= concatenated.size(); at += kHashSize) {
    out.emplace_back(concatenated.substr(at, kHashSize));
  }
  return out;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

class TreeStore::Unlocked : public HashReader {
 public:
  explicit Unlocked(const TreeStore& s) : s_(s) {}
  Result<std::string> StoredHash(int level, uint64_t index) const override { return s_.StoredHashLocked(level, index); }

 private:
  const TreeStore& s_;
};

Result<std::unique_ptr<TreeStore>> TreeStore::Open(const std::filesystem::path& dir, io::Env* env) {
  if (env == nullptr) env = io::Env::Default();
  ML_RETURN_IF_ERROR(env->CreateDirs(dir.string()));
  auto lock = env->LockFile((dir / "lock").string());
  if (!lock.ok()) {
    if (lock.error().code == "locked") {
      return MakeError(ErrorKind::kUnavailable, "tlog_locked", dir.string() + " is open in another process");
    }
    return lock.error();
  }
  std::unique_ptr<TreeStore> store(new TreeStore(dir, env, std::move(*lock)));
  ML_RETURN_IF_ERROR(store->Load());
  return store;
}

TreeStore::~TreeStore() = default;

Status TreeStore::OpenLevel(size_t k) {
  while (levels_.size() <= k) {
    const auto path = dir_ / ("level-" + std::to_string(levels_.size()) + ".hashes");
    ML_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path));
    HashLevel level;
    level.fd = std::move(fd);
    levels_.push_back(std::move(level));
  }
  return OkStatus();
}

Status TreeStore::Load() {
  // The meta file: absent means an empty, new store.
  const auto meta_path = dir_ / "meta";
  auto meta = io::ReadFile(*env_, meta_path.string(), 256);
  if (meta.ok()) {
    const std::string& text = *meta;
    if (text.substr(0, kMetaMagic.size()) != kMetaMagic) return Corrupt("meta file has an unknown format");
    std::string_view rest = std::string_view(text).substr(kMetaMagic.size());
    const size_t nl1 = rest.find('\n');
    const size_t nl2 = nl1 == std::string_view::npos ? nl1 : rest.find('\n', nl1 + 1);
    if (nl2 == std::string_view::npos || nl2 + 1 != rest.size() || !ParseU64(rest.substr(0, nl1), &committed_size_) ||
        !ParseU64(rest.substr(nl1 + 1, nl2 - nl1 - 1), &committed_cursor_)) {
      return Corrupt("meta file is malformed");
    }
  } else if (meta.error().code == "too_large") {
    return Corrupt("meta file too large");
  } else if (meta.error().code != "not_found") {
    return meta.error();
  }

  ML_ASSIGN_OR_RETURN(entries_index_, OpenFile(dir_ / "entries.index"));
  ML_ASSIGN_OR_RETURN(entries_data_, OpenFile(dir_ / "entries.data"));
  ML_RETURN_IF_ERROR(TruncateTo(entries_index_.get(), committed_size_ * 8, dir_ / "entries.index"));
  if (committed_size_ > 0) {
    ML_ASSIGN_OR_RETURN(data_size_, EntryEnd(committed_size_ - 1));
  }
  ML_RETURN_IF_ERROR(TruncateTo(entries_data_.get(), data_size_, dir_ / "entries.data"));

  // Level k holds size >> 8k hashes; files of higher levels than the tree needs are emptied too.
  for (size_t k = 0;; ++k) {
    const uint64_t count = k * kTileHeight >= 64 ? 0 : committed_size_ >> (k * kTileHeight);
    const auto path = dir_ / ("level-" + std::to_string(k) + ".hashes");
    if (count == 0 && k > 0 && !std::filesystem::exists(path)) break;
    ML_RETURN_IF_ERROR(OpenLevel(k));
    ML_RETURN_IF_ERROR(TruncateTo(levels_[k].fd.get(), count * kHashSize, path));
    levels_[k].flushed = count;
  }
  return OpenLevel(0);
}

Result<uint64_t> TreeStore::EntryEnd(uint64_t index) const {
  ML_ASSIGN_OR_RETURN(std::string raw, PreadExact(entries_index_.get(), 8, index * 8, dir_ / "entries.index"));
  return DecodeFixed64(raw.data());
}

Status TreeStore::Append(std::string_view leaf) {
  std::lock_guard lock(mu_);
  if (leaf.size() > kMaxLeafSize) {
    return MakeError(ErrorKind::kTooLarge, "leaf_too_large", "a log leaf is at most 65535 bytes");
  }
  if (pending_entries_.size() >= kMaxPendingLeaves || pending_bytes_ + leaf.size() > kMaxPendingBytes) {
    return MakeError(ErrorKind::kResourceExhausted, "tlog_pending_full", "commit before appending more");
  }
  // Compute everything first, then mutate, so a read error leaves the store unchanged.
  std::vector<std::string> added{LeafHash(leaf)};
  uint64_t count = SizeLocked() + 1;  // level-k count after the append
  for (size_t k = 0; count % kTileWidth == 0; ++k) {
    // The level-k hashes just completed 256 of them: their root is the next level's new hash.
    ML_ASSIGN_OR_RETURN(std::string range, LevelRange(k, count - kTileWidth, kTileWidth - 1));
    std::vector<std::string> last = SplitHashes(range);
    last.push_back(added.back());
    added.push_back(BalancedRoot(std::move(last)));
    count /= kTileWidth;
  }
  ML_RETURN_IF_ERROR(OpenLevel(added.size() - 1));
  for (size_t k = 0; k < added.size(); ++k) levels_[k].pending.push_back(std::move(added[k]));
  pending_entries_.emplace_back(leaf);
  pending_bytes_ += leaf.size();
  return OkStatus();
}

void TreeStore::DiscardPending() {
  std::lock_guard lock(mu_);
  pending_entries_.clear();
  pending_bytes_ = 0;
  for (auto& level : levels_) level.pending.clear();
}

Status TreeStore::Commit(uint64_t cursor) {
  std::lock_guard lock(mu_);
  // Data first (written past the committed size, so a crash here is truncated away on Open), then meta.
  std::string index;
  std::string data;
  uint64_t end = data_size_;
  for (const auto& e : pending_entries_) {
    data += e;
    end += e.size();
    PutFixed64(&index, end);
  }
  ML_RETURN_IF_ERROR(PwriteAll(entries_data_.get(), data, data_size_, dir_ / "entries.data"));
  ML_RETURN_IF_ERROR(PwriteAll(entries_index_.get(), index, committed_size_ * 8, dir_ / "entries.index"));
  for (size_t k = 0; k < levels_.size(); ++k) {
    std::string hashes;
    for (const auto& h : levels_[k].pending) hashes += h;
    const auto path = dir_ / ("level-" + std::to_string(k) + ".hashes");
    ML_RETURN_IF_ERROR(PwriteAll(levels_[k].fd.get(), hashes, levels_[k].flushed * kHashSize, path));
  }
  for (size_t k = 0; k < levels_.size(); ++k) {
    if (::fdatasync(levels_[k].fd.get()) != 0) return IoError("fsync", dir_ / "level", errno);
  }
  if (::fdatasync(entries_data_.get()) != 0) return IoError("fsync", dir_ / "entries.data", errno);
  if (::fdatasync(entries_index_.get()) != 0) return IoError("fsync", dir_ / "entries.index", errno);

  const uint64_t new_size = SizeLocked();
  ML_RETURN_IF_ERROR(WriteMeta(new_size, cursor));
  committed_size_ = new_size;
  committed_cursor_ = cursor;
  data_size_ = end;
  pending_entries_.clear();
  pending_bytes_ = 0;
  for (auto& level : levels_) {
    level.flushed += level.pending.size();
    level.pending.clear();
  }
  return OkStatus();
}

Status TreeStore::WriteMeta(uint64_t size, uint64_t cursor) {
  return io::WriteFileAtomic(*env_, (dir_ / "meta").string(),
                             std::string(kMetaMagic) + std::to_string(size) + "\n" + std::to_string(cursor) + "\n");
}

uint64_t TreeStore::Size() const {
  std::lock_guard lock(mu_);
  return SizeLocked();
}

uint64_t TreeStore::CommittedSize() const {
  std::lock_guard lock(mu_);
  return committed_size_;
}

uint64_t TreeStore::CommittedCursor() const {
  std::lock_guard lock(mu_);
  return committed_cursor_;
}

Result<std::string> TreeStore::LevelHash(size_t k, uint64_t i) const {
  if (k >= levels_.size()) return MakeError(ErrorKind::kNotFound, "hash_not_found", "no such tile level");
  const HashLevel& level = levels_[k];
  if (i < level.flushed) {
    return PreadExact(level.fd.get(), kHashSize, i * kHashSize, dir_ / ("level-" + std::to_string(k) + ".hashes"));
  }
  if (i - level.flushed < level.pending.size()) return level.pending[i - level.flushed];
  return MakeError(ErrorKind::kNotFound, "hash_not_found", "the tree has no such subtree yet");
}

Result<std::string> TreeStore::LevelRange(size_t k, uint64_t start, uint64_t count) const {
  if (k >= levels_.size()) return MakeError(ErrorKind::kNotFound, "hash_not_found", "no such tile level");
  const HashLevel& level = levels_[k];
  if (count > kTileWidth || start > level.flushed + level.pending.size() ||
      count > level.flushed + level.pending.size() - start) {
    return MakeError(ErrorKind::kNotFound, "hash_not_found", "the tree has no such subtree yet");
  }
  std::string out;
  if (start < level.flushed) {
    const uint64_t on_disk = std::min(count, level.flushed - start);
    ML_ASSIGN_OR_RETURN(out, PreadExact(level.fd.get(), on_disk * kHashSize, start * kHashSize,
                                        dir_ / ("level-" + std::to_string(k) + ".hashes")));
  }
  for (uint64_t i = std::max(start, level.flushed); i < start + count; ++i) out += level.pending[i - level.flushed];
  return out;
}

Result<std::string> TreeStore::StoredHashLocked(int level, uint64_t index) const {
  if (level < 0 || level >= 64) return MakeError(ErrorKind::kNotFound, "hash_not_found", "no such level");
  const size_t k = static_cast<size_t>(level) / kTileHeight;
  const int r = level % kTileHeight;
  if (r == 0) return LevelHash(k, index);
  // An interior node between tile levels: the root of the 2^r level-k hashes below it.
  const uint64_t width = uint64_t{1} << r;
  if (index > (UINT64_MAX >> r)) return MakeError(ErrorKind::kNotFound, "hash_not_found", "index too large");
  const uint64_t tile = index >> (kTileHeight - r);
  if (k < levels_.size() && tile < levels_[k].flushed / kTileWidth) {
    // A complete, committed tile never changes: its interior nodes are computed once and kept.
    ML_ASSIGN_OR_RETURN(const TileNodes* nodes, CompleteTileNodes(k, tile));
    const uint64_t local = index - (tile << (kTileHeight - r));
    const size_t offset = kTileWidth - (kTileWidth >> (r - 1));  // nodes of the levels below r
    return nodes->substr((offset + local) * kHashSize, kHashSize);
  }
  ML_ASSIGN_OR_RETURN(std::string range, LevelRange(k, index << r, width));
  return BalancedRoot(SplitHashes(range));
}

Result<const TreeStore::TileNodes*> TreeStore::CompleteTileNodes(size_t k, uint64_t tile) const {
  const uint64_t key = (static_cast<uint64_t>(k) << 56) | tile;
  if (auto it = tile_nodes_.find(key); it != tile_nodes_.end()) return &it->second;
  ML_ASSIGN_OR_RETURN(std::string range, LevelRange(k, tile * kTileWidth, kTileWidth));
  // Levels 1..7 above the tile's 256 hashes, bottom-up: 128 + 64 + ... + 2 = 254 nodes.
  TileNodes nodes;
  nodes.reserve(254 * kHashSize);
  std::vector<std::string> cur = SplitHashes(range);
  while (cur.size() > 2) {
    std::vector<std::string> next;
    next.reserve(cur.size() / 2);
    for (size_t i = 0; i + 1 < cur.size(); i += 2) next.push_back(NodeHash(cur[i], cur[i + 1]));
    for (const auto& h : next) nodes += h;
    cur = std::move(next);
  }
  if (tile_nodes_.size() >= kMaxCachedTiles) tile_nodes_.clear();
  return &tile_nodes_.emplace(key, std::move(nodes)).first->second;
}

Result<std::string> TreeStore::StoredHash(int level, uint64_t index) const {
  std::lock_guard lock(mu_);
  return StoredHashLocked(level, index);
}

Result<std::string> TreeStore::RootHash(uint64_t size) const {
  std::lock_guard lock(mu_);
  if (size > SizeLocked()) return MakeError(ErrorKind::kInvalidArgument, "size_out_of_range", "beyond the tree");
  return tlog::RootHash(Unlocked(*this), size);
}

Result<std::vector<std::string>> TreeStore::InclusionProof(uint64_t index, uint64_t size) const {
  std::lock_guard lock(mu_);
  if (size > SizeLocked()) return MakeError(ErrorKind::kInvalidArgument, "size_out_of_range", "beyond the tree");
  return tlog::InclusionProof(Unlocked(*this), index, size);
}

Result<std::vector<std::string>> TreeStore::ConsistencyProof(uint64_t m, uint64_t n) const {
  std::lock_guard lock(mu_);
  if (n > SizeLocked()) return MakeError(ErrorKind::kInvalidArgument, "size_out_of_range", "beyond the tree");
  return tlog::ConsistencyProof(Unlocked(*this), m, n);
}

Result<std::string> TreeStore::LeafLocked(uint64_t index) const {
  if (index >= SizeLocked()) {
    return MakeError(ErrorKind::kNotFound, "index_out_of_range", "the tree has no such leaf");
  }
  if (index >= committed_size_) return pending_entries_[index - committed_size_];
  uint64_t start = 0;
  if (index > 0) {
    ML_ASSIGN_OR_RETURN(start, EntryEnd(index - 1));
  }
  ML_ASSIGN_OR_RETURN(uint64_t end, EntryEnd(index));
  if (end < start || end - start > kMaxLeafSize || end > data_size_) return Corrupt("entries.index is inconsistent");
  return PreadExact(entries_data_.get(), end - start, start, dir_ / "entries.data");
}

Result<std::string> TreeStore::Leaf(uint64_t index) const {
  std::lock_guard lock(mu_);
  return LeafLocked(index);
}

Result<std::string> TreeStore::Tile(int level, uint64_t n, uint64_t width) const {
  std::lock_guard lock(mu_);
  if (level < 0 || level > 7 || width == 0 || width > kTileWidth || n > (UINT64_MAX >> kTileHeight) - 1) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_tile", "no such tile");
  }
  const size_t k = static_cast<size_t>(level);
  const uint64_t have = k < levels_.size() ? levels_[k].flushed + levels_[k].pending.size() : 0;
  const uint64_t start = n * kTileWidth;
  if (start + width > have) return MakeError(ErrorKind::kNotFound, "tile_not_found", "the tree has no such tile");
  return LevelRange(k, start, width);
}

Result<std::string> TreeStore::EntryBundle(uint64_t n, uint64_t width) const {
  std::lock_guard lock(mu_);
  if (width == 0 || width > kTileWidth || n > (UINT64_MAX >> kTileHeight) - 1) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_tile", "no such tile");
  }
  const uint64_t start = n * kTileWidth;
  if (start + width > SizeLocked()) {
    return MakeError(ErrorKind::kNotFound, "tile_not_found", "the tree has no such entries");
  }
  std::string out;
  for (uint64_t i = start; i < start + width; ++i) {
    ML_ASSIGN_OR_RETURN(std::string leaf, LeafLocked(i));
    out.push_back(static_cast<char>(leaf.size() >> 8));
    out.push_back(static_cast<char>(leaf.size() & 0xFF));
    out += leaf;
  }
  return out;
}

}  // namespace medledger::tlog
