// One file of a backup on disk: its plaintext in 1 MiB chunks, each sealed with AES-256-GCM under the backup's
// file key. On disk each chunk is [u32 big-endian sealed length][12-byte nonce][ciphertext || tag]. A chunk's
// AAD binds the backup id, the file's relative path, the chunk index and whether it is the last chunk, so
// reordering chunks, truncating the file at a chunk boundary, or moving a chunk to another file or another
// backup all fail authentication. Every file has at least one chunk (an empty file: one empty last chunk).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "io/env.h"

namespace medledger::backup {

inline constexpr size_t kChunkSize = 1 << 20;

// The chunk AAD (exposed for tests): "medledger-backup/1 chunk" 0 backup_id 0 path 0 index(u64 BE) last(1 byte).
std::string ChunkAad(std::string_view backup_id, std::string_view path, uint64_t index, bool last);

class EncryptedFileWriter {
 public:
  // Creates `file` through `env` (0600, exclusive); `path` is the data-directory-relative path bound into
  // every chunk.
  static Result<EncryptedFileWriter> Create(io::Env& env, const std::filesystem::path& file, std::string key,
                                            std::string backup_id, std::string path);
  EncryptedFileWriter(EncryptedFileWriter&&) = default;
  EncryptedFileWriter& operator=(EncryptedFileWriter&&) = default;

  Status Append(std::string_view plaintext);
  // Seals the last chunk, fsyncs and closes. Must be called once; a writer dropped without it leaves a file
  // whose last chunk is missing, which the reader refuses.
  Status Finish();
  uint64_t stored_bytes() const { return stored_; }  // bytes written to disk

 private:
  EncryptedFileWriter(std::unique_ptr<io::WritableFile> out, std::string key, std::string backup_id, std::string path);
  Status SealChunk(bool last);

  std::unique_ptr<io::WritableFile> out_;
  std::string key_;
  std::string backup_id_;
  std::string path_;
  std::string buffer_;
  uint64_t index_ = 0;
  uint64_t stored_ = 0;
};

// Streams the authenticated plaintext of `file` to `sink`, chunk by chunk. Nothing unauthenticated ever reaches
// the sink. "backup_corrupted" naming `display` when a chunk fails authentication, the file is truncated or
// malformed; "backup_incomplete" when the file is missing.
Status DecryptFile(io::Env& env, const std::filesystem::path& file, std::string_view key, std::string_view backup_id,
                   std::string_view path, const std::string& display,
                   const std::function<Status(std::string_view)>& sink);

}  // namespace medledger::backup
