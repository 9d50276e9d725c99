#include "backup/encrypted_file.h"

#include "backup/errors.h"
#include "crypto/aead.h"
#include "crypto/random.h"

namespace medledger::backup {
namespace {

constexpr size_t kLengthSize = 4;
constexpr size_t kMaxSealed = kChunkSize + crypto::kGcmTagSize;

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

}  // namespace

std::string ChunkAad(std::string_view backup_id, std::string_view path, uint64_t index, bool last) {
  std::string aad = "medledger-backup/1 chunk";
  aad.push_back('\0');
  aad.append(backup_id);
  aad.push_back('\0');
  aad.append(path);
  aad.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) aad.push_back(static_cast<char>((index >> shift) & 0xff));
  aad.push_back(last ? '\1' : '\0');
  return aad;
}

EncryptedFileWriter::EncryptedFileWriter(std::unique_ptr<io::WritableFile> out, std::string key, std::string backup_id,
                                         std::string path)
    : out_(std::move(out)), key_(std::move(key)), backup_id_(std::move(backup_id)), path_(std::move(path)) {}

Result<EncryptedFileWriter> EncryptedFileWriter::Create(io::Env& env, const std::filesystem::path& file,
                                                        std::string key, std::string backup_id, std::string path) {
  ML_ASSIGN_OR_RETURN(auto out, env.CreateExclusive(file.string(), 0600));
  return EncryptedFileWriter(std::move(out), std::move(key), std::move(backup_id), std::move(path));
}

Status EncryptedFileWriter::SealChunk(bool last) {
  std::string nonce = crypto::RandomBytes(crypto::kGcmNonceSize);
  ML_ASSIGN_OR_RETURN(std::string sealed,
                      crypto::AesGcmSeal(key_, nonce, buffer_, ChunkAad(backup_id_, path_, index_, last)));
  std::string record;
  record.reserve(kLengthSize + nonce.size() + sealed.size());
  PutU32(record, static_cast<uint32_t>(sealed.size()));
  record += nonce;
  record += sealed;
  ML_RETURN_IF_ERROR(out_->Append(record));
  stored_ += record.size();
  ++index_;
  buffer_.clear();
  return OkStatus();
}

Status EncryptedFileWriter::Append(std::string_view plaintext) {
  while (!plaintext.empty()) {
    // A full buffer is sealed only once more data arrives, so the chunk flagged last is never a full one
    // that a later Append could still follow.
    if (buffer_.size() == kChunkSize) ML_RETURN_IF_ERROR(SealChunk(/*last=*/false));
    size_t take = std::min(plaintext.size(), kChunkSize - buffer_.size());
    buffer_.append(plaintext.substr(0, take));
    plaintext.remove_prefix(take);
  }
  return OkStatus();
}

Status EncryptedFileWriter::Finish() {
  ML_RETURN_IF_ERROR(SealChunk(/*last=*/true));
  ML_RETURN_IF_ERROR(out_->Sync());
  return out_->Close();
}

Status DecryptFile(io::Env& env, const std::filesystem::path& file, std::string_view key, std::string_view backup_id,
                   std::string_view path, const std::string& display,
                   const std::function<Status(std::string_view)>& sink) {
  auto opened_file = env.OpenRandomAccess(file.string());
  if (!opened_file.ok()) {
    if (opened_file.error().kind == ErrorKind::kNotFound) {
      return Incomplete(display + " is listed in the manifest but missing");
    }
    return opened_file.error();
  }
  const io::RandomAccessFile& in = **opened_file;
  ML_ASSIGN_OR_RETURN(const uint64_t size, env.FileSize(file.string()));
  uint64_t pos = 0;
  uint64_t index = 0;
  while (true) {
    ML_ASSIGN_OR_RETURN(std::string header, in.Read(pos, kLengthSize + crypto::kGcmNonceSize));
    if (header.size() != kLengthSize + crypto::kGcmNonceSize) {
      return Corrupted(display, "truncated at chunk " + std::to_string(index));
    }
    uint32_t sealed_len = 0;
    for (size_t i = 0; i < kLengthSize; ++i) sealed_len = (sealed_len << 8) | static_cast<unsigned char>(header[i]);
    if (sealed_len < crypto::kGcmTagSize || sealed_len > kMaxSealed) {
      return Corrupted(display, "chunk " + std::to_string(index) + " has an impossible length");
    }
    ML_ASSIGN_OR_RETURN(std::string sealed, in.Read(pos + header.size(), sealed_len));
    if (sealed.size() != sealed_len) return Corrupted(display, "truncated in chunk " + std::to_string(index));
    pos += header.size() + sealed.size();
    const bool last = pos == size;
    auto opened = crypto::AesGcmOpen(key, std::string_view(header).substr(kLengthSize), sealed,
                                     ChunkAad(backup_id, path, index, last));
    if (!opened.ok()) {
      return Corrupted(display, "chunk " + std::to_string(index) + " fails authentication" +
                                    (last ? " (or the file was truncated)" : ""));
    }
    ML_RETURN_IF_ERROR(sink(*opened));
    if (last) return OkStatus();
    ++index;
  }
}

}  // namespace medledger::backup
