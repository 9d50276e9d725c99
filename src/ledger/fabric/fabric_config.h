// How medledger reaches a Fabric network: one peer's Gateway endpoint, its TLS root, the channel and the
// chaincode. Read from a small JSON file (`--ledger fabric --fabric-config FILE`).
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace medledger::ledger::fabric {

struct FabricConfig {
  std::string peer_endpoint;         // "127.0.0.1:7051"
  std::string tls_root_cert;         // PEM of the peer's TLS CA; empty = plaintext (tests only)
  std::string server_name_override;  // TLS host name to expect, when it differs from the endpoint host
  std::string msp_id;                // the organisation's MSP ID, e.g. "HospitalMSP"
  std::string channel = "medchannel";
  std::string chaincode = "records";
  std::chrono::milliseconds evaluate_timeout{5000};
  std::chrono::milliseconds endorse_timeout{15000};
  std::chrono::milliseconds submit_timeout{5000};
  std::chrono::milliseconds commit_timeout{60000};
  int max_attempts = 3;  // for UNAVAILABLE answers, with exponential backoff
  // Submissions in flight at once (each holds a client thread through endorse, submit and the commit wait,
  // which is mostly the orderer's batch timeout): more waiting than this queue in the client.
  int max_in_flight = 128;
};

// Parses the JSON form: {"peerEndpoint", "tlsRootCertFile" | "tlsRootCert", "serverNameOverride", "mspId",
// "channel", "chaincode", "timeouts": {"evaluateMs", "endorseMs", "submitMs", "commitMs"}, "maxAttempts",
// "maxInFlight"}. Relative certificate paths are resolved against `base_dir`.
Result<FabricConfig> ParseFabricConfig(std::string_view json_text, const std::string& base_dir);
Result<FabricConfig> LoadFabricConfig(const std::string& path);

}  // namespace medledger::ledger::fabric
