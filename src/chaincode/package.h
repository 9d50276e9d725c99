// The chaincode package a Fabric peer installs for a chaincode-as-a-service: a tar.gz holding
// metadata.json ({"type":"ccaas","label":...}) and code.tar.gz, which holds connection.json (where the peer
// dials the chaincode server, and with what TLS material).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace medledger::chaincode {

struct PackageOptions {
  std::string label = "records_1.0";  // [A-Za-z0-9_.+-]+, as `peer lifecycle chaincode package --label`
  std::string address;                // host:port the peer dials
  std::string dial_timeout = "10s";
  bool tls_required = false;
  bool client_auth_required = false;
  std::string root_cert;    // PEM: the CA the peer trusts for the chaincode server's certificate
  std::string client_cert;  // PEM: the peer's client certificate, with client auth
  std::string client_key;   // PEM
};

Result<std::string> BuildCcaasPackage(const PackageOptions& options);  // tar.gz bytes

// Minimal archive helpers (ustar + gzip), exposed for tests.
struct TarEntry {
  std::string name;
  std::string data;
};
std::string Tar(const std::vector<TarEntry>& entries);
Result<std::string> Gzip(std::string_view data);
Result<std::string> Gunzip(std::string_view data);
Result<std::vector<TarEntry>> Untar(std::string_view tar);

}  // namespace medledger::chaincode
