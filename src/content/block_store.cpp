#include "content/block_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/encoding.h"
#include "common/errno_text.h"
#include "common/private_dir.h"
#include "common/unique_fd.h"
#include "crypto/hash.h"
#include "io/env.h"
#include "io/posix_util.h"

namespace medledger::content {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[4] = {'M', 'L', 'B', '1'};
constexpr char kIdxMagic[8] = {'M', 'L', 'B', 'I', 'D', 'X', '1', '\n'};
constexpr size_t kHeaderSize = 48;
constexpr size_t kDigestSize = 32;
constexpr uint8_t kBlock = 1;
constexpr uint8_t kTombstone = 2;
constexpr uint8_t kPadding = 3;       // fills the space of an append that failed, so later records stay reachable
constexpr size_t kIdxEntrySize = 48;  // digest 32 | kind 1 | 3 zero | length u32 | data offset u64
// Batches start and end here: O_DIRECT needs the logical block size (512 on most disks, 4096 on some).
constexpr uint64_t kDirectAlign = 4096;

Error IoError(const std::string& what, int err = errno) {
  return ErrnoError(what, err);
}

std::string PackName(uint32_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "pack-%08u.dat", n);
  return buf;
}

std::optional<uint32_t> PackNumber(const std::string& name) {
  if (name.size() != 17 || name.rfind("pack-", 0) != 0 || name.substr(13) != ".dat") return std::nullopt;
  uint32_t n = 0;
  for (size_t i = 5; i < 13; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<uint32_t>(name[i] - '0');
  }
  return n;
}

// One record as the index files and the open pack's scan describe it.
struct Record {
  std::string digest;
  uint8_t kind = 0;
  uint32_t size = 0;
  uint64_t offset = 0;   // of the data
  bool suspect = false;  // in the open pack, its data did not re-hash to its digest
};

// The record whose header is at `at` if the header parses and the record fits in `size` bytes.
std::optional<Record> ParseHeader(const char* h, uint64_t at, uint64_t size) {
  if (std::memcmp(h, kMagic, 4) != 0) return std::nullopt;
  Record r{std::string(h + 16, kDigestSize), static_cast<uint8_t>(h[4]), DecodeFixed32LE(h + 8), at + kHeaderSize};
  if (r.kind != kBlock && r.kind != kTombstone && r.kind != kPadding) return std::nullopt;
  if (r.offset + r.size > size || (r.kind == kTombstone && r.size != 0)) return std::nullopt;
  return r;
}

// A pack's descriptor, shared by readers that outlive a compaction removing the pack.
using File = UniqueFd;

Status PreadAll(int fd, char* buf, size_t n, uint64_t offset, const std::string& what) {
  const ssize_t got = io::PreadFull(fd, buf, n, offset);
  if (got < 0) return IoError("read " + what);
  if (static_cast<size_t>(got) < n) return MakeError(ErrorKind::kCorruption, "content_corrupted", what + " ends early");
  return OkStatus();
}

Status CheckSize(std::string_view data) {
  if (data.size() > UINT32_MAX) {
    return MakeError(ErrorKind::kTooLarge, "block_too_large", "a block is limited to 4 GiB");
  }
  return OkStatus();
}

// `h` must hold kHeaderSize bytes; a padding record has no digest (zeros).
void EncodeHeader(char* h, uint8_t kind, std::string_view digest, uint64_t data_size) {
  std::memset(h, 0, kHeaderSize);
  std::memcpy(h, kMagic, 4);
  h[4] = static_cast<char>(kind);
  EncodeFixed32LE(h + 8, static_cast<uint32_t>(data_size));
  if (!digest.empty()) std::memcpy(h + 16, digest.data(), kDigestSize);
}

// The space before the next `align`ed offset from `end`, as a whole padding record (at least a header) or 0.
uint64_t GapBefore(uint64_t end, uint64_t align) {
  uint64_t gap = (align - end % align) % align;
  if (gap != 0 && gap < kHeaderSize) gap += align;
  return gap;
}

// Marks `record_bytes` at `at` as one padding record, so a walk on open steps over the space (best effort:
// used after the disk refused a write, or before an aligned batch; a walk copes with a hole too).
Status WritePadding(int fd, uint64_t at, uint64_t record_bytes) {
  char h[kHeaderSize];
  EncodeHeader(h, kPadding, {}, record_bytes - kHeaderSize);
  if (::pwrite(fd, h, sizeof h, static_cast<off_t>(at)) != static_cast<ssize_t>(sizeof h)) {
    return IoError("write padding");
  }
  return OkStatus();
}

// Writes one record (header and data) at `at`, retrying short writes.
Status WriteRecord(int fd, uint64_t at, uint8_t kind, const std::string& digest, std::string_view data,
                   const std::string& what) {
  char h[kHeaderSize];
  EncodeHeader(h, kind, digest, data.size());
  iovec iov[2] = {{h, kHeaderSize}, {const_cast<char*>(data.data()), data.size()}};
  const uint64_t record = kHeaderSize + data.size();
  uint64_t done = 0;
  while (done < record) {
    // Advance the iovecs past what earlier partial writes took.
    iovec part[2];
    int count = 0;
    uint64_t skip = done;
    for (const auto& v : iov) {
      if (skip >= v.iov_len) {
        skip -= v.iov_len;
        continue;
      }
      part[count++] = {static_cast<char*>(v.iov_base) + skip, v.iov_len - skip};
      skip = 0;
    }
    ssize_t w = ::pwritev(fd, part, count, static_cast<off_t>(at + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return IoError("append to " + what);
    done += static_cast<uint64_t>(w);
  }
  return OkStatus();
}

// The first offset in [from, size) where the record magic starts, or `size`.
Result<uint64_t> FindMagic(int fd, uint64_t from, uint64_t size, const std::string& what) {
  constexpr size_t kWindow = 1 << 20;
  std::string buf;
  for (uint64_t at = from; at + sizeof kMagic <= size;) {
    buf.resize(static_cast<size_t>(std::min<uint64_t>(kWindow, size - at)));
    ML_RETURN_IF_ERROR(PreadAll(fd, buf.data(), buf.size(), at, what));
    const size_t hit = std::string_view(buf).find(std::string_view(kMagic, sizeof kMagic));
    if (hit != std::string_view::npos) return at + hit;
    at += buf.size() - (sizeof kMagic - 1);  // a magic may straddle two windows
  }
  return size;
}

std::string EncodeIndex(const std::vector<Record>& records) {
  std::string out(kIdxMagic, sizeof kIdxMagic);
  out.reserve(out.size() + records.size() * kIdxEntrySize + 32);
  char e[kIdxEntrySize];
  for (const auto& r : records) {
    std::memset(e, 0, sizeof e);
    std::memcpy(e, r.digest.data(), kDigestSize);
    e[32] = static_cast<char>(r.kind);
    EncodeFixed32LE(e + 36, r.size);
    EncodeFixed64LE(e + 40, r.offset);
    out.append(e, sizeof e);
  }
  out += crypto::Sha256(out);
  return out;
}

std::optional<std::vector<Record>> DecodeIndex(std::string_view bytes, uint64_t pack_size) {
  if (bytes.size() < sizeof kIdxMagic + 32 || (bytes.size() - sizeof kIdxMagic - 32) % kIdxEntrySize != 0 ||
      bytes.substr(0, sizeof kIdxMagic) != std::string_view(kIdxMagic, sizeof kIdxMagic) ||
      crypto::Sha256(bytes.substr(0, bytes.size() - 32)) != bytes.substr(bytes.size() - 32)) {
    return std::nullopt;
  }
  std::vector<Record> out;
  for (size_t at = sizeof kIdxMagic; at + 32 < bytes.size(); at += kIdxEntrySize) {
    const char* e = bytes.data() + at;
    Record r{std::string(e, kDigestSize), static_cast<uint8_t>(e[32]), DecodeFixed32LE(e + 36),
             DecodeFixed64LE(e + 40)};
    if ((r.kind != kBlock && r.kind != kTombstone) || r.offset + r.size > pack_size) return std::nullopt;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

struct BlockStore::State {
  struct Loc {
    uint32_t pack;
    uint32_t size;
    uint64_t offset;
    bool suspect;  // reads fail on it (they re-hash), and writing the block again replaces it
  };
  // Space reserved for one record, written outside the lock.
  struct Slot {
    uint32_t pack;
    std::shared_ptr<File> file;
    uint64_t offset;  // of the record header
    uint64_t gap;     // padding reserved before `offset` to align it
  };

  fs::path dir;
  BlockStoreOptions options;
  io::Env& env() const { return options.env != nullptr ? *options.env : *io::Env::Default(); }
  std::unique_ptr<io::FileLock> lock;  // <dir>/LOCK: one process appends, or its open could take a live append for torn
  bool legacy = false;                 // one-file-per-block shards from earlier versions exist

  mutable std::shared_mutex mu;  // exclusive: reserving space, publishing, deletes, compaction; shared: lookups
  std::unordered_map<std::string, Loc> index;
  std::map<uint32_t, std::shared_ptr<File>> packs;  // every pack, open for reading (the last also for appends)
  std::map<uint32_t, uint64_t> live_bytes;          // per pack: record bytes of indexed blocks
  std::map<uint32_t, uint64_t> sealed_size;         // per sealed pack (the open one's is active_end)
  uint32_t active = 0;
  uint64_t active_end = 0;             // reserved up to here; records below it may still be in flight
  std::vector<Record> active_records;  // the open pack's, for its index when it is sealed
  // Block appends write outside `mu` so they overlap (one writer's page-cache copy need not wait for
  // another's). `in_flight` counts reserved records not yet published; sealing the open pack and the
  // synchronous appends (tombstones, compaction) wait for it to drain, so every record they index is whole.
  size_t in_flight = 0;
  bool sealing = false;
  std::condition_variable_any idle;  // in_flight reached 0, or a seal ended
  // The open pack opened again with O_DIRECT, for batches; null where the filesystem refuses it.
  std::shared_ptr<File> direct;
  uint32_t direct_pack = 0;
  bool direct_refused = false;
  bool seal_running = false;
  Status seal_status;   // the first background seal that failed
  std::jthread sealer;  // last: joined before the members it uses go

  fs::path PackPath(uint32_t n) const { return dir / PackName(n); }
  fs::path IdxPath(uint32_t n) const { return dir / (PackName(n) + ".idx"); }
  fs::path LegacyPath(const std::string& digest) const {
    std::string hex = HexEncode(digest);
    return dir / hex.substr(0, 2) / hex;
  }

  void Apply(uint32_t pack, const Record& r) {
    auto it = index.find(r.digest);
    if (r.suspect && it != index.end() && !it->second.suspect) return;  // a whole copy beats a damaged one
    if (it != index.end()) {
      live_bytes[it->second.pack] -= kHeaderSize + it->second.size;
      index.erase(it);
    }
    if (r.kind == kBlock) {
      index.emplace(r.digest, Loc{pack, r.size, r.offset, r.suspect});
      live_bytes[pack] += kHeaderSize + r.size;
    }
  }

  // A sealed pack's records from its index, or nullopt when the index is missing or not intact.
  std::optional<std::vector<Record>> ReadIndex(uint32_t n, uint64_t pack_bytes) const {
    auto idx = io::ReadFile(env(), IdxPath(n));
    if (!idx.ok()) return std::nullopt;
    return DecodeIndex(*idx, pack_bytes);
  }

  Result<std::shared_ptr<File>> OpenPack(uint32_t n, bool create) {
    int fd = ::open(PackPath(n).c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (fd < 0) return IoError("open " + PackPath(n).string());
    return std::make_shared<File>(fd);
  }

  // Reads the records of a pack by walking its headers. Where a header does not parse (a hole an append left:
  // appends run concurrently, so a crash can cut one short before others that finished, or damage), the walk
  // skips to the next record magic and, from such a guessed position, takes only a block whose data
  // re-hashes to its digest (uploaded bytes may look like records; a forged block record is still the block
  // it names). With `verify`, every block is re-hashed: one that fails is kept as suspect (reads report it;
  // writing the block again replaces it) when good records follow it, and dropped with the tail otherwise.
  // Returns the end of the last good record; records past it are a write a crash cut short.
  Result<uint64_t> Scan(int fd, uint64_t size, bool verify, std::vector<Record>* out, const std::string& what) {
    uint64_t at = 0;
    uint64_t good_end = 0;
    size_t good_count = 0;
    bool trusted = true;  // `at` is where the previous record ended, not a guess
    char h[kHeaderSize];
    std::string data;
    while (at + kHeaderSize <= size) {
      ML_RETURN_IF_ERROR(PreadAll(fd, h, kHeaderSize, at, what));
      std::optional<Record> r = ParseHeader(h, at, size);
      if (r && (trusted || r->kind == kBlock)) {
        bool good = true;
        if (r->kind == kBlock && (verify || !trusted)) {
          data.resize(r->size);
          ML_RETURN_IF_ERROR(PreadAll(fd, data.data(), r->size, r->offset, what));
          good = crypto::Sha256(data) == r->digest;
        }
        if (good || trusted) {
          at = r->offset + r->size;
          r->suspect = !good;
          if (r->kind != kPadding) out->push_back(std::move(*r));
          if (good) {
            good_end = at;
            good_count = out->size();
          }
          trusted = true;
          continue;
        }
      }
      trusted = false;
      ML_ASSIGN_OR_RETURN(at, FindMagic(fd, at + 1, size, what));
    }
    out->resize(good_count);
    return good_end;
  }

  Status Load() {
    ML_RETURN_IF_ERROR(CreatePrivateDirectories(dir));
    auto locked = env().LockFile(dir / "LOCK");
    if (!locked.ok()) {
      if (locked.error().code != "locked") return locked.error();
      return MakeError(ErrorKind::kUnavailable, "store_locked",
                       "the content store " + dir.string() + " is in use by another process");
    }
    lock = std::move(locked).value();
    std::vector<uint32_t> numbers;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (auto n = PackNumber(name)) numbers.push_back(*n);
      if (name.size() == 2 && it->is_directory()) legacy = true;
    }
    if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot list " + dir.string() + ": " + ec.message());
    std::sort(numbers.begin(), numbers.end());
    if (numbers.empty()) {
      active = 1;
      ML_ASSIGN_OR_RETURN(packs[active], OpenPack(active, /*create=*/true));
      return env().SyncDir(dir);
    }
    for (uint32_t n : numbers) {
      ML_ASSIGN_OR_RETURN(auto file, OpenPack(n, false));
      struct stat st {};
      if (::fstat(file->get(), &st) != 0) return IoError("stat " + PackPath(n).string());
      const uint64_t size = static_cast<uint64_t>(st.st_size);
      const bool last = n == numbers.back();
      std::vector<Record> records;
      if (!last) {
        // Sealed: its index if intact, else a walk of its headers (data is checked by every reader).
        sealed_size[n] = size;
        if (auto decoded = ReadIndex(n, size)) {
          records = std::move(*decoded);
        } else {
          ML_ASSIGN_OR_RETURN(uint64_t end, Scan(file->get(), size, false, &records, PackPath(n).string()));
          // Rewritten only when the walk reached the end: a damaged pack keeps what it has, unindexed.
          if (end == size) ML_RETURN_IF_ERROR(io::WriteFileAtomic(env(), IdxPath(n), EncodeIndex(records)));
        }
      } else {
        ML_ASSIGN_OR_RETURN(uint64_t end, Scan(file->get(), size, true, &records, PackPath(n).string()));
        if (end < size) ML_RETURN_IF_ERROR(CutTail(n, file->get(), end, size));
        for (const auto& r : records) {
          if (!r.suspect) active_records.push_back(r);
        }
        active = n;
        active_end = end;
      }
      for (const auto& r : records) Apply(n, r);
      packs[n] = std::move(file);
    }
    return OkStatus();
  }

  // The open pack's tail from `end` did not verify: a write cut short by a crash. Kept aside (it might be
  // something a person wants to look at), then truncated so appends continue from a clean record boundary.
  Status CutTail(uint32_t n, int fd, uint64_t end, uint64_t size) {
    std::string tail(size - end, '\0');
    ML_RETURN_IF_ERROR(PreadAll(fd, tail.data(), tail.size(), end, PackPath(n).string()));
    if (tail.find_first_not_of('\0') != std::string::npos) {
      ML_RETURN_IF_ERROR(io::WriteFileAtomic(env(), dir / (PackName(n) + ".torn-" + std::to_string(end)), tail));
    }
    if (::ftruncate(fd, static_cast<off_t>(end)) != 0 || ::fdatasync(fd) != 0) {
      return IoError("truncate " + PackPath(n).string());
    }
    return OkStatus();
  }

  // Starts the next pack and seals the open one (synced, then indexed) in the background, so the append that
  // filled it does not wait for the disk to take up to a pack's worth of bytes. Until its index is written
  // the sealed pack is one without an index, which Load walks. Called with `lock` holding `mu` exclusively
  // and nothing in flight.
  Status Roll(std::unique_lock<std::shared_mutex>& lock) {
    idle.wait(lock, [this] { return !seal_running; });  // one seal at a time
    ML_RETURN_IF_ERROR(seal_status);
    if (sealer.joinable()) sealer.join();  // already done
    const uint32_t next = active + 1;
    // The new pack's name is made durable by the directory sync of the index write below, which Sync waits
    // for: a synchronous one here would be a device flush, waiting for everything written so far.
    ML_ASSIGN_OR_RETURN(packs[next], OpenPack(next, true));
    // Published in the order appends finished; the index lists them in pack order, as a walk would.
    std::sort(active_records.begin(), active_records.end(),
              [](const Record& x, const Record& y) { return x.offset < y.offset; });
    const uint32_t sealed = active;
    sealed_size[sealed] = active_end;
    direct.reset();
    active = next;
    active_end = 0;
    seal_running = true;
    sealer = std::jthread([this, sealed, file = packs[sealed], records = std::move(active_records)] {
      Status sealed_ok = ::fdatasync(file->get()) == 0
                             ? io::WriteFileAtomic(env(), IdxPath(sealed), EncodeIndex(records))
                             : Status(IoError("sync " + PackPath(sealed).string()));
      std::lock_guard done(mu);
      if (!sealed_ok.ok() && seal_status.ok()) seal_status = std::move(sealed_ok);
      seal_running = false;
      idle.notify_all();
    });
    active_records.clear();
    return OkStatus();
  }

  // Waits for a background seal; its failure is reported here from then on, since the sealed pack's bytes
  // may not be on the disk.
  template <class Lock>
  Status WaitForSeal(Lock& lock) {
    idle.wait(lock, [this] { return !seal_running; });
    return seal_status;
  }

  // Space for `record` bytes at the end of the open pack, at an offset that is a multiple of `align`, sealing
  // the pack first when they do not fit. `lock` holds `mu` exclusively; it is released while waiting for
  // appends in flight.
  Result<Slot> Reserve(std::unique_lock<std::shared_mutex>& lock, uint64_t record, uint64_t align = 1) {
    for (;;) {
      if (sealing) {
        idle.wait(lock);
        continue;
      }
      if (active_end == 0 || active_end + GapBefore(active_end, align) + record <= options.pack_bytes) break;
      sealing = true;
      idle.wait(lock, [this] { return in_flight == 0; });
      Status rolled = Roll(lock);
      sealing = false;
      idle.notify_all();
      ML_RETURN_IF_ERROR(rolled);
    }
    const uint64_t gap = GapBefore(active_end, align);
    Slot slot{active, packs[active], active_end + gap, gap};
    active_end += gap + record;
    return slot;
  }

  // The O_DIRECT descriptor of pack `n` (the open one), or null when the filesystem refuses O_DIRECT.
  std::shared_ptr<File> DirectFile(uint32_t n) {
    if (direct_refused) return nullptr;
    if (!direct || direct_pack != n) {
      UniqueFd fd(::open(PackPath(n).c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
      if (!fd.valid()) {
        direct_refused = true;
        return nullptr;
      }
      direct = std::make_shared<File>(std::move(fd));
      direct_pack = n;
    }
    return direct;
  }

  // Appends `len` bytes of whole records (the blocks in `records`, offsets relative to `buf`; padding to the
  // end) at an aligned offset, in one write outside the lock, then publishes the blocks.
  Status AppendBatch(const char* buf, size_t len, const std::vector<Record>& records) {
    std::unique_lock lock(mu);
    ML_ASSIGN_OR_RETURN(Slot slot, Reserve(lock, len, kDirectAlign));
    std::shared_ptr<File> dio = DirectFile(slot.pack);
    ++in_flight;
    lock.unlock();
    const int fd = slot.file->get();
    Status written = slot.gap > 0 ? WritePadding(fd, slot.offset - slot.gap, slot.gap) : OkStatus();
    bool refused = false;
    if (written.ok()) {
      int err = dio ? io::PwriteFull(dio->get(), buf, len, slot.offset) : 0;
      refused = err == EINVAL;  // an alignment this device does not take: written buffered from now on
      if (!dio || refused) err = io::PwriteFull(fd, buf, len, slot.offset);
      if (err != 0) {
        written = IoError("append to " + PackPath(slot.pack).string(), err);
        (void)WritePadding(fd, slot.offset, len);
      }
    }
    lock.lock();
    if (refused) direct_refused = true;
    if (--in_flight == 0) idle.notify_all();
    ML_RETURN_IF_ERROR(written);
    for (const auto& r : records) {
      Record placed = r;
      placed.offset += slot.offset;
      Publish(slot.pack, std::move(placed));
    }
    return OkStatus();
  }

  void Publish(uint32_t pack, Record r) {
    Apply(pack, r);
    active_records.push_back(std::move(r));
  }

  // Appends a record of a block outside the lock: reserve, write, publish.
  Status AppendConcurrently(const std::string& digest, std::string_view data) {
    ML_RETURN_IF_ERROR(CheckSize(data));
    std::unique_lock lock(mu);
    auto it = index.find(digest);
    // Content-addressed: a present block is this block (its bytes were verified when the pack was opened or
    // are re-hashed by every reader).
    if (it != index.end() && !it->second.suspect) return OkStatus();
    ML_ASSIGN_OR_RETURN(Slot slot, Reserve(lock, kHeaderSize + data.size()));
    ++in_flight;
    lock.unlock();
    const std::string what = PackPath(slot.pack).string();
    Status written = WriteRecord(slot.file->get(), slot.offset, kBlock, digest, data, what);
    if (!written.ok()) (void)WritePadding(slot.file->get(), slot.offset, kHeaderSize + data.size());
    lock.lock();
    if (--in_flight == 0) idle.notify_all();
    ML_RETURN_IF_ERROR(written);
    Publish(slot.pack, Record{digest, kBlock, static_cast<uint32_t>(data.size()), slot.offset + kHeaderSize});
    return OkStatus();
  }

  // Appends a record while holding `mu` exclusively through `lock` (tombstones, compaction's copies), after
  // the appends in flight: a tombstone must come after the record it deletes.
  Status Append(std::unique_lock<std::shared_mutex>& lock, uint8_t kind, const std::string& digest,
                std::string_view data) {
    ML_RETURN_IF_ERROR(CheckSize(data));
    idle.wait(lock, [this] { return in_flight == 0 && !sealing; });
    ML_ASSIGN_OR_RETURN(Slot slot, Reserve(lock, kHeaderSize + data.size()));
    Status written = WriteRecord(slot.file->get(), slot.offset, kind, digest, data, PackPath(slot.pack).string());
    if (!written.ok()) {
      active_end = slot.offset;  // nothing was reserved after it: the next append overwrites the partial record
      return written;
    }
    Publish(slot.pack, Record{digest, kind, static_cast<uint32_t>(data.size()), slot.offset + kHeaderSize});
    return OkStatus();
  }

  Status SyncActive() {
    std::shared_ptr<File> file;
    {
      std::shared_lock lock(mu);
      ML_RETURN_IF_ERROR(WaitForSeal(lock));
      file = packs[active];
    }
    // Outside the lock: appends continue while the disk flushes, and concurrent callers share its commit.
    if (::fdatasync(file->get()) != 0) return IoError("sync pack");
    return OkStatus();
  }
};

BlockStore::BlockStore(std::unique_ptr<State> state) : state_(std::move(state)) {}
BlockStore::BlockStore(BlockStore&&) noexcept = default;
BlockStore& BlockStore::operator=(BlockStore&&) noexcept = default;
BlockStore::~BlockStore() = default;

Result<BlockStore> BlockStore::Open(std::filesystem::path dir, const BlockStoreOptions& options) {
  if (options.pack_bytes < kHeaderSize) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_argument", "pack size too small");
  }
  auto state = std::make_unique<State>();
  state->dir = std::move(dir);
  state->options = options;
  ML_RETURN_IF_ERROR(state->Load());
  return BlockStore(std::move(state));
}

const std::filesystem::path& BlockStore::dir() const {
  return state_->dir;
}

Status BlockStore::WriteOne(const Cid& cid, std::string_view data) {
  return state_->AppendConcurrently(cid.digest(), data);
}

Status BlockStore::PutMany(const std::vector<std::pair<Cid, std::string_view>>& blocks) {
  for (const auto& [cid, data] : blocks) ML_RETURN_IF_ERROR(WriteOne(cid, data));
  if (state_->options.sync) return Sync();
  return OkStatus();
}

Status BlockStore::Sync() {
  return state_->SyncActive();
}

Result<std::string> BlockStore::Get(const Cid& cid) const {
  std::string out;
  ML_RETURN_IF_ERROR(Read(cid, &out));
  return out;
}

Status BlockStore::Read(const Cid& cid, std::string* out) const {
  std::shared_ptr<File> file;
  State::Loc loc{};
  {
    std::shared_lock lock(state_->mu);
    auto it = state_->index.find(cid.digest());
    if (it != state_->index.end()) {
      loc = it->second;
      file = state_->packs.at(loc.pack);
    }
  }
  if (file) {
    out->resize(loc.size);
    return PreadAll(file->get(), out->data(), loc.size, loc.offset, "block " + cid.ToString());
  }
  if (state_->legacy) {
    auto r = io::ReadFile(state_->env(), state_->LegacyPath(cid.digest()));
    if (r.ok()) {
      *out = std::move(r).value();
      return OkStatus();
    }
    if (r.error().kind != ErrorKind::kNotFound) return r.error();
  }
  return MakeError(ErrorKind::kNotFound, "block_not_found", "block " + cid.ToString() + " is not in the store");
}

bool BlockStore::Has(const Cid& cid) const {
  {
    std::shared_lock lock(state_->mu);
    if (state_->index.count(cid.digest()) != 0) return true;
  }
  return state_->legacy && ::access(state_->LegacyPath(cid.digest()).c_str(), F_OK) == 0;
}

Status BlockStore::Delete(const std::string& digest) {
  if (digest.size() != kDigestSize) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_argument", "a block digest is 32 bytes");
  }
  {
    std::unique_lock lock(state_->mu);
    if (state_->index.count(digest) != 0) ML_RETURN_IF_ERROR(state_->Append(lock, kTombstone, digest, {}));
  }
  if (state_->options.sync) ML_RETURN_IF_ERROR(Sync());
  if (state_->legacy) return io::RemoveFileDurably(state_->env(), state_->LegacyPath(digest));
  return OkStatus();
}

Result<CompactStats> BlockStore::Compact(double max_dead_fraction) {
  CompactStats stats;
  std::unique_lock lock(state_->mu);
  State& s = *state_;
  ML_RETURN_IF_ERROR(s.WaitForSeal(lock));  // a pack is compacted from its index
  std::vector<uint32_t> victims;
  for (const auto& [n, size] : s.sealed_size) {
    if (size == 0) continue;
    const double dead = static_cast<double>(size - s.live_bytes[n]) / static_cast<double>(size);
    if (dead > max_dead_fraction) victims.push_back(n);
  }
  for (uint32_t n : victims) {
    auto file = s.packs.at(n);
    const uint64_t size = s.sealed_size.at(n);
    auto decoded = s.ReadIndex(n, size);
    if (!decoded) continue;  // a pack without a trustworthy index is left as it is
    std::string data;
    for (const auto& r : *decoded) {
      auto it = s.index.find(r.digest);
      if (r.kind == kBlock && it != s.index.end() && it->second.pack == n && it->second.offset == r.offset) {
        data.resize(r.size);
        ML_RETURN_IF_ERROR(PreadAll(file->get(), data.data(), r.size, r.offset, s.PackPath(n).string()));
        ML_RETURN_IF_ERROR(s.Append(lock, kBlock, r.digest, data));
        ++stats.records_moved;
      } else if (r.kind == kTombstone && it == s.index.end()) {
        // Still deleted: the tombstone must outlive this pack, or an older record would come back on open.
        ML_RETURN_IF_ERROR(s.Append(lock, kTombstone, r.digest, {}));
        ++stats.records_moved;
      }
    }
    // The copies are durable before the original goes.
    if (::fdatasync(s.packs.at(s.active)->get()) != 0) return IoError("sync pack");
    ML_RETURN_IF_ERROR(io::RemoveFileDurably(s.env(), s.IdxPath(n)));
    ML_RETURN_IF_ERROR(io::RemoveFileDurably(s.env(), s.PackPath(n)));
    stats.bytes_reclaimed += size;
    ++stats.packs_rewritten;
    s.packs.erase(n);
    s.sealed_size.erase(n);
    s.live_bytes.erase(n);
  }
  return stats;
}

Result<size_t> BlockStore::RemoveTemporaries() {
  if (!state_->legacy) return size_t{0};
  std::vector<std::filesystem::path> litter;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(state_->dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // ".tmp." from releases before io::WriteFileAtomic, ".tmp-" since.
    if (it->is_regular_file() && (name.find(".tmp.") != std::string::npos || name.find(".tmp-") != std::string::npos)) {
      litter.push_back(it->path());
    }
  }
  if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot list blocks: " + ec.message());
  for (const auto& p : litter) ML_RETURN_IF_ERROR(io::RemoveFileDurably(state_->env(), p));
  return litter.size();
}

Status BlockStore::ForEach(const std::function<void(const std::string& digest)>& fn) const {
  std::vector<std::string> digests;
  {
    std::shared_lock lock(state_->mu);
    digests.reserve(state_->index.size());
    for (const auto& [digest, loc] : state_->index) digests.push_back(digest);
  }
  for (const auto& d : digests) fn(d);
  if (!state_->legacy) return OkStatus();
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(state_->dir, ec); !ec && it != std::filesystem::end(it);
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

struct BlockStore::BatchWriter::Buffer {
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data;  // aligned for O_DIRECT
  size_t capacity = 0;               // of records; room for the closing padding comes on top
  size_t used = 0;
  std::vector<Record> records;              // offsets relative to `data`
  std::unordered_set<std::string> digests;  // in this batch (a file's repeated chunks are stored once)
};

BlockStore::BatchWriter::BatchWriter(State* state, size_t batch_bytes)
    : state_(state), buffer_(std::make_unique<Buffer>()) {
  buffer_->capacity = std::max<size_t>(batch_bytes, kDirectAlign);
  // The closing padding record takes less than kDirectAlign + kHeaderSize bytes.
  const size_t bytes = buffer_->capacity + 2 * kDirectAlign;
  buffer_->data.reset(static_cast<char*>(std::aligned_alloc(kDirectAlign, bytes)));
}
BlockStore::BatchWriter::BatchWriter(BatchWriter&&) noexcept = default;
BlockStore::BatchWriter& BlockStore::BatchWriter::operator=(BatchWriter&&) noexcept = default;
BlockStore::BatchWriter::~BatchWriter() = default;

BlockStore::BatchWriter BlockStore::NewBatchWriter(size_t batch_bytes) {
  return BatchWriter(state_.get(), batch_bytes);
}

Status BlockStore::BatchWriter::Add(const Cid& cid, std::string_view data) {
  ML_RETURN_IF_ERROR(CheckSize(data));
  Buffer& b = *buffer_;
  const std::string& digest = cid.digest();
  {
    std::shared_lock lock(state_->mu);
    auto it = state_->index.find(digest);
    if (it != state_->index.end() && !it->second.suspect) return OkStatus();
  }
  if (b.digests.count(digest) != 0) return OkStatus();
  const size_t record = kHeaderSize + data.size();
  if (!b.data || record > b.capacity) return state_->AppendConcurrently(digest, data);  // no buffer for it
  if (b.used + record > b.capacity) ML_RETURN_IF_ERROR(Flush());
  char* at = b.data.get() + b.used;
  EncodeHeader(at, kBlock, digest, data.size());
  std::memcpy(at + kHeaderSize, data.data(), data.size());
  b.records.push_back(Record{digest, kBlock, static_cast<uint32_t>(data.size()), b.used + kHeaderSize});
  b.digests.insert(digest);
  b.used += record;
  return OkStatus();
}

Status BlockStore::BatchWriter::Flush() {
  Buffer& b = *buffer_;
  if (b.records.empty()) return OkStatus();
  const uint64_t pad = GapBefore(b.used, kDirectAlign);
  if (pad > 0) {
    std::memset(b.data.get() + b.used, 0, pad);
    EncodeHeader(b.data.get() + b.used, kPadding, {}, pad - kHeaderSize);
  }
  Status s = state_->AppendBatch(b.data.get(), b.used + pad, b.records);
  b.used = 0;
  b.records.clear();
  b.digests.clear();
  return s;
}

std::optional<BlockStore::Location> BlockStore::Locate(const std::string& digest) const {
  std::shared_lock lock(state_->mu);
  auto it = state_->index.find(digest);
  if (it != state_->index.end()) {
    return Location{state_->PackPath(it->second.pack), it->second.offset, it->second.size};
  }
  if (state_->legacy) {
    std::error_code ec;
    auto path = state_->LegacyPath(digest);
    auto size = std::filesystem::file_size(path, ec);
    if (!ec) return Location{path, 0, static_cast<uint32_t>(size)};
  }
  return std::nullopt;
}

}  // namespace medledger::content
