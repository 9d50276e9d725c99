#include "app/cli_errors.h"

#include <iostream>

namespace medledger::app {

int ExitCodeFor(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kInvalidArgument: return 2;
    case ErrorKind::kAlreadyExists: return 3;
    case ErrorKind::kNotFound: return 4;
    default: return 1;
  }
}

void Fail(const Error& e) {
  std::cerr << "medledger: " << e.message << " [" << e.code << "]\n";
  throw CLI::RuntimeError(ExitCodeFor(e));
}

}  // namespace medledger::app
