#include "http/static_files.h"

#include <fstream>
#include <sstream>

#include "http/router.h"

namespace medledger::http {

StaticFiles::StaticFiles(std::filesystem::path root) {
  std::error_code ec;
  root_ = std::filesystem::weakly_canonical(root, ec);
  if (ec) root_ = std::move(root);
}

const char* ContentTypeForExtension(const std::string& ext) {
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".woff") return "font/woff";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

std::optional<Response> StaticFiles::FileResponse(const std::filesystem::path& file, bool immutable) const {
  std::error_code ec;
  auto canonical = std::filesystem::canonical(file, ec);
  if (ec || !std::filesystem::is_regular_file(canonical, ec)) return std::nullopt;
  // A symlink inside the web root must not lead outside it.
  auto rel = canonical.lexically_relative(root_);
  if (rel.empty() || *rel.begin() == "..") return std::nullopt;
  std::ifstream in(canonical, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  Response r;
  r.body = ss.str();
  r.SetHeader("Content-Type", ContentTypeForExtension(canonical.extension().string()));
  r.SetHeader("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

std::optional<Response> StaticFiles::Serve(const std::string& raw_path) const {
  auto segs = SplitPath(raw_path);
  if (!segs.ok()) return std::nullopt;
  std::filesystem::path rel;
  bool has_ext = false;
  for (const auto& s : *segs) {
    if (s.empty()) continue;
    if (s == ".." || s.front() == '.' || s.find('\\') != std::string::npos || s.find('\0') != std::string::npos) {
      return std::nullopt;
    }
    rel /= s;
    has_ext = s.find('.') != std::string::npos;
  }
  if (!rel.empty()) {
    bool immutable = segs->size() > 1 && (*segs)[0] == "assets";
    if (auto r = FileResponse(root_ / rel, immutable)) return r;
    if (has_ext) return std::nullopt;  // a missing asset is a 404, not the app shell
  }
  return FileResponse(root_ / "index.html", false);
}

}  // namespace medledger::http
