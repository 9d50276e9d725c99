// A real IPFS node for integration tests: js-ipfs 0.66.1 from tests/peers, every address on 127.0.0.1 and free
// ports, no bootstrap peers (offline until a test connects two nodes' swarms).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

namespace medledger::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

class IpfsNode {
 public:
  // Null with *why == "skip" when tests/peers' packages are missing, or the reason it did not come up.
  static std::unique_ptr<IpfsNode> Start(std::string* why);
  ~IpfsNode();
  IpfsNode(const IpfsNode&) = delete;
  IpfsNode& operator=(const IpfsNode&) = delete;

  // SIGTERM, then SIGKILL after 15 s. The repository stays until destruction.
  void Stop();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(api_port_); }
  // The swarm address with the node's peer ID, for `swarm/connect` ("/ip4/127.0.0.1/tcp/P/p2p/ID").
  std::string swarm_address() const;
  // Dials `other`'s swarm so that Bitswap can fetch blocks between the two; false when the node refused.
  bool ConnectTo(const IpfsNode& other) const;

 private:
  IpfsNode() = default;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int api_port_ = 0;
  int swarm_port_ = 0;
  std::string peer_id_;
};

}  // namespace medledger::testing
