// `medledger fabric package`: writes the chaincode-as-a-service package a Fabric peer installs.
// `medledger fabric msp`: exports an identity of the organisation as a Fabric MSP folder, so a real peer,
// orderer or `peer` CLI can use the same CA and keys as medledger.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "app/commands.h"
#include "chaincode/package.h"
#include "identity/organization.h"
#include "io/env.h"

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

struct MspArgs {
  std::string data_dir;
  std::string identity;
  std::string out;
  bool ou_config = false;
};

void FailWith(const Error& e) {
  std::cerr << "medledger: " << e.message << " [" << e.code << "]\n";
  throw CLI::RuntimeError(1);
}

// Writes `contents` to `path` with exactly `mode` from its creation (a temporary created with the mode, fchmod
// against the umask, fsync, rename): a private key is never readable by others, not even while empty (a reader
// who opened it then could read the key later through that descriptor, as with the old create-then-chmod).
void WriteWithMode(const std::filesystem::path& path, const std::string& contents, mode_t mode) {
  Status written = io::WriteFileAtomic(*io::Env::Default(), path, contents, {.mode = mode});
  if (!written.ok()) {
    std::cerr << "medledger: cannot write " << path << ": " << written.error().message << "\n";
    throw CLI::RuntimeError(1);
  }
}

// Fabric's NodeOUs: every identity carries exactly one of these OUs; the organisation's CA issues them all,
// so each classification points at the same CA certificate.
constexpr char kOuConfig[] =
    "NodeOUs:\n"
    "  Enable: true\n"
    "  ClientOUIdentifier:\n"
    "    Certificate: cacerts/ca.pem\n"
    "    OrganizationalUnitIdentifier: client\n"
    "  PeerOUIdentifier:\n"
    "    Certificate: cacerts/ca.pem\n"
    "    OrganizationalUnitIdentifier: peer\n"
    "  AdminOUIdentifier:\n"
    "    Certificate: cacerts/ca.pem\n"
    "    OrganizationalUnitIdentifier: admin\n"
    "  OrdererOUIdentifier:\n"
    "    Certificate: cacerts/ca.pem\n"
    "    OrganizationalUnitIdentifier: orderer\n";

void RunMsp(const MspArgs& a) {
  namespace fs = std::filesystem;
  auto org = identity::Organization::Open(a.data_dir);
  if (!org.ok()) FailWith(org.error());
  // The node identities live under reserved wallet names; "peer" and "orderer" are not valid usernames,
  // so accepting them here cannot shadow a user.
  std::optional<identity::SigningIdentity> id;
  if (a.identity == "peer") {
    id = (*org)->peer();
  } else if (a.identity == "orderer") {
    id = (*org)->orderer();
  } else {
    auto loaded = (*org)->LoadIdentity(a.identity);
    if (!loaded.ok()) FailWith(loaded.error());
    id = std::move(*loaded);
  }
  const fs::path out(a.out);
  std::error_code ec;
  for (const char* sub : {"cacerts", "signcerts", "keystore"}) {
    fs::create_directories(out / sub, ec);
    if (ec) {
      std::cerr << "medledger: cannot create " << (out / sub) << ": " << ec.message() << "\n";
      throw CLI::RuntimeError(1);
    }
  }
  ::chmod((out / "keystore").c_str(), 0700);
  WriteWithMode(out / "cacerts" / "ca.pem", (*org)->ca_certificate().ToPem(), 0644);
  WriteWithMode(out / "signcerts" / "cert.pem", id->cert_pem(), 0644);
  WriteWithMode(out / "keystore" / "key.pem", id->private_key().ToPem(), 0600);
  if (a.ou_config) WriteWithMode(out / "config.yaml", kOuConfig, 0644);
  std::cout << "Wrote MSP folder " << out.string() << " for '" << a.identity << "' of " << (*org)->msp_id() << "\n";
}

}  // namespace

void AddFabricCommands(CLI::App& app) {
  auto* fabric = app.add_subcommand("fabric", "Hyperledger Fabric deployment helpers");
  fabric->require_subcommand(1);
  auto args = std::make_shared<PackageArgs>();
  auto* pkg =
      fabric->add_subcommand("package", "Write the chaincode-as-a-service package (metadata.json + code.tar.gz)");
  pkg->add_option("--label", args->options.label, "Chaincode label")->capture_default_str();
  pkg->add_option("--address", args->options.address, "host:port where the peer dials medledger-chaincode")->required();
  pkg->add_option("--tls-root-cert", args->root_cert_file, "PEM file: CA of the chaincode server's TLS certificate");
  pkg->add_option("--client-cert", args->client_cert_file, "PEM file: the peer's TLS client certificate");
  pkg->add_option("--client-key", args->client_key_file, "PEM file: the peer's TLS client key");
  pkg->add_option("--out", args->out, "Output file")->required();
  pkg->callback([args] { RunPackage(*args); });

  auto msp_args = std::make_shared<MspArgs>();
  auto* msp = fabric->add_subcommand("msp", "Export an identity as a Fabric MSP folder (cacerts, signcerts, keystore)");
  msp->add_option("--data", msp_args->data_dir, "Data directory")->required();
  msp->add_option("--identity", msp_args->identity, "A username, or peer / orderer for the node identities")
      ->required();
  msp->add_option("--out", msp_args->out, "Output directory")->required();
  msp->add_flag("--ou-config", msp_args->ou_config, "Also write config.yaml enabling NodeOUs");
  msp->callback([msp_args] { RunMsp(*msp_args); });
}

}  // namespace medledger::app
