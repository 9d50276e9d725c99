// The message of an errno value. std::strerror may hand every thread the same buffer (clang-tidy's
// concurrency-mt-unsafe); std::generic_category() formats into a string of the caller's own.
#pragma once

#include <string>
#include <system_error>

namespace medledger {

inline std::string ErrnoText(int err) {
  return std::generic_category().message(err);
}

}  // namespace medledger
