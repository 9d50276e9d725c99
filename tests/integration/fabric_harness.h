// Shared by the opt-in tests on a real Fabric 2.5 network (FABRIC_BIN=/path/to/fabric/bin; without it they
// report SKIPPED): a network brought up by one of the scripts of tests/fabric (network.sh: one organisation;
// consortium.sh: N hospitals) in a fresh temporary directory, and stopped again.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "server_harness.h"

namespace medledger::testing {

// The value of an environment variable, "" when unset.
std::string EnvOr(const char* name);

// An RFC 3339 UTC time `from_now` ahead of the clock (consent expiries).
std::string UtcIn(std::chrono::seconds from_now);

class ScriptedFabricNetwork {
 public:
  // Runs `tests/fabric/<script> up DIR` with `env` ("NAME=value ..." put before the command; FABRIC_BIN and
  // MEDLEDGER_BIN_DIR come from the environment) bounded by `timeout_s` seconds. The script stops what it
  // started when it fails.
  ScriptedFabricNetwork(std::string script, const std::string& env, int timeout_s);
  // `down`; the files are removed unless a test failed or MEDLEDGER_KEEP_FABRIC is set (then their path is
  // printed).
  ~ScriptedFabricNetwork();
  ScriptedFabricNetwork(const ScriptedFabricNetwork&) = delete;
  ScriptedFabricNetwork& operator=(const ScriptedFabricNetwork&) = delete;

  bool up() const { return up_rc_ == 0; }
  // The network's directory (the script's WORKDIR) and where to look when `up` failed.
  const std::filesystem::path& dir() const { return net_; }
  std::string Describe() const;

  // `<script> <command> DIR <args>`, e.g. Run("stop-orderer", "1").
  CommandResult Run(const std::string& command, const std::string& args = "") const;
  // NAME=value lines of DIR/network.env.
  std::map<std::string, std::string> Env() const;

 private:
  std::string script_;
  std::filesystem::path work_;  // the temporary directory holding net_
  std::filesystem::path net_;
  int up_rc_ = -1;
};

}  // namespace medledger::testing
