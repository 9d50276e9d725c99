#include "crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/mman.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/encoding.h"

namespace medledger::crypto {
namespace {

constexpr size_t kPageSize = 4096;
constexpr size_t kMaxPooledDraw = 256;  // larger draws go to RAND_bytes directly

void FillFromOpenSsl(unsigned char* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    if (RAND_bytes(out + done, chunk) != 1) {
      // Predictable keys or nonces would be worse than stopping: there is no safe fallback.
      std::fputs("medledger: the system CSPRNG failed; aborting\n", stderr);
      std::abort();
    }
    done += static_cast<size_t>(chunk);
  }
}

// A thread's pool of OpenSSL DRBG output, drawn a page at a time. Why: every RAND_bytes call checks for a fork
// with getpid(), a system call, and on a paravirtualised machine system calls are dear; sealing one report
// draws four small values (key id, data key, two nonces). The pool page is MADV_WIPEONFORK, so a forked
// child finds it zeroed (nothing available) and refills from its own, reseeded DRBG: parent and child never
// hand out the same bytes. Served bytes are wiped from the page. Without WIPEONFORK (Linux < 4.14) every
// draw goes to RAND_bytes as before.
class ThreadPool {
 public:
  ThreadPool() {
    void* p = ::mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    if (::madvise(p, kPageSize, MADV_WIPEONFORK) != 0) {
      ::munmap(p, kPageSize);
      return;
    }
    page_ = static_cast<Page*>(p);
  }
  ~ThreadPool() {
    if (page_ == nullptr) return;
    OPENSSL_cleanse(page_, kPageSize);
    ::munmap(page_, kPageSize);
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // False when the pool cannot serve `n` bytes (no pool page, or a large draw).
  bool Take(unsigned char* out, size_t n) {
    if (page_ == nullptr || n > kMaxPooledDraw) return false;
    if (page_->available < n) {
      FillFromOpenSsl(page_->bytes, sizeof page_->bytes);
      page_->available = sizeof page_->bytes;
    }
    unsigned char* from = page_->bytes + (sizeof page_->bytes - page_->available);
    std::memcpy(out, from, n);
    OPENSSL_cleanse(from, n);
    page_->available -= n;
    return true;
  }

 private:
  struct Page {
    size_t available;  // unserved bytes, at the end of `bytes`; 0 in a freshly forked child
    unsigned char bytes[kPageSize - sizeof(size_t)];
  };
  static_assert(sizeof(Page) == kPageSize);
  Page* page_ = nullptr;
};

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  thread_local ThreadPool pool;
  if (!pool.Take(bytes, n)) FillFromOpenSsl(bytes, n);
  return out;
}

std::string RandomHex(size_t n_bytes) {
  return HexEncode(RandomBytes(n_bytes));
}

}  // namespace medledger::crypto
