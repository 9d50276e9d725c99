#include "ledger/storage/block_store.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "common/encoding.h"
#include "ledger/storage/block_store_index.h"
#include "ledger/storage/crc32c.h"

namespace medledger::ledger::storage {
namespace {

constexpr std::string_view kFilePrefix = "blockfile_";
constexpr size_t kFileDigits = 6;
constexpr size_t kMaxOpenReaders = 64;
constexpr uint32_t kMaxFileNumber = 999999;  // the names have six digits

struct Location {
  uint32_t file = 0;
  uint64_t offset = 0;  // of the header
  uint32_t length = 0;  // of the payload
};

struct Header {
  uint32_t magic = 0;
  uint32_t length = 0;
  uint32_t crc = 0;
};

Header ParseHeader(std::string_view bytes) {
  return Header{DecodeFixed32(bytes.data()), DecodeFixed32(bytes.data() + 4), DecodeFixed32(bytes.data() + 8)};
}

std::optional<uint32_t> ParseFileNumber(std::string_view name) {
  if (name.size() != kFilePrefix.size() + kFileDigits || !name.starts_with(kFilePrefix)) return std::nullopt;
  uint32_t n = 0;
  const char* first = name.data() + kFilePrefix.size();
  const char* last = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || ptr != last) return std::nullopt;
  return n;
}

Error Corruption(uint64_t block, const std::string& file, uint64_t offset, const std::string& why) {
  return MakeError(
      ErrorKind::kCorruption, "block_corrupt",
      "block " + std::to_string(block) + " (" + file + " at offset " + std::to_string(offset) + "): " + why);
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// True when, from some offset in `rest` at or after `from`, intact records (magic, length, checksum)
// follow one another exactly to the end: evidence that the damage before them is not a torn tail but
// corruption of records that were once acknowledged. Requiring the chain to reach the end keeps a
// record-like pattern inside user data from passing as such evidence.
bool IntactChainToEnd(std::string_view rest, size_t from) {
  std::string magic;
  PutFixed32(&magic, kBlockRecordMagic);
  for (size_t start = rest.find(magic, from); start != std::string_view::npos; start = rest.find(magic, start + 1)) {
    size_t pos = start;
    while (pos < rest.size()) {
      if (rest.size() - pos < kBlockRecordHeaderSize) break;
      const Header h = ParseHeader(rest.substr(pos));
      const size_t avail = rest.size() - pos - kBlockRecordHeaderSize;
      if (h.magic != kBlockRecordMagic || h.length == 0 || h.length > avail) break;
      if (crc32c::Value(rest.substr(pos + kBlockRecordHeaderSize, h.length)) != h.crc) break;
      pos += kBlockRecordHeaderSize + h.length;
    }
    if (pos == rest.size()) return true;
  }
  return false;
}

class BlockStoreImpl final : public BlockStore {
 public:
  BlockStoreImpl(std::string dir, io::Env* env, BlockStoreOptions options)
      : dir_(std::move(dir)), env_(env), options_(options) {}

  ~BlockStoreImpl() override {
    if (writer_) (void)writer_->Close();  // every acknowledged byte is already synced
  }

  Status Recover();

  Status Append(uint64_t number, std::string_view block_bytes) override;
  Result<std::string> Read(uint64_t number) const override;
  Result<RawBlockRecord> ReadRaw(uint64_t number) const override;
  uint64_t Height() const override {
    std::shared_lock lock(index_mu_);
    return index_.size();
  }
  uint64_t truncated_bytes() const override { return truncated_bytes_; }

 private:
  std::string PathOf(uint32_t file) const { return dir_ + "/" + BlockFileName(file); }
  Result<std::shared_ptr<io::RandomAccessFile>> ReaderFor(uint32_t file) const;
  Result<Location> Locate(uint64_t number) const;
  Status ScanFile(uint32_t file, bool is_last);
  bool LoadSidecar(uint32_t file, uint64_t size);
  Status WriteSidecar(uint32_t file, uint64_t size, const std::vector<uint64_t>& offsets);
  std::vector<uint64_t> OffsetsOf(uint32_t file) const;
  Status ClassifyDamage(uint32_t file, uint64_t offset, uint64_t size, const io::RandomAccessFile& reader,
                        const std::string& why);
  Status OpenWriter(uint32_t file, bool created);
  Status RollIfNeeded(uint64_t record_size);

  const std::string dir_;
  io::Env* const env_;
  std::unique_ptr<io::FileLock> lock_;  // one writer per directory, across processes
  const BlockStoreOptions options_;
  uint64_t truncated_bytes_ = 0;  // set once by Recover

  mutable std::shared_mutex index_mu_;
  std::vector<Location> index_;  // block number -> record

  mutable std::mutex readers_mu_;
  mutable std::unordered_map<uint32_t, std::shared_ptr<io::RandomAccessFile>> readers_;

  std::mutex append_mu_;  // one appender at a time; guards the fields below
  std::unique_ptr<io::WritableFile> writer_;
  uint32_t write_file_ = 0;
  uint64_t write_size_ = 0;
  std::optional<Error> failed_;  // set when the file's durable contents are unknown
};

Status BlockStoreImpl::Recover() {
  ML_RETURN_IF_ERROR(env_->CreateDirs(dir_));
  // Readers (medledger verify) may look while the owner appends: they never write, and ignore a tail
  // that is still being written.
  if (!options_.read_only) {
    ML_ASSIGN_OR_RETURN(lock_, env_->LockFile(dir_ + "/LOCK"));
  }
  ML_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(dir_));
  std::vector<uint32_t> files;
  for (const auto& name : names) {
    if (auto n = ParseFileNumber(name)) files.push_back(*n);
  }
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i] != i) {
      return MakeError(ErrorKind::kCorruption, "block_file_missing",
                       "block file " + BlockFileName(static_cast<uint32_t>(i)) + " is missing in " + dir_);
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    ML_RETURN_IF_ERROR(ScanFile(files[i], i + 1 == files.size()));
  }
  if (options_.read_only) return OkStatus();
  // The last file may have been created just before a crash, or by a roll whose directory sync failed:
  // sync the directory once so that no block is acknowledged in a file whose name could still vanish.
  return OpenWriter(files.empty() ? 0 : files.back(), /*created=*/true);
}

Status BlockStoreImpl::ScanFile(uint32_t file, bool is_last) {
  const std::string path = PathOf(file);
  ML_ASSIGN_OR_RETURN(uint64_t size, env_->FileSize(path));
  if (size == 0 && !is_last) {
    return Corruption(index_.size(), path, 0, "block file is empty but later block files exist");
  }
  // A sealed file with a valid sidecar index needs no header reads; its records are still checked by
  // every Read, and verify_all_checksums ignores sidecars.
  if (!is_last && !options_.verify_all_checksums && LoadSidecar(file, size)) return OkStatus();
  const size_t first_block = index_.size();
  ML_ASSIGN_OR_RETURN(std::shared_ptr<io::RandomAccessFile> reader, ReaderFor(file));
  const uint64_t verify_from =
      options_.verify_all_checksums ? 0 : (is_last ? size - std::min(size, options_.verify_tail_bytes) : size);
  uint64_t offset = 0;
  while (offset < size) {
    ML_ASSIGN_OR_RETURN(std::string head, reader->Read(offset, kBlockRecordHeaderSize));
    std::string why;
    Header h;
    if (head.size() < kBlockRecordHeaderSize) {
      why = "partial record header";
    } else {
      h = ParseHeader(head);
      if (h.magic != kBlockRecordMagic) {
        why = "bad record magic";
      } else if (h.length == 0 || h.length > kMaxBlockBytes) {
        why = "implausible record length " + std::to_string(h.length);
      } else if (h.length > size - offset - kBlockRecordHeaderSize) {
        why = "record extends past the end of the file";
      }
    }
    const bool last_record = why.empty() && offset + kBlockRecordHeaderSize + h.length == size;
    if (why.empty() && (offset >= verify_from || (is_last && last_record))) {
      ML_ASSIGN_OR_RETURN(std::string payload, reader->Read(offset + kBlockRecordHeaderSize, h.length));
      if (crc32c::Value(payload) != h.crc) why = "checksum mismatch";
    }
    if (!why.empty()) {
      if (!is_last) return Corruption(index_.size(), path, offset, why + " in a block file that is not the last");
      return ClassifyDamage(file, offset, size, *reader, why);
    }
    index_.push_back(Location{file, offset, h.length});
    offset += kBlockRecordHeaderSize + h.length;
  }
  if (!is_last && !options_.read_only) {
    std::vector<uint64_t> offsets;
    for (size_t i = first_block; i < index_.size(); ++i) offsets.push_back(index_[i].offset);
    (void)WriteSidecar(file, size, offsets);  // only saves a scan next time
  }
  return OkStatus();
}

bool BlockStoreImpl::LoadSidecar(uint32_t file, uint64_t size) {
  const std::string path = PathOf(file) + ".idx";
  auto exists = env_->FileExists(path);
  if (!exists.ok() || !*exists) return false;
  auto sidecar_size = env_->FileSize(path);
  if (!sidecar_size.ok() || *sidecar_size > 64 + 8 * size) return false;
  auto bytes = env_->ReadRange(path, 0, *sidecar_size);
  if (!bytes.ok()) return false;
  auto offsets = DecodeBlockFileIndex(*bytes, size);
  if (!offsets.ok()) return false;
  std::vector<Location> locations;
  locations.reserve(offsets->size());
  for (size_t i = 0; i < offsets->size(); ++i) {
    const uint64_t end = i + 1 < offsets->size() ? (*offsets)[i + 1] : size;
    const uint64_t length = end - (*offsets)[i] - kBlockRecordHeaderSize;
    if (length > kMaxBlockBytes) return false;
    locations.push_back(Location{file, (*offsets)[i], static_cast<uint32_t>(length)});
  }
  index_.insert(index_.end(), locations.begin(), locations.end());
  return true;
}

Status BlockStoreImpl::WriteSidecar(uint32_t file, uint64_t size, const std::vector<uint64_t>& offsets) {
  const std::string path = PathOf(file) + ".idx";
  ML_ASSIGN_OR_RETURN(bool exists, env_->FileExists(path));
  if (exists) ML_RETURN_IF_ERROR(env_->Truncate(path, 0));
  ML_ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> out, env_->OpenAppendable(path));
  ML_RETURN_IF_ERROR(out->Append(EncodeBlockFileIndex(size, offsets)));
  ML_RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

std::vector<uint64_t> BlockStoreImpl::OffsetsOf(uint32_t file) const {
  std::shared_lock lock(index_mu_);
  size_t first = index_.size();
  while (first > 0 && index_[first - 1].file == file) --first;
  std::vector<uint64_t> offsets;
  for (size_t i = first; i < index_.size(); ++i) offsets.push_back(index_[i].offset);
  return offsets;
}

// Damage at `offset` of the last file. A crash can only tear the record being written when it struck
// (each append is synced before the next starts), so the damage is a torn tail exactly when no intact
// record follows it.
Status BlockStoreImpl::ClassifyDamage(uint32_t file, uint64_t offset, uint64_t size, const io::RandomAccessFile& reader,
                                      const std::string& why) {
  const std::string path = PathOf(file);
  ML_ASSIGN_OR_RETURN(std::string rest, reader.Read(offset, size - offset));
  bool torn = true;
  if (rest.size() >= kBlockRecordHeaderSize && !AllZero(rest)) {
    const Header h = ParseHeader(rest);
    if (h.magic == kBlockRecordMagic && h.length > 0 && h.length < rest.size() - kBlockRecordHeaderSize) {
      torn = false;  // a complete record with a bad checksum, and more data after it
    } else {
      // The record reaches the end of the file or its header is damaged (a flipped length can make a
      // mid-chain record seem to run past the end): look for the intact records that would follow.
      torn = !IntactChainToEnd(rest, 1);
    }
  }
  if (!torn) return Corruption(index_.size(), path, offset, why + ", and intact records follow");
  truncated_bytes_ = size - offset;
  if (options_.read_only) return OkStatus();
  return env_->Truncate(path, offset);
}

Status BlockStoreImpl::OpenWriter(uint32_t file, bool created) {
  const std::string path = PathOf(file);
  ML_ASSIGN_OR_RETURN(writer_, env_->OpenAppendable(path));
  if (created) ML_RETURN_IF_ERROR(env_->SyncDir(dir_));
  ML_ASSIGN_OR_RETURN(write_size_, env_->FileSize(path));
  write_file_ = file;
  return OkStatus();
}

Status BlockStoreImpl::RollIfNeeded(uint64_t record_size) {
  if (write_size_ == 0 || write_size_ + record_size <= options_.max_file_bytes) return OkStatus();
  // The old file is complete and synced; the new one only counts once its name is durable.
  if (write_file_ >= kMaxFileNumber) {
    return MakeError(ErrorKind::kResourceExhausted, "block_files_exhausted",
                     "the block directory holds the maximum number of block files");
  }
  const uint32_t next = write_file_ + 1;
  ML_ASSIGN_OR_RETURN(std::unique_ptr<io::WritableFile> fresh, env_->OpenAppendable(PathOf(next)));
  ML_RETURN_IF_ERROR(env_->SyncDir(dir_));
  (void)writer_->Close();
  (void)WriteSidecar(write_file_, write_size_, OffsetsOf(write_file_));  // only saves a scan at the next Open
  writer_ = std::move(fresh);
  write_file_ = next;
  ML_ASSIGN_OR_RETURN(write_size_, env_->FileSize(PathOf(next)));
  return OkStatus();
}

Status BlockStoreImpl::Append(uint64_t number, std::string_view block_bytes) {
  if (options_.read_only) {
    return MakeError(ErrorKind::kInvalidArgument, "block_store_read_only", "the block store was opened read-only");
  }
  if (block_bytes.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty_block", "a block cannot be empty");
  if (block_bytes.size() > kMaxBlockBytes) {
    return MakeError(ErrorKind::kTooLarge, "block_too_large",
                     "block of " + std::to_string(block_bytes.size()) + " bytes exceeds the limit");
  }
  std::lock_guard lock(append_mu_);
  if (failed_) return *failed_;
  const uint64_t height = Height();
  if (number != height) {
    return MakeError(ErrorKind::kInvalidArgument, "unexpected_block_number",
                     "appending block " + std::to_string(number) + " but the next block is " + std::to_string(height));
  }
  std::string record;
  record.reserve(kBlockRecordHeaderSize + block_bytes.size());
  PutFixed32(&record, kBlockRecordMagic);
  PutFixed32(&record, static_cast<uint32_t>(block_bytes.size()));
  PutFixed32(&record, crc32c::Value(block_bytes));
  record.append(block_bytes);
  ML_RETURN_IF_ERROR(RollIfNeeded(record.size()));

  const std::string path = PathOf(write_file_);
  if (Status s = writer_->Append(record); !s.ok()) {
    // Cut the partial record so the next append starts at a record boundary (a full disk may clear).
    Status undo = env_->Truncate(path, write_size_);
    if (undo.ok()) {
      auto reopened = env_->OpenAppendable(path);
      if (reopened.ok()) {
        writer_ = std::move(reopened).value();
      } else {
        undo = reopened.error();
      }
    }
    if (!undo.ok()) {
      failed_ = MakeError(ErrorKind::kIoError, "block_store_failed",
                          "could not undo a failed append (" + undo.error().message + "); reopen the store");
    }
    return s;
  }
  if (Status s = writer_->Sync(); !s.ok()) {
    failed_ = MakeError(ErrorKind::kIoError, "block_store_failed",
                        "fsync failed (" + s.error().message + "); reopen the store to recover");
    (void)env_->Truncate(path, write_size_);  // best effort: recovery would cut or keep it either way
    return s;
  }
  {
    std::unique_lock index_lock(index_mu_);
    index_.push_back(Location{write_file_, write_size_, static_cast<uint32_t>(block_bytes.size())});
  }
  write_size_ += record.size();
  return OkStatus();
}

Result<std::shared_ptr<io::RandomAccessFile>> BlockStoreImpl::ReaderFor(uint32_t file) const {
  std::lock_guard lock(readers_mu_);
  if (auto it = readers_.find(file); it != readers_.end()) return it->second;
  if (readers_.size() >= kMaxOpenReaders) readers_.erase(readers_.begin());  // in-flight reads hold their own ref
  ML_ASSIGN_OR_RETURN(std::unique_ptr<io::RandomAccessFile> reader, env_->OpenRandomAccess(PathOf(file)));
  std::shared_ptr<io::RandomAccessFile> shared = std::move(reader);
  readers_.emplace(file, shared);
  return shared;
}

Result<Location> BlockStoreImpl::Locate(uint64_t number) const {
  std::shared_lock lock(index_mu_);
  if (number >= index_.size()) {
    return MakeError(
        ErrorKind::kNotFound, "block_not_found",
        "block " + std::to_string(number) + " does not exist (height " + std::to_string(index_.size()) + ")");
  }
  return index_[number];
}

Result<RawBlockRecord> BlockStoreImpl::ReadRaw(uint64_t number) const {
  ML_ASSIGN_OR_RETURN(Location loc, Locate(number));
  ML_ASSIGN_OR_RETURN(std::shared_ptr<io::RandomAccessFile> reader, ReaderFor(loc.file));
  ML_ASSIGN_OR_RETURN(std::string bytes, reader->Read(loc.offset, kBlockRecordHeaderSize + loc.length));
  const std::string path = PathOf(loc.file);
  if (bytes.size() != kBlockRecordHeaderSize + loc.length) {
    return Corruption(number, path, loc.offset, "the block file was cut short after it was opened");
  }
  const Header h = ParseHeader(bytes);
  if (h.magic != kBlockRecordMagic || h.length != loc.length) {
    return Corruption(number, path, loc.offset,
                      "the record header does not match the index (changed since Open, or a bad sidecar index)");
  }
  RawBlockRecord raw;
  raw.payload = std::move(bytes);
  raw.payload.erase(0, kBlockRecordHeaderSize);  // a memmove rather than a second buffer
  raw.stored_crc = h.crc;
  raw.computed_crc = crc32c::Value(raw.payload);
  raw.file = path;
  raw.offset = loc.offset;
  return raw;
}

Result<std::string> BlockStoreImpl::Read(uint64_t number) const {
  ML_ASSIGN_OR_RETURN(RawBlockRecord raw, ReadRaw(number));
  if (!raw.checksum_ok()) return Corruption(number, raw.file, raw.offset, "checksum mismatch");
  return std::move(raw.payload);
}

}  // namespace

std::string BlockFileName(uint32_t file_number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "blockfile_%06u", file_number);
  return buf;
}

Result<std::unique_ptr<BlockStore>> BlockStore::Open(const std::string& dir, io::Env* env) {
  return Open(dir, env, BlockStoreOptions{});
}

Result<std::unique_ptr<BlockStore>> BlockStore::Open(const std::string& dir, io::Env* env,
                                                     const BlockStoreOptions& options) {
  if (options.max_file_bytes == 0) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_block_store_options", "max_file_bytes must be positive");
  }
  auto store = std::make_unique<BlockStoreImpl>(dir, env != nullptr ? env : io::Env::Default(), options);
  ML_RETURN_IF_ERROR(store->Recover());
  return std::unique_ptr<BlockStore>(std::move(store));
}

}  // namespace medledger::ledger::storage
