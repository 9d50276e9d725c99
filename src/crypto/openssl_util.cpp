#include "crypto/openssl_util.h"

#include <openssl/err.h>

#include <climits>

namespace medledger::crypto::internal {

Error OpensslError(ErrorKind kind, std::string code, std::string_view what) {
  unsigned long first = ERR_get_error();
  ERR_clear_error();
  std::string message(what);
  if (first != 0) {
    char buf[256];
    ERR_error_string_n(first, buf, sizeof(buf));
    message += ": ";
    message += buf;
  }
  return MakeError(kind, std::move(code), std::move(message));
}

void ClearOpensslErrors() {
  ERR_clear_error();
}

BioPtr ReadBio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) return BioPtr(BIO_new_mem_buf("", 0));
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

BioPtr WriteBio() {
  return BioPtr(BIO_new(BIO_s_mem()));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace medledger::crypto::internal
