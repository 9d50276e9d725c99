#include "service/sealed_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/random.h"

namespace medledger::service {
namespace {

namespace fs = std::filesystem;

fs::path TempDir() {
  fs::path d = fs::temp_directory_path() / ("sealed-file-test-" + crypto::RandomHex(6));
  fs::create_directories(d);
  return d;
}

// Writers of the same file (two requests with one idempotency key, two token refreshes) used to share the
// temporary "<file>.tmp": one truncated the other's bytes or renamed it away, so a writer failed or the file
// held a mix. Each write now has its own temporary, and the file always holds one writer's whole content.
TEST(WriteFileAtomically, ConcurrentWritersOfOneFileEachSucceedAndLeaveOneWholeVersion) {
  fs::path dir = TempDir();
  fs::path file = dir / "state.json";
  constexpr int kThreads = 8, kWrites = 40;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  std::set<std::string> written;
  for (int t = 0; t < kThreads; ++t) written.insert(std::string(4096 + t, static_cast<char>('a' + t)));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string content(4096 + t, static_cast<char>('a' + t));
      for (int i = 0; i < kWrites; ++i) {
        if (!WriteFileAtomically(file, content).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "writer " << t;
  auto final_content = ReadWholeFile(file);
  ASSERT_TRUE(final_content.ok());
  EXPECT_EQ(written.count(*final_content), 1u);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "state.json");  // no temporary left behind
  }
  EXPECT_EQ(entries, 1u);
  fs::remove_all(dir);
}

TEST(WriteFileAtomically, OwnerOnlyWhateverTheUmask) {
  fs::path dir = TempDir();
  mode_t old = ::umask(0);  // the widest umask: the mode must come from the writer, not the process
  Status s = WriteFileAtomically(dir / "secret", "x");
  ::umask(old);
  ASSERT_TRUE(s.ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Replacing an existing, wider file narrows it too.
  fs::permissions(dir / "secret", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  ASSERT_TRUE(WriteFileAtomically(dir / "secret", "y").ok());
  ASSERT_EQ(::stat((dir / "secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadWholeFile(dir / "secret").value(), "y");
  fs::remove_all(dir);
}

TEST(WriteFileAtomically, FailsCleanlyWhenTheDirectoryIsMissing) {
  fs::path dir = TempDir();
  Status s = WriteFileAtomically(dir / "absent" / "file", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "io_error");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace medledger::service
