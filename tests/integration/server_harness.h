// Starts the real `medledger serve` binary on 127.0.0.1 (any free port) with a fresh --demo data dir and
// talks HTTP to it through libcurl.
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace medledger::testing {

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string Header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? "" : it->second;
  }
};

// The body as JSON (null when it is not JSON), and a problem+json body's `code` ("" when absent).
nlohmann::json ParseBody(const HttpResult& r);
std::string ProblemCode(const HttpResult& r);

// Any URL on 127.0.0.1 (a peer the test started), 60 s timeout; status 0 when the connection failed.
// `source_address` (e.g. "127.0.0.2": all of 127/8 is loopback) makes the request come from that address.
HttpResult FetchUrl(const std::string& method, const std::string& url, const std::string& body = "",
                    const std::vector<std::string>& headers = {}, const std::string& source_address = "");
// RFC 3986 percent-encoding of everything but unreserved characters (for query parameters).
std::string UrlEncode(const std::string& s);

// Runs the `medledger` binary (MEDLEDGER_BIN_DIR) with `args` (a shell fragment: tests pass only their own
// paths and ids), stdin from /dev/null; returns the exit code and stdout+stderr.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunMedledger(const std::string& args);
// Runs a shell command line (stdin from /dev/null); its exit code and stdout+stderr.
CommandResult RunCommand(const std::string& command_line);

class ServerProcess {
 public:
  // extra_args are appended to `serve --data DIR --listen 127.0.0.1:0 --demo --insecure-fast-passwords`.
  explicit ServerProcess(std::vector<std::string> extra_args = {});
  // `serve --data EXISTING --listen 127.0.0.1:0 EXTRA...`: an organisation the test made (no demo users);
  // give Login the passwords with SetPassword.
  ServerProcess(const std::string& existing_data_dir, std::vector<std::string> extra_args);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The --metrics-listen port, when the server was started with one (0 otherwise).
  int metrics_port() const { return metrics_port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string Password(const std::string& username) const;
  void SetPassword(const std::string& username, const std::string& password) { passwords_[username] = password; }
  // Sends SIGTERM and waits; returns the exit status.
  int Stop();

  HttpResult Request(const std::string& method, const std::string& path, const std::string& body = "",
                     const std::vector<std::string>& headers = {}) const;
  HttpResult Get(const std::string& path, const std::string& token = "") const;
  HttpResult PostJson(const std::string& path, const std::string& json, const std::string& token = "",
                      const std::vector<std::string>& headers = {}) const;
  // Logs in and returns the access token ("" on failure).
  std::string Login(const std::string& username) const;

 private:
  bool Start(const std::string& data, const std::vector<std::string>& extra_args);

  std::string data_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  std::map<std::string, std::string> passwords_;
};

}  // namespace medledger::testing
