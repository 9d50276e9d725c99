#include "content/kubo_store.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "content/cid.h"
#include "content/importer.h"
#include "net/http_client.h"

namespace medledger::content {
namespace {

using Json = nlohmann::json;

std::string Escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Kubo reports failures as HTTP 500 with {"Message": ..., "Code": ..., "Type": "error"}.
std::string NodeMessage(const std::string& body) {
  auto j = Json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("Message") && j["Message"].is_string()) return j["Message"].get<std::string>();
  return body.substr(0, 200);
}

bool MentionsNotFound(const std::string& m) {
  return m.find("not found") != std::string::npos || m.find("not pinned") != std::string::npos;
}

}  // namespace

struct KuboStore::Impl {
  KuboOptions o;

  std::string TimeoutParam() const { return std::to_string(o.request_timeout.count()) + "ms"; }

  // One RPC call (always a POST), retried on connection failures and 502/503/504 by the HTTP client.
  // `upload` non-null: a multipart upload of one file named "file".
  Result<net::HttpReply> Call(const std::string& path_and_query, const std::string* upload) {
    net::HttpCall call;
    call.url = o.url + "/api/v0/" + path_and_query;
    call.post = true;
    if (upload) call.file = net::HttpCall::FilePart{.data = *upload};
    call.connect_timeout_ms = o.connect_timeout.count();
    // The node's own `timeout=` fires first; ours is the backstop for a node that stops answering at all.
    call.timeout_ms = o.request_timeout.count() + 2000;
    call.max_bytes = o.max_response_bytes;
    call.attempts = std::max(1, o.max_attempts);
    call.retry_backoff_ms = o.initial_backoff.count();
    auto r = net::HttpFetch(call);
    if (!r.ok()) {
      const std::string& code = r.error().code;
      if (code == "http_response_too_large") {
        return MakeError(ErrorKind::kTooLarge, "content_too_large", "IPFS response exceeds the configured limit");
      }
      if (code == "http_timeout") {
        return MakeError(ErrorKind::kTimeout, "ipfs_timeout",
                         "IPFS node did not answer in time: " + path_and_query.substr(0, path_and_query.find('?')));
      }
      return MakeError(ErrorKind::kUnavailable, "ipfs_unavailable",
                       "IPFS node unavailable at " + o.url + ": " + r.error().message);
    }
    if (r->status == 502 || r->status == 503 || r->status == 504) {
      return MakeError(ErrorKind::kUnavailable, "ipfs_unavailable", "IPFS gateway status " + std::to_string(r->status));
    }
    return r;
  }

  // A call whose non-200 answers are node errors; "timeout" in the node's message means its `timeout=` fired.
  Result<std::string> Rpc(const std::string& path_and_query, const std::string* upload = nullptr) {
    ML_ASSIGN_OR_RETURN(net::HttpReply r, Call(path_and_query, upload));
    if (r.status == 200) return std::move(r.body);
    std::string message = NodeMessage(r.body);
    if (message.find("timeout") != std::string::npos || message.find("timed out") != std::string::npos ||
        message.find("deadline") != std::string::npos || message.find("aborted") != std::string::npos) {
      return MakeError(ErrorKind::kTimeout, "ipfs_timeout", "IPFS node timed out: " + message);
    }
    if (MentionsNotFound(message)) return MakeError(ErrorKind::kNotFound, "ipfs_not_found", message);
    return MakeError(ErrorKind::kUnavailable, "ipfs_error",
                     "IPFS node refused (" + std::to_string(r.status) + "): " + message);
  }
};

KuboStore::KuboStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KuboStore::~KuboStore() = default;

Result<std::unique_ptr<KuboStore>> KuboStore::Create(KuboOptions options) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_url", "IPFS RPC URL must be http:// or https://");
  }
  while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  return std::unique_ptr<KuboStore>(new KuboStore(std::move(impl)));
}

Result<std::string> KuboStore::Add(std::string_view bytes, const AddOptions& options) {
  // Same contract as the embedded store: CIDv0 always uses dag-pb leaves.
  bool raw = options.cid_version == 1 && options.raw_leaves;
  ML_ASSIGN_OR_RETURN(Cid expected, ComputeCid(bytes, ImportOptions::Ipfs(options.cid_version, raw)));
  std::string query = "add?cid-version=" + std::to_string(options.cid_version) +
                      "&raw-leaves=" + (raw ? "true" : "false") + "&pin=" + (options.pin ? "true" : "false") +
                      "&chunker=size-262144&quieter=true&progress=false";
  if (options.cid_version == 1) query += "&cid-base=base32";
  std::string upload(bytes);
  ML_ASSIGN_OR_RETURN(std::string body, impl_->Rpc(query, &upload));
  // The answer is one JSON object per line; the last names the root.
  std::string hash;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    auto j = Json::parse(body.substr(pos, end - pos), nullptr, false);
    if (j.is_object() && j.contains("Hash") && j["Hash"].is_string()) hash = j["Hash"].get<std::string>();
    pos = end + 1;
  }
  if (hash.empty()) return MakeError(ErrorKind::kUnavailable, "ipfs_bad_response", "IPFS add returned no CID");
  auto got = Cid::Parse(hash);
  if (!got.ok() || *got != expected) {
    return MakeError(ErrorKind::kCorruption, "ipfs_cid_mismatch",
                     "IPFS node returned " + hash.substr(0, 100) + ", expected " + expected.ToString());
  }
  return expected.ToString();
}

Result<std::string> KuboStore::Cat(std::string_view text) {
  ML_ASSIGN_OR_RETURN(Cid cid, Cid::Parse(text));
  auto body = impl_->Rpc("cat?arg=" + Escape(cid.ToString()) + "&timeout=" + impl_->TimeoutParam());
  if (!body.ok()) {
    if (body.error().code == "ipfs_not_found") {
      return MakeError(ErrorKind::kNotFound, "block_not_found", "IPFS node does not have " + cid.ToString());
    }
    return body.error();
  }
  // The node's bytes are trusted only if they rebuild the CID asked for. CIDv1 dag-pb roots may have
  // raw or dag-pb leaves; both layouts are tried.
  std::vector<ImportOptions> candidates;
  if (cid.version() == 0) {
    candidates = {ImportOptions::Ipfs(0)};
  } else if (cid.codec() == kCodecRaw) {
    candidates = {ImportOptions::Ipfs(1, true)};
  } else {
    candidates = {ImportOptions::Ipfs(1, true), ImportOptions::Ipfs(1, false)};
  }
  for (const auto& o : candidates) {
    auto computed = ComputeCid(*body, o);
    if (computed.ok() && computed->digest() == cid.digest()) return body;
  }
  return MakeError(ErrorKind::kCorruption, "content_corrupted",
                   "bytes from the IPFS node do not match " + cid.ToString());
}

Status KuboStore::Pin(std::string_view text) {
  ML_ASSIGN_OR_RETURN(Cid cid, Cid::Parse(text));
  auto r = impl_->Rpc("pin/add?arg=" + Escape(cid.ToString()) + "&recursive=true&timeout=" + impl_->TimeoutParam());
  if (!r.ok()) return r.error();
  return OkStatus();
}

Status KuboStore::Unpin(std::string_view text) {
  ML_ASSIGN_OR_RETURN(Cid cid, Cid::Parse(text));
  auto r = impl_->Rpc("pin/rm?arg=" + Escape(cid.ToString()) + "&recursive=true&timeout=" + impl_->TimeoutParam());
  if (!r.ok()) {
    if (r.error().code == "ipfs_not_found") {
      return MakeError(ErrorKind::kNotFound, "not_pinned", cid.ToString() + " is not pinned");
    }
    return r.error();
  }
  return OkStatus();
}

Result<bool> KuboStore::IsPinned(std::string_view text) {
  ML_ASSIGN_OR_RETURN(Cid cid, Cid::Parse(text));
  auto r = impl_->Rpc("pin/ls?arg=" + Escape(cid.ToString()) + "&type=recursive&timeout=" + impl_->TimeoutParam());
  if (!r.ok()) {
    if (r.error().code == "ipfs_not_found") return false;
    return r.error();
  }
  return true;
}

Result<bool> KuboStore::Has(std::string_view text) {
  ML_ASSIGN_OR_RETURN(Cid cid, Cid::Parse(text));
  // A missing block would make the node search the network; offline and a short timeout keep Has quick.
  auto r = impl_->Rpc("block/stat?arg=" + Escape(cid.ToString()) + "&offline=true&timeout=1000ms");
  if (r.ok()) return true;
  if (r.error().code == "ipfs_not_found" || r.error().code == "ipfs_timeout") return false;
  return r.error();
}

}  // namespace medledger::content
