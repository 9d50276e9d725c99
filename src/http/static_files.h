// Serves the built web app from a directory: safe path resolution (no "..", no dot-files, no symlink
// escapes), content types by extension, and the single-page-app fallback to index.html.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "http/message.h"

namespace medledger::http {

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);
  // nullopt when `raw_path` should not be answered from the web app (the caller answers 404).
  std::optional<Response> Serve(const std::string& raw_path) const;

 private:
  std::optional<Response> FileResponse(const std::filesystem::path& file, bool immutable) const;
  std::filesystem::path root_;
};

const char* ContentTypeForExtension(const std::string& ext);

}  // namespace medledger::http
