// The test TSA (tests/peers/tsa_server.mjs: `openssl ts -reply` behind HTTP, with fresh keys) as a child
// process. Its stdin is a pipe it watches, so it exits with the test even if the test crashes.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "source_dir.h"

extern char** environ;

namespace medledger::testing {

inline std::string FindExecutable(const std::vector<const char*>& candidates) {
  for (const char* p : candidates) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// Why the test TSA cannot run here ("" when it can).
inline std::string TsaServerUnavailableReason() {
  if (FindExecutable({"/usr/bin/node", "/usr/local/bin/node"}).empty()) return "Node.js is not installed";
  if (FindExecutable({"/usr/bin/openssl", "/usr/local/bin/openssl"}).empty()) return "the openssl CLI is not installed";
  return "";
}

class TsaServerProcess {
 public:
  explicit TsaServerProcess(std::vector<std::string> extra_args = {}) {
    const std::string node = FindExecutable({"/usr/bin/node", "/usr/local/bin/node"});
    int in[2], out[2];
    if (node.empty() || ::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    std::vector<std::string> args = {node, std::string(MEDLEDGER_SOURCE_DIR) + "/tests/peers/tsa_server.mjs",
                                     "--max-seconds", "600"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (posix_spawn(&pid_, node.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = ::fdopen(out[0], "r");
    char line[4096];
    if (pid_ > 0 && stdout_ != nullptr && std::fgets(line, sizeof line, stdout_) != nullptr) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object()) {
        url_ = j.value("url", "");
        std::ifstream f(j.value("rootPem", ""));
        std::stringstream ss;
        ss << f.rdbuf();
        root_pem_ = ss.str();
        root_pem_path_ = j.value("rootPem", "");
        std::ifstream twin(j.value("twinPem", ""));
        std::stringstream ts;
        ts << twin.rdbuf();
        twin_pem_ = ts.str();
      }
    }
  }
  ~TsaServerProcess() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      int status = 0;
      // Closing stdin makes it clean up its key directory and exit; SIGTERM does the same if it is stuck.
      for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(20000);
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, &status, 0);
      }
    }
    if (stdout_ != nullptr) std::fclose(stdout_);
  }
  TsaServerProcess(const TsaServerProcess&) = delete;
  TsaServerProcess& operator=(const TsaServerProcess&) = delete;

  bool ready() const { return !url_.empty() && !root_pem_.empty(); }
  const std::string& url() const { return url_; }
  const std::string& root_pem() const { return root_pem_; }
  const std::string& root_pem_path() const { return root_pem_path_; }
  // With --twin yes: another certificate for the TSA key, same issuer and serial number.
  const std::string& twin_pem() const { return twin_pem_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  FILE* stdout_ = nullptr;
  std::string url_, root_pem_, root_pem_path_, twin_pem_;
};

}  // namespace medledger::testing
