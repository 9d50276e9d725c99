// `medledger-chaincode`: the records contract as a Fabric chaincode-as-a-service. A peer configured with the
// project's external builder (fabric/builders/ccaas) dials this server's Chaincode.Connect stream.
// Every option can come from the environment, as Fabric's own ccaas images expect.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "chaincode/server.h"
#include "contract/records_contract.h"

namespace {

std::string ReadFile(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "medledger-chaincode: cannot read " << path << "\n";
    std::exit(2);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"medledger-chaincode: the records contract as a Fabric chaincode-as-a-service"};
  medledger::chaincode::ServerOptions options;
  std::string tls_cert_file, tls_key_file, client_ca_file;
  app.add_option("--address", options.address, "Listen address host:port")
      ->envname("CHAINCODE_SERVER_ADDRESS")
      ->capture_default_str();
  app.add_option("--chaincode-id", options.chaincode_id, "Package ID from `peer lifecycle chaincode install`")
      ->envname("CHAINCODE_ID")
      ->required();
  app.add_option("--tls-cert", tls_cert_file, "PEM certificate for TLS")->envname("CHAINCODE_TLS_CERT");
  app.add_option("--tls-key", tls_key_file, "PEM private key for TLS")->envname("CHAINCODE_TLS_KEY");
  app.add_option("--client-ca", client_ca_file, "PEM CA that must have signed the peer's client certificate")
      ->envname("CHAINCODE_CLIENT_CA_CERT");
  app.add_option("--workers", options.workers_per_stream, "Transactions executed concurrently per peer stream")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  options.tls_cert = ReadFile(tls_cert_file);
  options.tls_key = ReadFile(tls_key_file);
  options.client_ca = ReadFile(client_ca_file);

  // Shut down cleanly on SIGINT/SIGTERM: a waiting thread owns the signals, not a handler with global
  // state. They are blocked before any thread exists so every thread (gRPC's too) inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto contract = medledger::contract::NewRecordsContract();
  auto server = medledger::chaincode::ChaincodeServer::Start(options, *contract);
  if (!server.ok()) {
    std::cerr << "medledger-chaincode: " << server.error().message << " [" << server.error().code << "]\n";
    return 1;
  }
  std::cerr << R"({"level":"info","msg":"chaincode server listening","port":)" << (*server)->port()
            << R"(,"chaincodeId":")" << options.chaincode_id << R"(","tls":)"
            << (options.tls_cert.empty() ? "false" : "true") << "}\n";

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    (*server)->Shutdown();
  });
  (*server)->Wait();
  waiter.join();
  return 0;
}
