// The server-to-server listener of a consortium member (serve --consortium, docs/CONSORTIUM.md): mutual TLS only,
// the caller is the member whose CA issued its verified client certificate. Routes: POST /peer/v1/keys/release,
// POST /peer/v1/replicas, GET /ipfs/{cid}?format=car (the trustless-gateway CAR). Nothing of the main API is
// reachable here, and nothing here is reachable on the main listener.
#pragma once

#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"

namespace medledger::service {
class ConsortiumService;
}

namespace medledger::http {

class PeerApi {
 public:
  explicit PeerApi(service::ConsortiumService& consortium);
  Response Handle(Request& req);

 private:
  service::ConsortiumService& consortium_;
  Router router_;
};

}  // namespace medledger::http
