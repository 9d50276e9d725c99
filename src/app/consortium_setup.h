// What `serve --consortium FILE` adds (docs/CONSORTIUM.md): the member list, the server-to-server service, and its
// mutual-TLS listener, which accepts only client certificates from the members' TLS CAs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "consortium/consortium_config.h"
#include "http/peer_api.h"
#include "http/server.h"
#include "service/consortium_service.h"

namespace medledger::app {

struct ConsortiumRuntime {
  consortium::ConsortiumConfig config;
  std::unique_ptr<service::ConsortiumService> service;
  std::unique_ptr<http::PeerApi> api;
  std::unique_ptr<http::Server> server;  // stopped before the service and config go

  ~ConsortiumRuntime() {
    if (server) server->Stop();
  }
};

// Loads `config_path` for this organisation (`own_msp_id`), builds the service over `parts` and starts the
// listener. The client-CA bundle the listener verifies against is written to DATA/consortium-client-cas.pem.
Result<std::unique_ptr<ConsortiumRuntime>> StartConsortium(const std::string& config_path,
                                                           const std::string& own_msp_id,
                                                           const std::filesystem::path& data_dir,
                                                           service::ConsortiumParts parts);

}  // namespace medledger::app
