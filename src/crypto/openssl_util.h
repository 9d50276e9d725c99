// Internal to src/crypto: turning the OpenSSL error queue into Error values, and RAII for OpenSSL objects.
#pragma once

#include <openssl/bio.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::crypto::internal {

// Drains the thread's OpenSSL error queue (so stale errors never leak into later calls) and returns an
// Error whose message names `what` and the first OpenSSL reason.
Error OpensslError(ErrorKind kind, std::string code, std::string_view what);

// Clears the thread's OpenSSL error queue after an expected failure (e.g. a bad signature).
void ClearOpensslErrors();

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// A read-only memory BIO over `data` (which must outlive the BIO).
BioPtr ReadBio(std::string_view data);
BioPtr WriteBio();
std::string BioContents(BIO* bio);

}  // namespace medledger::crypto::internal
