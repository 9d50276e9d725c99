#include "common/result.h"

namespace medledger {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kUnauthenticated: return "unauthenticated";
    case ErrorKind::kPermissionDenied: return "permission_denied";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kAlreadyExists: return "already_exists";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kTooLarge: return "too_large";
    case ErrorKind::kUnsupportedType: return "unsupported_type";
    case ErrorKind::kResourceExhausted: return "resource_exhausted";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kCorruption: return "corruption";
    case ErrorKind::kIoError: return "io_error";
    case ErrorKind::kNoSpace: return "no_space";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

std::string Error::ToString() const {
  std::string out = code.empty() ? ErrorKindName(kind) : code;
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace medledger
