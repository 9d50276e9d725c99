#include "ipfs_node.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "content/cid.h"
#include "content/kubo_store.h"
#include "crypto/random.h"
#include "net/http_client.h"
#include "source_dir.h"

extern char** environ;

namespace medledger::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using content::Cid;
using content::kCodecRaw;
using content::KuboOptions;
using content::KuboStore;

// Runs `argv` with IPFS_PATH set, output to `log`; returns the pid.
pid_t Spawn(const std::vector<std::string>& argv, const fs::path& ipfs_path, const fs::path& log) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).rfind("IPFS_PATH=", 0) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back("IPFS_PATH=" + ipfs_path.string());
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

bool WaitExit(pid_t pid, std::chrono::milliseconds limit, int* status) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

std::unique_ptr<IpfsNode> IpfsNode::Start(std::string* why) {
  fs::path jsipfs = fs::path(MEDLEDGER_SOURCE_DIR) / "tests/peers/node_modules/.bin/jsipfs";
  if (!fs::exists(jsipfs)) {
    *why = "skip";
    return nullptr;
  }
  auto node = std::unique_ptr<IpfsNode>(new IpfsNode);
  node->dir_ = fs::temp_directory_path() / ("ml-ipfs-" + crypto::RandomHex(6));
  fs::create_directories(node->dir_);
  fs::path repo = node->dir_ / "repo";
  fs::path log = node->dir_ / "node.log";
  int status = 0;
  pid_t init = Spawn({jsipfs.string(), "init", "-p", "server,test"}, repo, log);
  if (init < 0 || !WaitExit(init, 90s, &status) || status != 0) {
    *why = "jsipfs init failed; see " + log.string();
    return nullptr;
  }
  // Pin every address to 127.0.0.1 and known free ports; no bootstrap peers: the node stays offline.
  nlohmann::json config;
  std::ifstream(repo / "config") >> config;
  node->api_port_ = FreePort();
  config["Addresses"]["API"] = "/ip4/127.0.0.1/tcp/" + std::to_string(node->api_port_);
  config["Addresses"]["Gateway"] = "/ip4/127.0.0.1/tcp/" + std::to_string(FreePort());
  node->swarm_port_ = FreePort();
  config["Addresses"]["Swarm"] = nlohmann::json::array({"/ip4/127.0.0.1/tcp/" + std::to_string(node->swarm_port_)});
  node->peer_id_ = config["Identity"].value("PeerID", "");
  config["Addresses"]["RPC"] = "/ip4/127.0.0.1/tcp/" + std::to_string(FreePort());  // gRPC; default 5003 is shared
  config["Addresses"]["Delegates"] = nlohmann::json::array();
  config["Bootstrap"] = nlohmann::json::array();
  std::ofstream(repo / "config") << config.dump(2);
  node->pid_ = Spawn({jsipfs.string(), "daemon", "--enable-preload=false"}, repo, log);
  if (node->pid_ < 0) {
    *why = "cannot start jsipfs daemon";
    return nullptr;
  }
  // Ready when the RPC API answers.
  KuboOptions probe;
  probe.url = node->url();
  probe.max_attempts = 1;
  probe.request_timeout = 2000ms;
  auto store = KuboStore::Create(probe).value();
  auto deadline = std::chrono::steady_clock::now() + 90s;
  auto log_text = [&log] {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = store->Has(Cid::Of(1, kCodecRaw, "probe").ToString());
    if (r.ok()) return node;
    if (::waitpid(node->pid_, &status, WNOHANG) == node->pid_) {
      node->pid_ = -1;
      break;
    }
    // js-ipfs prints a startup failure and then lingers: do not wait the full minute and a half for it.
    std::string text = log_text();
    if (text.find("Daemon is ready") == std::string::npos &&
        (text.find("no valid addresses") != std::string::npos || text.find("Error:") != std::string::npos)) {
      break;
    }
    std::this_thread::sleep_for(250ms);
  }
  *why = "jsipfs daemon did not come up: " + log_text().substr(0, 2000);
  return nullptr;
}

IpfsNode::~IpfsNode() {
  Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void IpfsNode::Stop() {
  if (pid_ <= 0) return;
  int status = 0;
  ::kill(pid_, SIGTERM);
  if (!WaitExit(pid_, 15s, &status)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

std::string IpfsNode::swarm_address() const {
  return "/ip4/127.0.0.1/tcp/" + std::to_string(swarm_port_) + "/p2p/" + peer_id_;
}

bool IpfsNode::ConnectTo(const IpfsNode& other) const {
  net::HttpCall call;
  call.url = url() + "/api/v0/swarm/connect?arg=" + other.swarm_address();
  call.content_type = "application/octet-stream";  // the RPC API takes POST only
  call.timeout_ms = 20000;
  auto reply = net::HttpFetch(call);
  return reply.ok() && reply->status == 200;
}

}  // namespace medledger::testing
