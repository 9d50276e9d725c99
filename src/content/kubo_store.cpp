#include "content/kubo_store.h"

#include <curl/curl.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "content/cid.h"
#include "content/importer.h"

namespace medledger::content {
namespace {

using Json = nlohmann::json;

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MimeDeleter {
  void operator()(curl_mime* m) const { curl_mime_free(m); }
};

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Response {
  long status = 0;
  std::string body;
  bool too_large = false;
  size_t limit = 0;
};

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  if (r->body.size() + size * n > r->limit) {
    r->too_large = true;
    return 0;  // aborts the transfer
  }
  r->body.append(data, size * n);
  return size * n;
}

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

  // One RPC call with retries. `body` non-empty => multipart upload of one file named "file".
  Result<Response> Call(const std::string& path_and_query, const std::string* upload) {
    auto backoff = o.initial_backoff;
    Error last = MakeError(ErrorKind::kUnavailable, "ipfs_unavailable", "IPFS node not reached");
    for (int attempt = 1; attempt <= std::max(1, o.max_attempts); ++attempt) {
      if (attempt > 1) {
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
      }
      std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
      if (!curl) return MakeError(ErrorKind::kInternal, "curl_init_failed", "libcurl could not start");
      std::string url = o.url + "/api/v0/" + path_and_query;
      Response r;
      r.limit = o.max_response_bytes;
      curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
      // The node's own `timeout=` fires first; ours is the backstop for a node that stops answering at all.
      curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(o.request_timeout.count() + 2000));
      curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnData);
      curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &r);
      curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
      std::unique_ptr<curl_mime, MimeDeleter> mime;
      if (upload) {
        mime.reset(curl_mime_init(curl.get()));
        curl_mimepart* part = curl_mime_addpart(mime.get());
        curl_mime_name(part, "file");
        curl_mime_filename(part, "blob");
        curl_mime_type(part, "application/octet-stream");
        curl_mime_data(part, upload->data(), upload->size());
        curl_easy_setopt(curl.get(), CURLOPT_MIMEPOST, mime.get());
      } else {
        curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, "");
      }
      CURLcode rc = curl_easy_perform(curl.get());
      if (r.too_large) {
        return MakeError(ErrorKind::kTooLarge, "content_too_large", "IPFS response exceeds the configured limit");
      }
      if (rc == CURLE_OPERATION_TIMEDOUT) {
        return MakeError(ErrorKind::kTimeout, "ipfs_timeout",
                         "IPFS node did not answer in time: " + path_and_query.substr(0, path_and_query.find('?')));
      }
      if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_SEND_ERROR ||
          rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING) {
        last = MakeError(ErrorKind::kUnavailable, "ipfs_unavailable",
                         std::string("IPFS node unavailable at ") + o.url + ": " + curl_easy_strerror(rc));
        continue;
      }
      if (rc != CURLE_OK) {
        return MakeError(ErrorKind::kUnavailable, "ipfs_unavailable",
                         std::string("IPFS call failed: ") + curl_easy_strerror(rc));
      }
      curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &r.status);
      if (r.status == 502 || r.status == 503 || r.status == 504) {
        last =
            MakeError(ErrorKind::kUnavailable, "ipfs_unavailable", "IPFS gateway status " + std::to_string(r.status));
        continue;
      }
      return r;
    }
    return last;
  }

  // A call whose non-200 answers are node errors; "timeout" in the node's message means its `timeout=` fired.
  Result<std::string> Rpc(const std::string& path_and_query, const std::string* upload = nullptr) {
    ML_ASSIGN_OR_RETURN(Response r, Call(path_and_query, upload));
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
  InitCurlOnce();
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
