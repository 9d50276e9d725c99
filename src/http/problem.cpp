#include "http/problem.h"

#include <nlohmann/json.hpp>

namespace medledger::http {

int StatusForKind(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return 400;
    case ErrorKind::kUnauthenticated: return 401;
    case ErrorKind::kPermissionDenied: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kAlreadyExists: return 409;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kTooLarge: return 413;
    case ErrorKind::kUnsupportedType: return 415;
    case ErrorKind::kResourceExhausted: return 429;
    case ErrorKind::kUnavailable: return 503;
    case ErrorKind::kTimeout: return 504;
    case ErrorKind::kCorruption: return 500;
    // The disk failed the request, not the request itself: the server stays up and a retry may succeed.
    case ErrorKind::kIoError: return 503;
    // A full disk is the operator's to fix (free space), not a request to repeat in five seconds.
    case ErrorKind::kNoSpace: return 507;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Error";
  }
}

Response ProblemResponse(const Error& error, int status, const std::vector<FieldError>& fields) {
  if (status == 0) status = StatusForKind(error.kind);
  nlohmann::json j;
  j["type"] = "https://medledger.dev/problems/" + error.code;
  j["title"] = ReasonPhrase(status);
  j["status"] = status;
  j["code"] = error.code;
  j["detail"] = status >= 500 && error.kind != ErrorKind::kUnavailable && error.kind != ErrorKind::kTimeout
                    ? std::string("the server could not complete the request")
                    : error.message;
  if (!fields.empty()) {
    auto& arr = j["errors"] = nlohmann::json::array();
    for (const auto& f : fields) arr.push_back({{"field", f.field}, {"code", f.code}, {"message", f.message}});
  }
  Response r;
  r.status = status;
  r.SetHeader("Content-Type", "application/problem+json");
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace medledger::http
