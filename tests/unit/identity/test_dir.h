// A unique temporary directory removed at the end of the test.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "crypto/random.h"

namespace medledger::identity::testing {

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("medledger-identity-" + std::to_string(::getpid()) + "-" + crypto::RandomHex(6))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace medledger::identity::testing
