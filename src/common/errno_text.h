// The message of an errno value. std::strerror may hand every thread the same buffer (clang-tidy's
// concurrency-mt-unsafe); std::generic_category() formats into a string of the caller's own.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

#include "common/result.h"

namespace medledger {

inline std::string ErrnoText(int err) {
  return std::generic_category().message(err);
}

// The error of a failed system call on a store's file: kNoSpace "no_space" for a full disk or quota (so the
// API answers 507 and an operator frees space), kIoError "io_error" otherwise. `context` says what failed on
// which file. Every errno-to-Error helper goes through this, so a full disk is never reported as another
// I/O error.
inline Error ErrnoError(const std::string& context, int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return MakeError(ErrorKind::kNoSpace, "no_space", context + ": " + ErrnoText(err));
  }
  return MakeError(ErrorKind::kIoError, "io_error", context + ": " + ErrnoText(err));
}

}  // namespace medledger
