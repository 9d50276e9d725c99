#include "net/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

namespace medledger::net {
namespace {

struct Sink {
  std::string* body;
  size_t max;
  bool overflow = false;
};

size_t Write(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->body->size() + size * n > sink->max) {
    sink->overflow = true;
    return 0;  // aborts the transfer
  }
  sink->body->append(data, size * n);
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct MimeDeleter {
  void operator()(curl_mime* m) const { curl_mime_free(m); }
};

// curl_global_init is not thread-safe; the first call from any thread does it, once.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// A connection that never produced an answer: another attempt may reach the peer.
bool Transient(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_SEND_ERROR ||
         rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
}

bool TransientStatus(long status) {
  return status == 502 || status == 503 || status == 504;
}

// "Application/Timestamp-Reply; charset=x" -> "application/timestamp-reply".
std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string out(type);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Header values come from our own configuration, but a CR or LF would still split the request.
bool SafeHeaderValue(std::string_view v) {
  return std::none_of(v.begin(), v.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// One attempt; `transient` tells the retry loop whether another may succeed.
Result<HttpReply> FetchOnce(const HttpCall& call, bool* transient) {
  *transient = false;
  if (call.client_cert_file.empty() != call.client_key_file.empty()) {
    return MakeError(ErrorKind::kInternal, "http_bad_call",
                     "a client certificate needs its key, and a key its certificate");
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return MakeError(ErrorKind::kInternal, "http_client", "curl_easy_init failed");
  HttpReply reply;
  Sink sink{&reply.body, call.max_bytes};
  std::string form;
  for (const auto& [k, v] : call.form) {
    char* ek = curl_easy_escape(curl.get(), k.data(), static_cast<int>(k.size()));
    char* ev = curl_easy_escape(curl.get(), v.data(), static_cast<int>(v.size()));
    if (!form.empty()) form += '&';
    form += std::string(ek ? ek : "") + "=" + (ev ? ev : "");
    curl_free(ek);
    curl_free(ev);
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(call.connect_timeout_ms > 0 ? call.connect_timeout_ms : call.timeout_ms));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "medledger");
  // libcurl's defaults, stated so that no later edit can turn verification off by omission.
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!call.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, call.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);  // the bundle alone, not also the system's directory
  }
  if (!call.client_cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, call.client_cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY, call.client_key_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  if (!call.content_type.empty()) {  // checked above: no form, no CR/LF/NUL
    headers.reset(curl_slist_append(nullptr, ("Content-Type: " + call.content_type).c_str()));
    if (!headers) return MakeError(ErrorKind::kInternal, "http_client", "curl_slist_append failed");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POST, 1L);  // also for an empty body
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (!call.form.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  }
  std::unique_ptr<curl_mime, MimeDeleter> mime;
  if (call.file) {
    mime.reset(curl_mime_init(c));
    curl_mimepart* part = mime ? curl_mime_addpart(mime.get()) : nullptr;
    if (part == nullptr) return MakeError(ErrorKind::kInternal, "http_client", "curl_mime_init failed");
    curl_mime_name(part, call.file->field.c_str());
    curl_mime_filename(part, call.file->filename.c_str());
    curl_mime_type(part, call.file->content_type.c_str());
    curl_mime_data(part, call.file->data.data(), call.file->data.size());
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());
  } else if (call.post && call.content_type.empty() && call.form.empty()) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  }
  CURLcode rc = curl_easy_perform(c);
  if (sink.overflow) {
    return MakeError(ErrorKind::kUnavailable, "http_response_too_large", "the response exceeds the size limit");
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return MakeError(ErrorKind::kTimeout, "http_timeout", "no answer from " + call.url + " in time");
  }
  if (rc != CURLE_OK) {
    *transient = Transient(rc);
    return MakeError(ErrorKind::kUnavailable, "http_unavailable",
                     "cannot reach " + call.url + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  *transient = TransientStatus(reply.status);
  const char* type = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr) reply.content_type = type;
  if (!call.expect_content_type.empty() && MediaType(reply.content_type) != MediaType(call.expect_content_type)) {
    return MakeError(ErrorKind::kUnavailable, "http_unexpected_content_type",
                     call.url + " answered status " + std::to_string(reply.status) + " with content type '" +
                         MediaType(reply.content_type).substr(0, 100) + "', not " + call.expect_content_type);
  }
  return reply;
}

}  // namespace

Result<HttpReply> HttpFetch(const HttpCall& call) {
  const int bodies = (call.form.empty() ? 0 : 1) + (call.content_type.empty() ? 0 : 1) + (call.file ? 1 : 0);
  if (bodies > 1 || (!call.content_type.empty() && !SafeHeaderValue(call.content_type))) {
    return MakeError(ErrorKind::kInternal, "http_bad_call",
                     "one kind of body (a form, a raw body with a clean content type, or a file part)");
  }
  if (call.file && (!SafeHeaderValue(call.file->field) || !SafeHeaderValue(call.file->filename) ||
                    !SafeHeaderValue(call.file->content_type))) {
    return MakeError(ErrorKind::kInternal, "http_bad_call", "a file part's names and type must be clean");
  }
  InitCurlOnce();
  int64_t backoff_ms = call.retry_backoff_ms;
  for (int attempt = 1;; ++attempt) {
    bool transient = false;
    Result<HttpReply> reply = FetchOnce(call, &transient);
    if (!transient || attempt >= std::max(1, call.attempts)) return reply;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms *= 2;
  }
}

std::function<Result<std::string>(std::string)> MakePostTransport(std::string url, std::string content_type,
                                                                  std::string reply_content_type, int64_t timeout_ms,
                                                                  size_t max_bytes) {
  return
      [url = std::move(url), content_type = std::move(content_type), reply_content_type = std::move(reply_content_type),
       timeout_ms, max_bytes](std::string body) -> Result<std::string> {
        HttpCall call;
        call.url = url;
        call.content_type = content_type;
        call.body = std::move(body);
        call.expect_content_type = reply_content_type;
        call.timeout_ms = timeout_ms;
        call.max_bytes = max_bytes;
        ML_ASSIGN_OR_RETURN(HttpReply reply, HttpFetch(call));
        if (reply.status != 200) {
          return MakeError(ErrorKind::kUnavailable, "http_status",
                           url + " answered status " + std::to_string(reply.status));
        }
        return std::move(reply.body);
      };
}

}  // namespace medledger::net
