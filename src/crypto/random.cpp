#include "crypto/random.h"

#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "common/encoding.h"

namespace medledger::crypto {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) != 1) {
      // Predictable keys or nonces would be worse than stopping: there is no safe fallback.
      std::fputs("medledger: the system CSPRNG failed; aborting\n", stderr);
      std::abort();
    }
    done += static_cast<size_t>(chunk);
  }
  return out;
}

std::string RandomHex(size_t n_bytes) {
  return HexEncode(RandomBytes(n_bytes));
}

}  // namespace medledger::crypto
