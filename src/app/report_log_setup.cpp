#include "app/report_log_setup.h"

#include <nlohmann/json.hpp>

#include "identity/sealed_file.h"
#include "io/env.h"
#include "io/posix_util.h"
#include "reportlog/log_files.h"

namespace medledger::app {
namespace {

constexpr char kPurpose[] = "medledger/log-key/v1";
constexpr char kAad[] = "log-key";

}  // namespace

Result<tlog::NoteSigner> LoadOrCreateLogKey(const std::filesystem::path& data_dir,
                                            const identity::MasterKey& master_key, const std::string& origin) {
  const auto dir = data_dir / reportlog::files::kLogDir;
  ML_RETURN_IF_ERROR(io::MakeDirectory(dir, 0700));
  const auto file = dir / reportlog::files::kLogKey;
  ML_ASSIGN_OR_RETURN(auto sealer, identity::SealedFiles::Create(master_key, kPurpose));
  auto stored = sealer.Read(file, kAad);
  if (stored.ok()) {
    ML_ASSIGN_OR_RETURN(tlog::NoteSigner key, tlog::NoteSigner::Parse(*stored));
    if (key.name() != origin) {
      return MakeError(ErrorKind::kInvalidArgument, "log_origin_changed",
                       "this data directory's log is '" + key.name() + "', not '" + origin +
                           "': a log keeps its origin for life (start a new data directory for a new log)");
    }
    return key;
  }
  if (stored.error().code != "not_found") return stored.error();
  ML_ASSIGN_OR_RETURN(tlog::NoteSigner key, tlog::NoteSigner::Generate(origin, tlog::SignatureType::kEd25519));
  ML_RETURN_IF_ERROR(sealer.Write(file, key.ToString(), kAad));
  return key;
}

Result<std::vector<tlog::NoteVerifier>> ParseWitnessKeys(const std::vector<std::string>& vkeys) {
  std::vector<tlog::NoteVerifier> out;
  for (const auto& v : vkeys) {
    auto parsed = tlog::NoteVerifier::Parse(v);
    if (!parsed.ok() || parsed->type() != tlog::SignatureType::kCosignatureV1) {
      return MakeError(ErrorKind::kInvalidArgument, "invalid_witness_key",
                       "--witness takes a witness verifier key <name>+<hex id>+<base64> of type cosignature/v1");
    }
    out.push_back(std::move(*parsed));
  }
  return out;
}

std::string TrustBundleJson(const TrustBundle& b) {
  nlohmann::json j = {{"format", "medledger-trust/1"}, {"orgRoots", b.org_roots_pem},
                      {"logVkey", b.log_vkey},         {"witnessVkeys", b.witness_vkeys},
                      {"tsaRoots", b.tsa_roots_pem},   {"minWitnesses", b.min_witnesses}};
  return j.dump(2);
}

}  // namespace medledger::app
