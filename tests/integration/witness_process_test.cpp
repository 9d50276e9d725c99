// The real `medledger witness` binary against a fake log on 127.0.0.1: it serves a checkpoint signed with a
// test log key, the consistency proofs of an in-memory tree, and records the cosignatures posted to it. The
// log can be made to lie (another root for the same size), which the witness must detect (exit 3, evidence).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "tlog/checkpoint.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace medledger::tlog {
namespace {

using nlohmann::json;

std::string MedledgerBinary() {
  const char* dir = std::getenv("MEDLEDGER_BIN_DIR");
  return std::string(dir != nullptr ? dir : ".") + "/src/app/medledger";
}

struct Ran {
  int exit_code = -1;
  std::string output;
};

Ran RunCommand(const std::string& cmd) {
  Ran r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class FakeLog {
 public:
  FakeLog() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeLog() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void SetCheckpoint(std::string note, const MemoryTree* tree) {
    std::lock_guard lock(mu_);
    checkpoint_ = std::move(note);
    tree_ = tree;
  }
  std::vector<json> Posts() {
    std::lock_guard lock(mu_);
    return posts_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      Handle(c);
      ::close(c);
    }
  }
  void Handle(int c) {
    std::string req;
    char buf[8192];
    size_t header_end = std::string::npos;
    size_t need = 0;
    while (true) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos && (header_end = req.find("\r\n\r\n")) != std::string::npos) {
        const size_t cl = req.find("Content-Length: ");
        need = cl != std::string::npos && cl < header_end ? std::stoul(req.substr(cl + 16)) : 0;
      }
      if (header_end != std::string::npos && req.size() >= header_end + 4 + need) break;
    }
    const std::string line = req.substr(0, req.find("\r\n"));
    const std::string body = req.substr(header_end + 4);
    int status = 200;
    std::string out;
    {
      std::lock_guard lock(mu_);
      if (line.rfind("GET /log/checkpoint ", 0) == 0) {
        out = checkpoint_;
      } else if (line.rfind("GET /api/v1/log/proof/consistency?", 0) == 0) {
        uint64_t from = 0, to = 0;
        std::sscanf(line.c_str(), "GET /api/v1/log/proof/consistency?from=%lu&to=%lu", &from, &to);
        json proof = json::array();
        auto hashes = ConsistencyProof(*tree_, from, to);
        if (hashes.ok()) {
          for (const auto& h : *hashes) proof.push_back(Base64Encode(h));
        }
        out = json{{"from", from}, {"to", to}, {"proof", proof}}.dump();
      } else if (line.rfind("POST /api/v1/log/cosignatures ", 0) == 0 &&
                 req.find("Content-Type: application/json") != std::string::npos) {
        posts_.push_back(json::parse(body));
        out = "{}";
      } else {
        status = 404;
      }
    }
    const std::string resp = "HTTP/1.1 " + std::to_string(status) +
                             " X\r\nContent-Length: " + std::to_string(out.size()) + "\r\nConnection: close\r\n\r\n" +
                             out;
    (void)::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string checkpoint_;
  const MemoryTree* tree_ = nullptr;
  std::vector<json> posts_;
};

constexpr const char* kOrigin = "medledger/TestMSP/reports";

TEST(WitnessProcess, CosignsConsistentCheckpointsAndDetectsAFork) {
  const auto dir = std::filesystem::temp_directory_path() / ("witness-it-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string bin = MedledgerBinary();

  Ran keygen = RunCommand(bin + " witness keygen --name witness.example/w1 --out " + (dir / "w.key").string());
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  auto witness_vkey = NoteVerifier::Parse(keygen.output.substr(0, keygen.output.find('\n')));
  ASSERT_TRUE(witness_vkey.ok()) << keygen.output;
  // The key file is owner-only and is never overwritten.
  EXPECT_EQ(std::filesystem::status(dir / "w.key").permissions() & std::filesystem::perms::group_all,
            std::filesystem::perms::none);
  EXPECT_NE(RunCommand(bin + " witness keygen --name x --out " + (dir / "w.key").string()).exit_code, 0);

  auto log_key = NoteSigner::Generate(kOrigin, SignatureType::kEd25519).value();
  MemoryTree tree;
  auto grow = [&](int n) {
    for (int i = 0; i < n; ++i) tree.AppendLeaf("leaf " + std::to_string(tree.Size()));
  };
  auto checkpoint = [&](uint64_t size, const std::string& root) {
    return SignNote(FormatCheckpoint({kOrigin, size, root, {}}), log_key).value();
  };
  FakeLog log;
  const std::string witness = bin + " witness --once --log " + log.url() + " --log-key '" +
                              log_key.Verifier().ToString() + "' --key " + (dir / "w.key").string() + " --state " +
                              (dir / "state").string();

  grow(5);
  log.SetCheckpoint(checkpoint(5, RootHash(tree, 5).value()), &tree);
  Ran first = RunCommand(witness);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  grow(60);
  const std::string note65 = checkpoint(65, RootHash(tree, 65).value());
  log.SetCheckpoint(note65, &tree);
  Ran second = RunCommand(witness);
  ASSERT_EQ(second.exit_code, 0) << second.output;

  auto posts = log.Posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[1]["checkpoint"], note65);
  const std::string body = FormatCheckpoint({kOrigin, 65, RootHash(tree, 65).value(), {}});
  auto time = VerifyCosignature(*witness_vkey, body, posts[1]["cosignature"].get<std::string>());
  ASSERT_TRUE(time.ok()) << time.error().ToString();
  // The checkpoint with the posted cosignature appended opens with both keys.
  EXPECT_TRUE(
      OpenNote(note65 + posts[1]["cosignature"].get<std::string>() + "\n", {log_key.Verifier(), *witness_vkey}).ok());

  // Two places holding the log's checkpoints compare them: the same tree is consistent; another tree of the
  // same size (what a split view shows a second witness) is a fork, exit 3.
  const std::string other65 = checkpoint(65, LeafHash("a different history"));
  {
    std::ofstream(dir / "a.note") << note65;
    std::ofstream(dir / "b.note") << other65;
  }
  const std::string compare = bin + " witness compare --log-key '" + log_key.Verifier().ToString() + "' ";
  Ran same = RunCommand(compare + (dir / "a.note").string() + " " + (dir / "state" / "checkpoint").string());
  EXPECT_EQ(same.exit_code, 0) << same.output;
  Ran split = RunCommand(compare + (dir / "a.note").string() + " " + (dir / "b.note").string());
  EXPECT_EQ(split.exit_code, 3) << split.output;
  EXPECT_NE(split.output.find("fork detected"), std::string::npos) << split.output;

  // The log shows another tree of the same size: a fork, also in the metrics file a monitor reads.
  log.SetCheckpoint(other65, &tree);
  Ran fork = RunCommand(witness + " --metrics-file " + (dir / "witness.prom").string());
  EXPECT_EQ(fork.exit_code, 3) << fork.output;
  EXPECT_NE(fork.output.find("fork detected"), std::string::npos) << fork.output;
  EXPECT_NE(fork.output.find(Base64Encode(RootHash(tree, 65).value())), std::string::npos) << fork.output;
  EXPECT_NE(fork.output.find(Base64Encode(LeafHash("a different history"))), std::string::npos) << fork.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "state" / "evidence"));
  EXPECT_EQ(log.Posts().size(), 2u);  // nothing cosigned
  {
    std::ifstream in(dir / "witness.prom");
    std::stringstream metrics;
    metrics << in.rdbuf();
    EXPECT_NE(metrics.str().find("medledger_witness_fork_detected 1"), std::string::npos) << metrics.str();
    EXPECT_NE(metrics.str().find("medledger_witness_cosigned_size 65"), std::string::npos) << metrics.str();
  }

  // A log that is not there: exit 1, state untouched.
  Ran down = RunCommand(bin + " witness --once --log http://127.0.0.1:1 --log-key '" + log_key.Verifier().ToString() +
                        "' --key " + (dir / "w.key").string() + " --state " + (dir / "state").string());
  EXPECT_EQ(down.exit_code, 1) << down.output;
  // Bad usage: exit 2.
  EXPECT_EQ(RunCommand(bin + " witness --once --log " + log.url()).exit_code, 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medledger::tlog
