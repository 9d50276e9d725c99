// C2SP signed-note: parse, verify and sign notes, and the key strings of golang.org/x/mod/sumdb/note
// (verifier "<name>+<8 hex key ID>+<base64(type || public key)>", signer
// "PRIVATE+KEY+<name>+<8 hex key ID>+<base64(type || seed)>"). Two signature types are supported, both
// Ed25519: 0x01 (plain note signatures, the log's checkpoint key) and 0x04 (tlog-cosignature/v1 witness
// cosignatures, whose signed bytes carry a timestamp; see cosignature.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/ed25519.h"

namespace medledger::tlog {

inline constexpr size_t kMaxNoteSize = 1 << 20;  // bytes, text and signatures together
inline constexpr size_t kMaxNoteSignatures = 100;

enum class SignatureType : uint8_t {
  kEd25519 = 0x01,
  kCosignatureV1 = 0x04,
};

// Key names: non-empty UTF-8 without Unicode spaces or '+' (the spec's rule, and Go's isValidName).
bool IsValidKeyName(std::string_view name);
// SHA-256(name || "\n" || type || public key)[:4], big-endian.
uint32_t KeyId(std::string_view name, SignatureType type, std::string_view public_key);

class NoteVerifier {
 public:
  // "invalid_vkey" (shape, name, base64, unknown type, key length), "vkey_id_mismatch" (the ID is not the
  // key's).
  static Result<NoteVerifier> Parse(std::string_view vkey);
  static Result<NoteVerifier> Make(std::string_view name, SignatureType type, const crypto::Ed25519PublicKey& key);

  std::string ToString() const;  // the vkey string
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  SignatureType type() const { return type_; }
  const crypto::Ed25519PublicKey& public_key() const { return key_; }

  // Verifies `signature` (the bytes after the 4-byte key ID) over the note text. For kCosignatureV1 the
  // signature is time(8, big-endian) || Ed25519 signature over the cosignature/v1 message (cosignature.h).
  bool Verify(std::string_view text, std::string_view signature) const;

 private:
  NoteVerifier(std::string name, SignatureType type, crypto::Ed25519PublicKey key, uint32_t id)
      : name_(std::move(name)), type_(type), key_(std::move(key)), key_id_(id) {}
  friend class NoteSigner;
  std::string name_;
  SignatureType type_;
  crypto::Ed25519PublicKey key_;
  uint32_t key_id_;
};

class NoteSigner {
 public:
  // "invalid_skey" (shape, name, base64, type, length), "skey_id_mismatch".
  static Result<NoteSigner> Parse(std::string_view skey);
  static Result<NoteSigner> Generate(std::string_view name, SignatureType type);
  static Result<NoteSigner> FromSeed(std::string_view name, SignatureType type, std::string_view seed32);

  std::string ToString() const;  // the secret key string: keep owner-only
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  SignatureType type() const { return type_; }
  NoteVerifier Verifier() const;
  const crypto::Ed25519KeyPair& key_pair() const { return key_; }

 private:
  NoteSigner(std::string name, SignatureType type, crypto::Ed25519KeyPair key, uint32_t id)
      : name_(std::move(name)), type_(type), key_(std::move(key)), key_id_(id) {}
  std::string name_;
  SignatureType type_;
  crypto::Ed25519KeyPair key_;
  uint32_t key_id_;
};

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // raw bytes after the key ID
  std::string base64;     // as on the line (key ID included)

  std::string Line() const;  // "— <name> <base64>\n"
};

struct Note {
  std::string text;  // including its final newline, without the blank line
  std::vector<NoteSignature> signatures;
};

// Splits a note into text and signature lines and checks its form ("note_too_large", "note_malformed");
// verifies nothing.
Result<Note> ParseNote(std::string_view message);
// Parses one signature line ("— <name> <base64>", with or without the final newline). "note_malformed".
Result<NoteSignature> ParseSignatureLine(std::string_view line);

struct OpenedNote {
  std::string text;
  std::vector<NoteSignature> verified;    // by a known key, in note order, duplicates dropped
  std::vector<NoteSignature> unverified;  // from keys not in `known` (ignored, as the spec says)
};

// ParseNote, then verifies every signature whose (name, key ID) matches a known verifier. A known key's bad
// signature rejects the whole note ("note_signature_invalid", kUnauthenticated); no verified signature at all
// is "note_unverified" (kUnauthenticated).
Result<OpenedNote> OpenNote(std::string_view message, const std::vector<NoteVerifier>& known);

// Signs `text` (must be a valid note text ending in "\n") with a type-0x01 signer: text + "\n" + signature
// line. "note_malformed" for an invalid text; "invalid_argument" for a cosignature signer.
Result<std::string> SignNote(std::string_view text, const NoteSigner& signer);
// The signature line alone (type 0x01).
Result<NoteSignature> SignText(std::string_view text, const NoteSigner& signer);

// True when `text` is valid UTF-8 with no ASCII control character but '\n'.
bool IsValidNoteText(std::string_view text);

}  // namespace medledger::tlog
