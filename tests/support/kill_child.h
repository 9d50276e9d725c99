// kill -9 harness for crash tests: re-executes this test binary (fork + exec, so the child starts with no
// inherited threads) running one child test, which reports each acknowledged number (uint64_t) on the pipe
// whose descriptor it finds in MEDLEDGER_CRASH_CHILD_FD; SIGKILLs it at a random moment after its first
// acknowledgement; returns the last number it acknowledged (-1: none, -2: it died for another reason).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace medledger::testing {

inline constexpr char kCrashChildFdVar[] = "MEDLEDGER_CRASH_CHILD_FD";

// In the child: the acknowledgement pipe (-1 when this process is not a crash-test child).
inline int CrashChildFd() {
  const char* fd = std::getenv(kCrashChildFdVar);
  return fd == nullptr ? -1 : std::atoi(fd);
}

inline void ReportAcknowledged(int fd, uint64_t n) {
  if (::write(fd, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) std::_Exit(3);
}

// `env`: extra NAME=value entries for the child. The kill lands up to `max_delay` after the first report.
inline int64_t RunAndKill(const std::string& test, const std::vector<std::string>& env, std::mt19937& rng,
                          std::chrono::microseconds max_delay = std::chrono::microseconds(100000)) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  // Everything the child needs is prepared before fork: only async-signal-safe calls follow it.
  const std::string filter = "--gtest_filter=" + test;
  const std::string fd_env = std::string(kCrashChildFdVar) + "=" + std::to_string(fds[1]);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(const_cast<char*>(fd_env.c_str()));
  envp.push_back(nullptr);
  char self[] = "/proc/self/exe";
  char* argv[] = {self, const_cast<char*>(filter.c_str()), nullptr};
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
    ::execve(self, argv, envp.data());
    std::_Exit(127);
  }
  ::close(fds[1]);
  if (devnull >= 0) ::close(devnull);
  // Start the clock at the first acknowledgement, so the kill lands while the child is writing rather
  // than while it is still starting up (which can take seconds on a loaded machine).
  int64_t last = -1;
  uint64_t n;
  pollfd first{fds[0], POLLIN, 0};
  if (::poll(&first, 1, 60000) == 1 && ::read(fds[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n)) {
    last = static_cast<int64_t>(n);
  }
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % static_cast<uint64_t>(max_delay.count() + 1)));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (::read(fds[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n)) last = static_cast<int64_t>(n);
  ::close(fds[0]);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    ADD_FAILURE() << "child ended on its own, status " << status;
    return -2;
  }
  return last;
}

}  // namespace medledger::testing
