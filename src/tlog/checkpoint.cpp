#include "tlog/checkpoint.h"

#include <charconv>

#include "common/encoding.h"
#include "tlog/merkle.h"

namespace medledger::tlog {
namespace {

Error Bad(std::string why) {
  return MakeError(ErrorKind::kInvalidArgument, "invalid_checkpoint", std::move(why));
}

bool IsLine(std::string_view s) {
  return !s.empty() && s.size() <= 4096 && s.find('\n') == std::string_view::npos && IsValidNoteText(s);
}

}  // namespace

Status ValidateCheckpoint(const Checkpoint& c) {
  if (!IsLine(c.origin)) return Bad("the origin is one non-empty line");
  if (c.root_hash.size() != kHashSize) return Bad("the root hash is 32 bytes");
  if (c.extensions.size() > kMaxCheckpointExtensions) return Bad("too many extension lines");
  for (const auto& e : c.extensions) {
    if (!IsLine(e)) return Bad("an extension line is one non-empty line");
  }
  return OkStatus();
}

std::string FormatCheckpoint(const Checkpoint& c) {
  std::string out = c.origin + "\n" + std::to_string(c.size) + "\n" + Base64Encode(c.root_hash) + "\n";
  for (const auto& e : c.extensions) out += e + "\n";
  return out;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (text.size() > 64 * 1024) return Bad("checkpoint text too large");
  if (text.empty() || text.back() != '\n') return Bad("a checkpoint ends in a newline");
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return Bad("a checkpoint has origin, size and root hash lines");
  Checkpoint c;
  c.origin = std::string(lines[0]);
  const std::string_view size = lines[1];
  if (size.empty() || size.size() > 20 || (size.size() > 1 && size[0] == '0') ||
      size.find_first_not_of("0123456789") != std::string_view::npos) {
    return Bad("the size is a decimal without sign or leading zeros");
  }
  auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), c.size);
  if (ec != std::errc() || p != size.data() + size.size()) return Bad("the size does not fit 64 bits");
  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != kHashSize || Base64Encode(*root) != lines[2]) {
    return Bad("the root hash is the padded base64 of 32 bytes");
  }
  c.root_hash = std::move(root).value();
  for (size_t i = 3; i < lines.size(); ++i) c.extensions.emplace_back(lines[i]);
  ML_RETURN_IF_ERROR(ValidateCheckpoint(c));
  return c;
}

Result<SignedCheckpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& log_key,
                                        bool origin_must_match_key) {
  if (log_key.type() != SignatureType::kEd25519) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_vkey", "a log key signs with type 0x01");
  }
  ML_ASSIGN_OR_RETURN(OpenedNote opened, OpenNote(note, {log_key}));
  ML_ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpoint(opened.text));
  if (origin_must_match_key && c.origin != log_key.name()) {
    return MakeError(ErrorKind::kInvalidArgument, "checkpoint_origin_mismatch",
                     "the checkpoint's origin is not the log key's name");
  }
  return SignedCheckpoint{std::move(c), std::move(opened)};
}

}  // namespace medledger::tlog
