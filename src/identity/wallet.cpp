#include "identity/wallet.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "io/env.h"

namespace medledger::identity {
namespace {

constexpr int kVersion = 1;
constexpr char kKdfName[] = "hkdf-sha256";
constexpr char kPurpose[] = "medledger/wallet/v1";
constexpr size_t kSaltSize = 16;
constexpr char kSuffix[] = ".id";

// Binds every public field of the entry to the sealed key, so no part of the file can be swapped or edited
// (e.g. another identity's certificate pasted in) without failing authentication.
std::string Aad(std::string_view name, std::string_view msp_id, std::string_view cert_pem) {
  std::string aad;
  aad.reserve(name.size() + msp_id.size() + cert_pem.size() + 2);
  aad.append(name).push_back('\0');
  aad.append(msp_id).push_back('\0');
  aad.append(cert_pem);
  return aad;
}

Error Corrupt(std::string_view name, std::string_view why) {
  return MakeError(ErrorKind::kCorruption, "wallet_corrupt",
                   "wallet entry '" + std::string(name) + "': " + std::string(why));
}

Error BadName(std::string_view name) {
  return MakeError(ErrorKind::kInvalidArgument, "bad_identity_name",
                   "identity name '" + std::string(name.substr(0, 80)) + "' is not [a-z0-9_][a-z0-9._-]{0,63}");
}

// Scrubs a secret held in a std::string when it goes out of scope.
struct Scrubbed {
  std::string value;
  ~Scrubbed() { OPENSSL_cleanse(value.data(), value.size()); }
};

// Only the encoding we write is accepted: otherwise unused low bits of the last character could be changed
// without changing the decoded bytes, and the file would no longer have exactly one valid form.
Result<std::string> CanonicalBase64Decode(std::string_view text) {
  auto decoded = Base64Decode(text);
  if (!decoded.ok() || Base64Encode(*decoded) != text) {
    return MakeError(ErrorKind::kCorruption, "bad_base64", "not canonical base64");
  }
  return decoded;
}

}  // namespace

Wallet::Wallet(std::filesystem::path dir, MasterKey master_key, io::Env* env)
    : dir_(std::move(dir)), master_key_(std::move(master_key)), env_(env != nullptr ? env : io::Env::Default()) {}

bool Wallet::IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (i > 0 && (c == '.' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

std::filesystem::path Wallet::PathFor(std::string_view name) const {
  return dir_ / (std::string(name) + kSuffix);
}

Result<std::string> Wallet::Seal(std::string_view name, const SigningIdentity& identity) const {
  if (!IsValidName(name)) return BadName(name);
  std::string salt = crypto::RandomBytes(kSaltSize);
  std::string nonce = crypto::RandomBytes(crypto::kGcmNonceSize);
  ML_ASSIGN_OR_RETURN(std::string derived, master_key_.Derive(kPurpose, salt));
  Scrubbed key{std::move(derived)};
  Scrubbed pem{identity.private_key().ToPem()};
  ML_ASSIGN_OR_RETURN(std::string sealed, crypto::AesGcmSeal(key.value, nonce, pem.value,
                                                             Aad(name, identity.msp_id(), identity.cert_pem())));
  nlohmann::json doc = {
      {"version", kVersion},
      {"name", name},
      {"msp_id", identity.msp_id()},
      {"cert", identity.cert_pem()},
      {"kdf", kKdfName},
      {"salt", Base64Encode(salt)},
      {"nonce", Base64Encode(nonce)},
      {"sealed_key", Base64Encode(sealed)},
  };
  return doc.dump(2) + "\n";
}

Result<SigningIdentity> Wallet::Open(std::string_view name, std::string_view file_contents) const {
  nlohmann::json doc = nlohmann::json::parse(file_contents.begin(), file_contents.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Corrupt(name, "not a JSON object");
  auto str = [&](const char* field) -> Result<std::string> {
    auto it = doc.find(field);
    if (it == doc.end() || !it->is_string()) return Corrupt(name, std::string("missing field ") + field);
    return it->get<std::string>();
  };
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != kVersion) {
    return Corrupt(name, "unsupported version");
  }
  ML_ASSIGN_OR_RETURN(std::string stored_name, str("name"));
  if (stored_name != name) return Corrupt(name, "entry belongs to '" + stored_name.substr(0, 80) + "'");
  ML_ASSIGN_OR_RETURN(std::string kdf, str("kdf"));
  if (kdf != kKdfName) return Corrupt(name, "unsupported kdf");
  ML_ASSIGN_OR_RETURN(std::string msp_id, str("msp_id"));
  ML_ASSIGN_OR_RETURN(std::string cert_pem, str("cert"));
  ML_ASSIGN_OR_RETURN(std::string salt_b64, str("salt"));
  ML_ASSIGN_OR_RETURN(std::string nonce_b64, str("nonce"));
  ML_ASSIGN_OR_RETURN(std::string sealed_b64, str("sealed_key"));
  auto salt = CanonicalBase64Decode(salt_b64);
  auto nonce = CanonicalBase64Decode(nonce_b64);
  auto sealed = CanonicalBase64Decode(sealed_b64);
  if (!salt.ok() || salt->size() != kSaltSize) return Corrupt(name, "bad salt");
  if (!nonce.ok() || nonce->size() != crypto::kGcmNonceSize) return Corrupt(name, "bad nonce");
  if (!sealed.ok()) return Corrupt(name, "bad sealed_key encoding");

  ML_ASSIGN_OR_RETURN(std::string derived, master_key_.Derive(kPurpose, *salt));
  Scrubbed key{std::move(derived)};
  auto opened = crypto::AesGcmOpen(key.value, *nonce, *sealed, Aad(name, msp_id, cert_pem));
  if (!opened.ok()) {
    return MakeError(
        ErrorKind::kCorruption, "wallet_decrypt_failed",
        "wallet entry '" + std::string(name) + "' fails authentication: tampered, or a different master key");
  }
  Scrubbed pem{std::move(opened).value()};
  auto private_key = crypto::EcPrivateKey::FromPem(pem.value);
  if (!private_key.ok()) return Corrupt(name, "sealed key is not a P-256 private key");
  auto cert = crypto::Certificate::FromPem(cert_pem);
  if (!cert.ok()) return Corrupt(name, "bad certificate: " + cert.error().message);
  return SigningIdentity::Create(std::move(msp_id), std::move(cert).value(), std::move(private_key).value());
}

Status Wallet::Put(std::string_view name, const SigningIdentity& identity) const {
  ML_ASSIGN_OR_RETURN(std::string contents, Seal(name, identity));
  return io::WriteFileAtomic(*env_, PathFor(name), contents);
}

Result<SigningIdentity> Wallet::Load(std::string_view name) const {
  if (!IsValidName(name)) return BadName(name);
  auto contents = io::ReadFile(*env_, PathFor(name), 1024 * 1024);
  if (!contents.ok()) {
    if (contents.error().kind == ErrorKind::kNotFound) {
      return MakeError(ErrorKind::kNotFound, "wallet_entry_missing", "no wallet entry for '" + std::string(name) + "'");
    }
    return contents.error();
  }
  return Open(name, *contents);
}

bool Wallet::Contains(std::string_view name) const {
  std::error_code ec;
  return IsValidName(name) && std::filesystem::is_regular_file(PathFor(name), ec);
}

std::vector<std::string> Wallet::List() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string file = entry.path().filename().string();
    if (file.size() <= 3 || file.compare(file.size() - 3, 3, kSuffix) != 0) continue;
    std::string name = file.substr(0, file.size() - 3);
    if (IsValidName(name)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace medledger::identity
