// A temporary directory removed at the end of a test.
#pragma once

#include <filesystem>
#include <string>

#include "common/encoding.h"
#include "crypto/random.h"

namespace medledger::content::testing {

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() / ("medledger-content-" + HexEncode(crypto::RandomBytes(8)))) {
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

}  // namespace medledger::content::testing
