#include "fabric_harness.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>

#include "source_dir.h"

namespace medledger::testing {

namespace fs = std::filesystem;

std::string EnvOr(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string UtcIn(std::chrono::seconds from_now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

ScriptedFabricNetwork::ScriptedFabricNetwork(std::string script, const std::string& env, int timeout_s)
    : script_(std::string(MEDLEDGER_SOURCE_DIR) + "/tests/fabric/" + std::move(script)) {
  char tmpl[] = "/tmp/medledger-fabric-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return;
  work_ = tmpl;
  net_ = work_ / "net";
  // `timeout` bounds the whole bring-up.
  const std::string cmd = env + " MEDLEDGER_BIN_DIR='" + EnvOr("MEDLEDGER_BIN_DIR") + "' timeout " +
                          std::to_string(timeout_s) + " '" + script_ + "' up '" + net_.string() + "'";
  up_rc_ = std::system(cmd.c_str());
}

ScriptedFabricNetwork::~ScriptedFabricNetwork() {
  if (work_.empty()) return;
  (void)Run("down");
  if (EnvOr("MEDLEDGER_KEEP_FABRIC").empty() && !::testing::UnitTest::GetInstance()->Failed()) {
    std::error_code ec;
    fs::remove_all(work_, ec);
  } else {
    std::cerr << "fabric network files kept in " << net_.string() << "\n";
  }
}

std::string ScriptedFabricNetwork::Describe() const {
  return script_ + " up " + net_.string() + " exited with " + std::to_string(up_rc_) + "; logs in " +
         (net_ / "logs").string();
}

CommandResult ScriptedFabricNetwork::Run(const std::string& command, const std::string& args) const {
  return RunCommand("timeout 60 '" + script_ + "' " + command + " '" + net_.string() + "' " + args);
}

std::map<std::string, std::string> ScriptedFabricNetwork::Env() const {
  std::map<std::string, std::string> out;
  std::ifstream in(net_ / "network.env");
  std::string line;
  while (std::getline(in, line)) {
    if (auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

}  // namespace medledger::testing
