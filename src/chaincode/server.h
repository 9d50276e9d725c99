// medledger-chaincode's gRPC server: serves Fabric's `Chaincode.Connect`, the stream a peer opens to a
// chaincode deployed as a service, and runs one shim Handler per stream.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "contract/stub.h"

namespace medledger::chaincode {

struct ServerOptions {
  std::string address = "127.0.0.1:9999";  // CHAINCODE_SERVER_ADDRESS
  std::string chaincode_id;                // CHAINCODE_ID: the package ID from `peer lifecycle chaincode install`
  // TLS (all PEM contents, not paths). With a client CA the peer must present a certificate it signed.
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  size_t workers_per_stream = 4;
};

class ChaincodeServer {
 public:
  static Result<std::unique_ptr<ChaincodeServer>> Start(const ServerOptions& options, contract::Contract& contract);
  virtual ~ChaincodeServer() = default;
  virtual int port() const = 0;  // the bound port (useful with ":0")
  virtual void Wait() = 0;
  virtual void Shutdown() = 0;
};

}  // namespace medledger::chaincode
