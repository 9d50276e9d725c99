// Errors as values: every fallible operation returns Result<T> or Status.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace medledger {

// The category of a failure. It decides the HTTP status and the Fabric response status; the
// machine-readable `code` in Error is what clients match on.
enum class ErrorKind {
  kInvalidArgument,    // malformed input (HTTP 400/422)
  kUnauthenticated,    // no or bad credentials (401)
  kPermissionDenied,   // authenticated but not allowed (403)
  kNotFound,           // (404)
  kAlreadyExists,      // uniqueness violated (409)
  kConflict,           // concurrent modification, MVCC (409)
  kTooLarge,           // size limits (413)
  kUnsupportedType,    // content type refused (415)
  kResourceExhausted,  // rate limits, queue full (429)
  kUnavailable,        // a dependency is down (503)
  kTimeout,            // a dependency did not answer in time (504)
  kCorruption,         // stored data fails verification
  kIoError,            // the OS refused a read/write/fsync (503)
  kNoSpace,            // the disk is full (ENOSPC): an operator must free space (507)
  kInternal,           // a bug or broken invariant
};

const char* ErrorKindName(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string code;     // stable, snake_case, e.g. "report_exists"
  std::string message;  // for humans; never contains PHI or secrets

  std::string ToString() const;
};

inline Error MakeError(ErrorKind kind, std::string code, std::string message) {
  return Error{kind, std::move(code), std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status OkStatus() {
  return {};
}

}  // namespace medledger

#define ML_CONCAT_INNER(a, b) a##b
#define ML_CONCAT(a, b) ML_CONCAT_INNER(a, b)

// Returns the error of a Status/Result expression from the enclosing function.
#define ML_RETURN_IF_ERROR(expr)                     \
  do {                                               \
    auto&& ml_status_ = (expr);                      \
    if (!ml_status_.ok()) return ml_status_.error(); \
  } while (0)

// `ML_ASSIGN_OR_RETURN(auto x, F());` binds the value or returns the error.
#define ML_ASSIGN_OR_RETURN(lhs, expr) ML_ASSIGN_OR_RETURN_IMPL(ML_CONCAT(ml_result_, __LINE__), lhs, expr)
// `tmp` names a variable and `lhs` may be a declaration, so neither can be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ML_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.error();             \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
