#include "app/consortium_setup.h"

#include <iostream>

#include "io/env.h"

namespace medledger::app {

Result<std::unique_ptr<ConsortiumRuntime>> StartConsortium(const std::string& config_path,
                                                           const std::string& own_msp_id,
                                                           const std::filesystem::path& data_dir,
                                                           service::ConsortiumParts parts) {
  auto rt = std::make_unique<ConsortiumRuntime>();
  ML_ASSIGN_OR_RETURN(rt->config, consortium::LoadConsortiumConfig(config_path, own_msp_id));
  parts.config = &rt->config;
  rt->service = std::make_unique<service::ConsortiumService>(std::move(parts));
  rt->api = std::make_unique<http::PeerApi>(*rt->service);

  const auto client_cas = data_dir / "consortium-client-cas.pem";
  ML_RETURN_IF_ERROR(io::WriteFileAtomic(*io::Env::Default(), client_cas, rt->config.ClientCaBundlePem()));
  const auto colon = rt->config.listen.rfind(':');
  http::ServerOptions so;
  so.address = rt->config.listen.substr(0, colon);
  so.port = static_cast<uint16_t>(std::stoi(rt->config.listen.substr(colon + 1)));  // validated by the parser
  so.tls_cert_file = rt->config.tls_cert_file;
  so.tls_key_file = rt->config.tls_key_file;
  so.tls_client_ca_file = client_cas.string();
  so.max_connections = 64;
  so.max_connections_per_address = 32;
  so.max_body_bytes = 64 * 1024;  // key and replica requests are a few hundred bytes
  so.public_body_bytes = 64 * 1024;
  so.max_body_bytes_in_flight = 4 * 1024 * 1024;
  so.worker_threads = 8;
  http::PeerApi* api = rt->api.get();
  ML_ASSIGN_OR_RETURN(rt->server, http::Server::Start(so, [api](http::Request& req) { return api->Handle(req); }));
  std::cout << "medledger consortium listener on https://" << so.address << ":" << rt->server->port() << " ("
            << rt->config.members.size() << " members)" << std::endl;
  return rt;
}

}  // namespace medledger::app
