// Reading a password from a file (never from argv, where other local users can see it in `ps`).
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace medledger::identity {

// Reads at most 4 KiB, drops one trailing "\n" or "\r\n" (editors add it), then applies ValidatePassword.
Result<std::string> ReadPasswordFile(const std::filesystem::path& path);

}  // namespace medledger::identity
