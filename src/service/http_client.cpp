#include "service/http_client.h"

#include <curl/curl.h>

#include <memory>

namespace medledger::service {
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

}  // namespace

Result<HttpReply> HttpFetch(const HttpCall& call) {
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
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(call.timeout_ms));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "medledger");
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  if (!call.content_type.empty()) {
    if (!call.form.empty() || call.content_type.find_first_of("\r\n") != std::string::npos) {
      return MakeError(ErrorKind::kInternal, "http_client", "a raw body excludes a form; no newline in the type");
    }
    headers.reset(curl_slist_append(nullptr, ("Content-Type: " + call.content_type).c_str()));
    if (!headers) return MakeError(ErrorKind::kInternal, "http_client", "curl_slist_append failed");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (!call.form.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  if (sink.overflow) {
    return MakeError(ErrorKind::kUnavailable, "http_response_too_large", "the response exceeds the size limit");
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return MakeError(ErrorKind::kTimeout, "http_timeout", "no answer from " + call.url + " in time");
  }
  if (rc != CURLE_OK) {
    return MakeError(ErrorKind::kUnavailable, "http_unavailable",
                     "cannot reach " + call.url + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

}  // namespace medledger::service
