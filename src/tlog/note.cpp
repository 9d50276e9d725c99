#include "tlog/note.h"

#include <set>
#include <utility>

#include "common/encoding.h"
#include "crypto/hash.h"
#include "tlog/cosignature.h"

namespace medledger::tlog {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space

Error Malformed(std::string why) {
  return MakeError(ErrorKind::kInvalidArgument, "note_malformed", std::move(why));
}

// Decodes the code point at s[*i] of a string already known to be valid UTF-8.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b = static_cast<unsigned char>(s[*i]);
  int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *i += len;
  return cp;
}

// Go's unicode.IsSpace: the Latin-1 spaces and every code point with the White_Space property.
bool IsUnicodeSpace(uint32_t c) {
  switch (c) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

// RFC 4648 base64 with padding, and only the canonical spelling of its bytes.
std::optional<std::string> StrictBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  auto decoded = Base64Decode(text);
  if (!decoded.ok() || Base64Encode(*decoded) != text) return std::nullopt;
  return std::move(decoded).value();
}

std::string Hex8(uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i, v >>= 4) out[i] = digits[v & 0xF];
  return out;
}

std::optional<uint32_t> ParseHex8(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  return v;
}

// Splits at the first `sep`; the second half is empty (and found false) when there is none.
std::pair<std::string_view, std::string_view> Chop(std::string_view s, char sep, bool* found) {
  size_t i = s.find(sep);
  *found = i != std::string_view::npos;
  if (!*found) return {s, {}};
  return {s.substr(0, i), s.substr(i + 1)};
}

bool KnownType(uint8_t t) {
  return t == static_cast<uint8_t>(SignatureType::kEd25519) || t == static_cast<uint8_t>(SignatureType::kCosignatureV1);
}

std::string Encode32(uint32_t v) {
  std::string out;
  PutFixed32(&out, v);
  return out;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty() || !IsValidUtf8(name)) return false;
  for (size_t i = 0; i < name.size();) {
    const uint32_t c = NextCodePoint(name, &i);
    if (c == '+' || IsUnicodeSpace(c)) return false;
  }
  return true;
}

bool IsValidNoteText(std::string_view text) {
  if (!IsValidUtf8(text)) return false;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return false;
  }
  return true;
}

uint32_t KeyId(std::string_view name, SignatureType type, std::string_view public_key) {
  crypto::Sha256Hasher h;
  h.Update(name);
  h.Update("\n");
  const char t = static_cast<char>(type);
  h.Update(std::string_view(&t, 1));
  h.Update(public_key);
  return DecodeFixed32(h.Finish().data());
}

Result<NoteVerifier> NoteVerifier::Parse(std::string_view vkey) {
  const auto bad = [](std::string why) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_vkey", std::move(why));
  };
  if (vkey.size() > 4096) return bad("verifier key too long");
  bool f1 = false;
  bool f2 = false;
  auto [name, rest] = Chop(vkey, '+', &f1);
  auto [hex, b64] = Chop(rest, '+', &f2);
  if (!f1 || !f2) return bad("a verifier key is <name>+<key ID>+<key>");
  if (!IsValidKeyName(name)) return bad("invalid key name");
  auto id = ParseHex8(hex);
  if (!id) return bad("the key ID is 8 lowercase hex digits");
  auto key = StrictBase64(b64);
  if (!key || key->empty()) return bad("the key is base64");
  const auto type = static_cast<uint8_t>((*key)[0]);
  if (!KnownType(type)) return bad("unsupported signature type");
  auto pub = crypto::Ed25519PublicKey::FromBytes(std::string_view(*key).substr(1));
  if (!pub.ok()) return bad("the key is not an Ed25519 public key");
  if (KeyId(name, static_cast<SignatureType>(type), pub->bytes()) != *id) {
    return MakeError(ErrorKind::kInvalidArgument, "vkey_id_mismatch", "the key ID does not match the key");
  }
  return NoteVerifier(std::string(name), static_cast<SignatureType>(type), std::move(pub).value(), *id);
}

Result<NoteVerifier> NoteVerifier::Make(std::string_view name, SignatureType type,
                                        const crypto::Ed25519PublicKey& key) {
  if (!IsValidKeyName(name)) return MakeError(ErrorKind::kInvalidArgument, "invalid_key_name", "invalid key name");
  return NoteVerifier(std::string(name), type, key, KeyId(name, type, key.bytes()));
}

std::string NoteVerifier::ToString() const {
  std::string key(1, static_cast<char>(type_));
  key += key_.bytes();
  return name_ + "+" + Hex8(key_id_) + "+" + Base64Encode(key);
}

bool NoteVerifier::Verify(std::string_view text, std::string_view signature) const {
  if (type_ == SignatureType::kEd25519) return key_.Verify(text, signature);
  if (signature.size() != 8 + crypto::kEd25519SignatureSize) return false;
  const uint64_t time = DecodeFixed64(signature.data());
  if (time > static_cast<uint64_t>(INT64_MAX)) return false;
  return key_.Verify(CosignatureMessage(text, time), signature.substr(8));
}

Result<NoteSigner> NoteSigner::FromSeed(std::string_view name, SignatureType type, std::string_view seed32) {
  if (!IsValidKeyName(name)) return MakeError(ErrorKind::kInvalidArgument, "invalid_key_name", "invalid key name");
  ML_ASSIGN_OR_RETURN(auto key, crypto::Ed25519KeyPair::FromSeed(seed32));
  const uint32_t id = KeyId(name, type, key.public_key().bytes());
  return NoteSigner(std::string(name), type, std::move(key), id);
}

Result<NoteSigner> NoteSigner::Generate(std::string_view name, SignatureType type) {
  ML_ASSIGN_OR_RETURN(auto key, crypto::Ed25519KeyPair::Generate());
  return FromSeed(name, type, key.seed());
}

Result<NoteSigner> NoteSigner::Parse(std::string_view skey) {
  const auto bad = [](std::string why) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_skey", std::move(why));
  };
  if (skey.size() > 4096) return bad("signer key too long");
  bool f[4] = {};
  auto [p1, r1] = Chop(skey, '+', &f[0]);
  auto [p2, r2] = Chop(r1, '+', &f[1]);
  auto [name, r3] = Chop(r2, '+', &f[2]);
  auto [hex, b64] = Chop(r3, '+', &f[3]);
  if (!f[0] || !f[1] || !f[2] || !f[3] || p1 != "PRIVATE" || p2 != "KEY") {
    return bad("a signer key is PRIVATE+KEY+<name>+<key ID>+<key>");
  }
  if (!IsValidKeyName(name)) return bad("invalid key name");
  auto id = ParseHex8(hex);
  if (!id) return bad("the key ID is 8 lowercase hex digits");
  auto key = StrictBase64(b64);
  if (!key || key->size() != 1 + crypto::kEd25519KeySize || !KnownType(static_cast<uint8_t>((*key)[0]))) {
    return bad("the key is base64(type || 32-byte Ed25519 seed)");
  }
  ML_ASSIGN_OR_RETURN(auto signer,
                      FromSeed(name, static_cast<SignatureType>((*key)[0]), std::string_view(*key).substr(1)));
  if (signer.key_id() != *id) {
    return MakeError(ErrorKind::kInvalidArgument, "skey_id_mismatch", "the key ID does not match the key");
  }
  return signer;
}

std::string NoteSigner::ToString() const {
  std::string key(1, static_cast<char>(type_));
  key += key_.seed();
  return "PRIVATE+KEY+" + name_ + "+" + Hex8(key_id_) + "+" + Base64Encode(key);
}

NoteVerifier NoteSigner::Verifier() const {
  return NoteVerifier(name_, type_, key_.public_key(), key_id_);
}

std::string NoteSignature::Line() const {
  return std::string(kSigPrefix) + name + " " + base64 + "\n";
}

Result<NoteSignature> ParseSignatureLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.size() > kMaxNoteSize || line.find('\n') != std::string_view::npos) return Malformed("one line expected");
  if (line.substr(0, kSigPrefix.size()) != kSigPrefix) return Malformed("a signature line starts with an em dash");
  line.remove_prefix(kSigPrefix.size());
  bool found = false;
  auto [name, b64] = Chop(line, ' ', &found);
  if (!found || !IsValidKeyName(name)) return Malformed("invalid signature key name");
  auto sig = StrictBase64(b64);
  if (!sig || sig->size() < 5) return Malformed("a signature is base64 of a key ID and at least one byte");
  NoteSignature out;
  out.name = std::string(name);
  out.key_id = DecodeFixed32(sig->data());
  out.signature = sig->substr(4);
  out.base64 = std::string(b64);
  return out;
}

Result<Note> ParseNote(std::string_view message) {
  if (message.size() > kMaxNoteSize) {
    return MakeError(ErrorKind::kTooLarge, "note_too_large", "a note is at most 1 MiB");
  }
  if (!IsValidNoteText(message)) return Malformed("a note is UTF-8 without control characters but newline");
  // The text ends at the last blank line; everything after it is signature lines.
  const size_t split = message.rfind("\n\n");
  if (split == std::string_view::npos) return Malformed("no blank line before the signatures");
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  std::string_view sigs = message.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return Malformed("the signature lines end in a newline");
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    if (note.signatures.size() == kMaxNoteSignatures) return Malformed("more than 100 signatures");
    ML_ASSIGN_OR_RETURN(auto sig, ParseSignatureLine(sigs.substr(0, nl)));
    note.signatures.push_back(std::move(sig));
    sigs.remove_prefix(nl + 1);
  }
  return note;
}

Result<OpenedNote> OpenNote(std::string_view message, const std::vector<NoteVerifier>& known) {
  ML_ASSIGN_OR_RETURN(Note note, ParseNote(message));
  OpenedNote out;
  out.text = std::move(note.text);
  std::set<std::pair<std::string, uint32_t>> seen;
  std::set<std::string> seen_unknown;
  for (auto& sig : note.signatures) {
    const NoteVerifier* verifier = nullptr;
    for (const auto& v : known) {
      if (v.name() == sig.name && v.key_id() == sig.key_id) verifier = &v;
    }
    if (verifier == nullptr) {
      if (seen_unknown.insert(sig.name + " " + sig.base64).second) out.unverified.push_back(std::move(sig));
      continue;
    }
    if (!seen.insert({sig.name, sig.key_id}).second) continue;
    if (!verifier->Verify(out.text, sig.signature)) {
      return MakeError(ErrorKind::kUnauthenticated, "note_signature_invalid",
                       "the signature of known key " + sig.name + " does not verify");
    }
    out.verified.push_back(std::move(sig));
  }
  if (out.verified.empty()) {
    return MakeError(ErrorKind::kUnauthenticated, "note_unverified", "no signature from a known key");
  }
  return out;
}

Result<NoteSignature> SignText(std::string_view text, const NoteSigner& signer) {
  if (signer.type() != SignatureType::kEd25519) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_argument", "a cosignature key signs with Cosign()");
  }
  if (text.empty() || text.back() != '\n' || text.size() > kMaxNoteSize / 2 || !IsValidNoteText(text)) {
    return Malformed("a note text is UTF-8 without control characters, ending in a newline");
  }
  ML_ASSIGN_OR_RETURN(std::string raw, signer.key_pair().Sign(text));
  NoteSignature sig;
  sig.name = signer.name();
  sig.key_id = signer.key_id();
  sig.signature = raw;
  sig.base64 = Base64Encode(Encode32(signer.key_id()) + raw);
  return sig;
}

Result<std::string> SignNote(std::string_view text, const NoteSigner& signer) {
  ML_ASSIGN_OR_RETURN(NoteSignature sig, SignText(text, signer));
  return std::string(text) + "\n" + sig.Line();
}

}  // namespace medledger::tlog
