#include "crypto/random.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace medledger::crypto {
namespace {

TEST(Random, DrawsHaveTheAskedSizeAndDoNotRepeat) {
  std::set<std::string> seen;
  // Across several refills of the per-thread pool, small and large draws mixed.
  for (size_t i = 0; i < 2000; ++i) {
    const size_t n = i % 7 == 0 ? 300 + i % 50 : 12 + i % 40;
    std::string r = RandomBytes(n);
    ASSERT_EQ(r.size(), n);
    EXPECT_TRUE(seen.insert(r).second) << "repeated draw at " << i;
  }
  EXPECT_EQ(RandomBytes(0), "");
  EXPECT_EQ(RandomHex(16).size(), 32u);
}

TEST(Random, ThreadsDrawDifferentBytes) {
  std::vector<std::string> draws(4);
  {
    std::vector<std::jthread> threads;
    for (auto& d : draws) threads.emplace_back([&d] { d = RandomBytes(32); });
  }
  EXPECT_EQ(std::set<std::string>(draws.begin(), draws.end()).size(), draws.size());
}

// The property the pool must keep: a forked child never hands out the bytes its parent will. Without
// MADV_WIPEONFORK the child's copy of the pool would serve exactly the parent's next bytes.
TEST(Random, ForkedChildDoesNotRepeatItsParent) {
  (void)RandomBytes(16);  // the pool now holds unserved bytes
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string r = RandomBytes(32);
    const bool written = ::write(fds[1], r.data(), r.size()) == static_cast<ssize_t>(r.size());
    ::_exit(written ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string mine = RandomBytes(32);
  std::string theirs(32, '\0');
  size_t got = 0;
  while (got < theirs.size()) {
    const ssize_t r = ::read(fds[0], theirs.data() + got, theirs.size() - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, theirs.size());
  EXPECT_NE(mine, theirs);
}

}  // namespace
}  // namespace medledger::crypto
