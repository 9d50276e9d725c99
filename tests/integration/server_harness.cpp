#include "server_harness.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

extern char** environ;

namespace medledger::testing {
namespace {

std::string BinaryPath() {
  const char* dir = std::getenv("MEDLEDGER_BIN_DIR");
  std::string base = dir ? dir : ".";
  return base + "/src/app/medledger";
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> extra_args) {
  char tmpl[] = "/tmp/medledger-server-test-XXXXXX";
  data_dir_ = mkdtemp(tmpl);
  const std::string data = data_dir_ + "/data";
  std::vector<std::string> args = {"--demo", "--insecure-fast-passwords"};
  for (auto& a : extra_args) args.push_back(a);
  if (!Start(data, args)) return;
  std::ifstream creds(data + "/demo-credentials.txt");
  std::string user, role, pw;
  std::string line;
  while (std::getline(creds, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    ss >> user >> role >> pw;
    passwords_[user] = pw;
  }
}

ServerProcess::ServerProcess(const std::string& existing_data_dir, std::vector<std::string> extra_args) {
  char tmpl[] = "/tmp/medledger-server-test-XXXXXX";
  data_dir_ = mkdtemp(tmpl);  // only the server's stdout goes here
  Start(existing_data_dir, extra_args);
}

bool ServerProcess::Start(const std::string& data, const std::vector<std::string>& extra_args) {
  std::string out_file = data_dir_ + "/stdout.txt";
  std::vector<std::string> args = {BinaryPath(), "serve",       "--data",      data,
                                   "--listen",   "127.0.0.1:0", "--log-level", "warn"};
  for (const auto& a : extra_args) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  if (pid_ < 0) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline && port_ == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(out_file);
    std::string line;
    while (std::getline(in, line)) {
      auto pos = line.find("medledger serving on http://127.0.0.1:");
      if (pos != std::string::npos) port_ = std::atoi(line.c_str() + pos + 38);
      auto metrics = line.find("medledger metrics on http://127.0.0.1:");
      if (metrics != std::string::npos) metrics_port_ = std::atoi(line.c_str() + metrics + 38);
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
  }
  return port_ != 0;
}

ServerProcess::~ServerProcess() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::string ServerProcess::Password(const std::string& username) const {
  auto it = passwords_.find(username);
  return it == passwords_.end() ? "" : it->second;
}

HttpResult ServerProcess::Request(const std::string& method, const std::string& path, const std::string& body,
                                  const std::vector<std::string>& headers) const {
  return FetchUrl(method, base_url() + path, body, headers);
}

HttpResult FetchUrl(const std::string& method, const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers, const std::string& source_address) {
  HttpResult r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  const std::string interface = "host!" + source_address;
  if (!source_address.empty()) curl_easy_setopt(curl, CURLOPT_INTERFACE, interface.c_str());
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  struct curl_slist* list = nullptr;
  list = curl_slist_append(list, "Expect:");
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

HttpResult ServerProcess::Get(const std::string& path, const std::string& token) const {
  std::vector<std::string> h;
  if (!token.empty()) h.push_back("Authorization: Bearer " + token);
  return Request("GET", path, "", h);
}

HttpResult ServerProcess::PostJson(const std::string& path, const std::string& json, const std::string& token,
                                   const std::vector<std::string>& headers) const {
  std::vector<std::string> h = headers;
  h.push_back("Content-Type: application/json");
  if (!token.empty()) h.push_back("Authorization: Bearer " + token);
  return Request("POST", path, json, h);
}

std::string ServerProcess::Login(const std::string& username) const {
  nlohmann::json body = {{"username", username}, {"password", Password(username)}};
  auto r = PostJson("/api/v1/auth/login", body.dump());
  if (r.status != 200) return "";
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("accessToken", "") : "";
}

nlohmann::json ParseBody(const HttpResult& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string ProblemCode(const HttpResult& r) {
  auto j = ParseBody(r);
  return j.is_object() ? j.value("code", "") : "";
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

CommandResult RunMedledger(const std::string& args) {
  return RunCommand("'" + BinaryPath() + "' " + args);
}

CommandResult RunCommand(const std::string& command_line) {
  CommandResult r;
  std::string cmd = command_line + " 2>&1 </dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace medledger::testing
