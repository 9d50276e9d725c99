#include "ledger/fabric/fabric_config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace medledger::ledger::fabric {
namespace {

Error Bad(const std::string& what) {
  return MakeError(ErrorKind::kInvalidArgument, "bad_fabric_config", what);
}

}  // namespace

Result<FabricConfig> ParseFabricConfig(std::string_view json_text, const std::string& base_dir) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("the Fabric config is not a JSON object");
  static const char* kKnown[] = {"peerEndpoint", "tlsRootCertFile", "tlsRootCert", "serverNameOverride", "mspId",
                                 "channel",      "chaincode",       "timeouts",    "maxAttempts",        "maxInFlight"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return Bad("unknown field \"" + key + "\"");
    }
  }
  auto str = [&](const char* key, std::string* out, bool required) -> Status {
    if (!j.contains(key)) return required ? Status(Bad(std::string("missing \"") + key + "\"")) : OkStatus();
    if (!j[key].is_string() || j[key].get<std::string>().empty()) {
      return Bad(std::string("\"") + key + "\" must be a non-empty string");
    }
    *out = j[key].get<std::string>();
    return OkStatus();
  };
  FabricConfig c;
  ML_RETURN_IF_ERROR(str("peerEndpoint", &c.peer_endpoint, true));
  ML_RETURN_IF_ERROR(str("mspId", &c.msp_id, true));
  ML_RETURN_IF_ERROR(str("channel", &c.channel, false));
  ML_RETURN_IF_ERROR(str("chaincode", &c.chaincode, false));
  ML_RETURN_IF_ERROR(str("serverNameOverride", &c.server_name_override, false));
  ML_RETURN_IF_ERROR(str("tlsRootCert", &c.tls_root_cert, false));
  std::string cert_file;
  ML_RETURN_IF_ERROR(str("tlsRootCertFile", &cert_file, false));
  if (!cert_file.empty()) {
    std::filesystem::path p(cert_file);
    if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
    std::ifstream in(p);
    if (!in) return Bad("cannot read tlsRootCertFile " + p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    c.tls_root_cert = ss.str();
  }
  if (c.peer_endpoint.find(':') == std::string::npos) return Bad("\"peerEndpoint\" must be host:port");
  if (j.contains("maxAttempts")) {
    if (!j["maxAttempts"].is_number_integer() || j["maxAttempts"].get<int>() < 1 || j["maxAttempts"].get<int>() > 10) {
      return Bad("\"maxAttempts\" must be an integer from 1 to 10");
    }
    c.max_attempts = j["maxAttempts"].get<int>();
  }
  if (j.contains("maxInFlight")) {
    if (!j["maxInFlight"].is_number_integer() || j["maxInFlight"].get<int>() < 1 ||
        j["maxInFlight"].get<int>() > 1024) {
      return Bad("\"maxInFlight\" must be an integer from 1 to 1024");
    }
    c.max_in_flight = j["maxInFlight"].get<int>();
  }
  if (j.contains("timeouts")) {
    const auto& t = j["timeouts"];
    if (!t.is_object()) return Bad("\"timeouts\" must be an object");
    auto ms = [&](const char* key, std::chrono::milliseconds* out) -> Status {
      if (!t.contains(key)) return OkStatus();
      if (!t[key].is_number_integer() || t[key].get<int64_t>() < 1 || t[key].get<int64_t>() > 600000) {
        return Bad(std::string("timeouts.") + key + " must be 1..600000 ms");
      }
      *out = std::chrono::milliseconds(t[key].get<int64_t>());
      return OkStatus();
    };
    ML_RETURN_IF_ERROR(ms("evaluateMs", &c.evaluate_timeout));
    ML_RETURN_IF_ERROR(ms("endorseMs", &c.endorse_timeout));
    ML_RETURN_IF_ERROR(ms("submitMs", &c.submit_timeout));
    ML_RETURN_IF_ERROR(ms("commitMs", &c.commit_timeout));
  }
  return c;
}

Result<FabricConfig> LoadFabricConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Bad("cannot read Fabric config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseFabricConfig(ss.str(), std::filesystem::path(path).parent_path().string());
}

}  // namespace medledger::ledger::fabric
