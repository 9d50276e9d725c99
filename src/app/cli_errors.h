// How every `medledger` subcommand turns an Error into a message on stderr and an exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <utility>

#include "common/result.h"

namespace medledger::app {

// Exit codes shared by all commands: 0 success, 1 failure, 2 bad argument, 3 already exists, 4 not found
// (and 70 from main() for an exception no command expected).
// Scripts branch on them, so they never change meaning.
int ExitCodeFor(const Error& e);

// Prints "medledger: <message> [<code>]" and unwinds to CLI11, which exits with ExitCodeFor(e).
[[noreturn]] void Fail(const Error& e);

template <class T>
T OrFail(Result<T> r) {
  if (!r.ok()) Fail(r.error());
  return std::move(r).value();
}

}  // namespace medledger::app
