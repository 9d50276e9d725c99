// `medledger fabric package`: writes the chaincode-as-a-service package a Fabric peer installs.
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "chaincode/package.h"

namespace medledger::app {
namespace {

struct PackageArgs {
  chaincode::PackageOptions options;
  std::string root_cert_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::string out;
};

std::string ReadFileOrFail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "medledger: cannot read " << path << "\n";
    throw CLI::RuntimeError(2);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void RunPackage(PackageArgs& a) {
  if (!a.root_cert_file.empty()) a.options.root_cert = ReadFileOrFail(a.root_cert_file);
  if (!a.client_cert_file.empty()) a.options.client_cert = ReadFileOrFail(a.client_cert_file);
  if (!a.client_key_file.empty()) a.options.client_key = ReadFileOrFail(a.client_key_file);
  a.options.tls_required = !a.options.root_cert.empty();
  a.options.client_auth_required = !a.options.client_cert.empty();
  auto pkg = chaincode::BuildCcaasPackage(a.options);
  if (!pkg.ok()) {
    std::cerr << "medledger: " << pkg.error().message << " [" << pkg.error().code << "]\n";
    throw CLI::RuntimeError(2);
  }
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  out << *pkg;
  out.close();
  if (!out) {
    std::cerr << "medledger: cannot write " << a.out << "\n";
    throw CLI::RuntimeError(1);
  }
  std::cout << "Wrote " << a.out << " (" << pkg->size() << " bytes, label " << a.options.label
            << "). Install it with: peer lifecycle chaincode install " << a.out << "\n";
}

}  // namespace

void AddFabricCommands(CLI::App& app) {
  auto* fabric = app.add_subcommand("fabric", "Hyperledger Fabric deployment helpers");
  fabric->require_subcommand(1);
  auto args = std::make_shared<PackageArgs>();
  auto* pkg = fabric->add_subcommand("package", "Write the chaincode-as-a-service package (metadata.json + code.tar.gz)");
  pkg->add_option("--label", args->options.label, "Chaincode label")->capture_default_str();
  pkg->add_option("--address", args->options.address, "host:port where the peer dials medledger-chaincode")
      ->required();
  pkg->add_option("--tls-root-cert", args->root_cert_file, "PEM file: CA of the chaincode server's TLS certificate");
  pkg->add_option("--client-cert", args->client_cert_file, "PEM file: the peer's TLS client certificate");
  pkg->add_option("--client-key", args->client_key_file, "PEM file: the peer's TLS client key");
  pkg->add_option("--out", args->out, "Output file")->required();
  pkg->callback([args] { RunPackage(*args); });
}

}  // namespace medledger::app
