// CSPRNG: OpenSSL's DRBG (RAND_bytes), small draws served from a per-thread, fork-safe pool of its output
// (random.cpp says why). A failing system CSPRNG is unrecoverable: these abort rather than return
// predictable bytes.
#pragma once

#include <cstddef>
#include <string>

namespace medledger::crypto {

std::string RandomBytes(size_t n);
std::string RandomHex(size_t n_bytes);  // 2*n lowercase hex characters, for identifiers

}  // namespace medledger::crypto
