#include "ledger/embedded/verify_checkpoint.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "io/env.h"

namespace medledger::ledger::embedded {

namespace {

using nlohmann::json;

constexpr const char* kFormat = "medledger-verify-checkpoint/1";

// The signed bytes: the fields in a fixed order (nlohmann::json sorts object keys), compact.
std::string SignedBody(const VerifiedPrefix& p) {
  json body = {{"format", kFormat},
               {"height", p.height},
               {"lastHash", p.last_hash},
               {"recordsDigest", p.records_digest},
               {"stateDigest", p.state_digest},
               {"txsValid", p.txs_valid},
               {"txsInvalid", p.txs_invalid},
               {"configBlocks", p.config_blocks},
               {"verifiedAt", p.verified_at}};
  return body.dump();
}

Error Mismatch(const std::filesystem::path& file, const std::string& why) {
  return MakeError(ErrorKind::kCorruption, "verify_checkpoint_mismatch",
                   file.string() + ": " + why + "; run `medledger verify --full` to re-verify every block");
}

}  // namespace

Status WriteVerifyCheckpoint(const std::filesystem::path& file, VerifiedPrefix prefix,
                             const identity::SigningIdentity& signer, io::Env* env) {
  prefix.verified_at = Timestamp::Now().ToRfc3339();
  const std::string body = SignedBody(prefix);
  ML_ASSIGN_OR_RETURN(std::string signature, signer.Sign(body));
  json doc = {{"body", json::parse(body)}, {"signature", Base64Encode(signature)}};
  return io::WriteFileAtomic(env != nullptr ? *env : *io::Env::Default(), file, doc.dump(2) + "\n");
}

Result<std::optional<VerifiedPrefix>> ReadVerifyCheckpoint(const std::filesystem::path& file,
                                                           const crypto::Certificate& signer, io::Env* env) {
  auto text = io::ReadFile(env != nullptr ? *env : *io::Env::Default(), file, 64 * 1024);
  if (!text.ok()) {
    if (text.error().kind == ErrorKind::kNotFound) return std::optional<VerifiedPrefix>();
    if (text.error().code == "too_large") return Mismatch(file, "larger than any checkpoint");
    return text.error();
  }
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("body") || !doc["body"].is_object() ||
      !doc.contains("signature") || !doc["signature"].is_string()) {
    return Mismatch(file, "not a verify checkpoint");
  }
  const json& b = doc["body"];
  VerifiedPrefix p;
  try {
    if (b.at("format") != kFormat) return Mismatch(file, "unknown checkpoint format");
    p.height = b.at("height").get<uint64_t>();
    p.last_hash = b.at("lastHash").get<std::string>();
    p.records_digest = b.at("recordsDigest").get<std::string>();
    p.state_digest = b.at("stateDigest").get<std::string>();
    p.txs_valid = b.at("txsValid").get<uint64_t>();
    p.txs_invalid = b.at("txsInvalid").get<uint64_t>();
    p.config_blocks = b.at("configBlocks").get<uint64_t>();
    p.verified_at = b.at("verifiedAt").get<std::string>();
  } catch (const json::exception&) {
    return Mismatch(file, "a field is missing or of the wrong type");
  }
  auto signature = Base64Decode(doc["signature"].get<std::string>());
  // Re-serialised from the parsed fields: a body with extra or reordered fields does not verify.
  if (!signature.ok() || !signer.PublicKey().Verify(SignedBody(p), *signature)) {
    return Mismatch(file, "the signature does not verify with the organisation's peer certificate");
  }
  return std::optional<VerifiedPrefix>(std::move(p));
}

}  // namespace medledger::ledger::embedded
