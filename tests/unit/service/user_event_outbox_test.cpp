#include "service/user_event_outbox.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

namespace medledger::service {
namespace {

namespace fs = std::filesystem;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/medledger-outbox-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(OutboxTest, DrainRecordsInOrderKeepsTransientFailuresAndDropsPermanentOnes) {
  UserEventOutbox box(dir_);
  ASSERT_TRUE(box.Append({"enrolled", "dr.a", "admin"}).ok());
  ASSERT_TRUE(box.Append({"disabled", "dr.b", "admin"}).ok());
  ASSERT_TRUE(box.Append({"password_reset", "dr.c", "admin2"}).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "server" / "user-events.outbox").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the outbox names logins: owner-only";

  std::vector<std::string> seen;
  auto drained = box.Drain([&](const PendingUserEvent& e) -> Status {
    seen.push_back(e.action + ":" + e.username + ":" + e.admin);
    if (e.username == "dr.b") return MakeError(ErrorKind::kUnavailable, "ledger_unavailable", "down");
    if (e.username == "dr.c") return MakeError(ErrorKind::kNotFound, "user_not_found", "gone");
    return OkStatus();
  });
  ASSERT_TRUE(drained.ok());
  EXPECT_EQ(*drained, 1u);
  EXPECT_EQ(seen,
            (std::vector<std::string>{"enrolled:dr.a:admin", "disabled:dr.b:admin", "password_reset:dr.c:admin2"}));

  // Only the transient failure is retried; recorded and permanently refused entries are gone.
  seen.clear();
  drained = box.Drain([&](const PendingUserEvent& e) -> Status {
    seen.push_back(e.username);
    return OkStatus();
  });
  ASSERT_TRUE(drained.ok());
  EXPECT_EQ(*drained, 1u);
  EXPECT_EQ(seen, std::vector<std::string>{"dr.b"});
  seen.clear();
  ASSERT_TRUE(box.Drain([&](const PendingUserEvent& e) -> Status {
                   seen.push_back(e.username);
                   return OkStatus();
                 })
                  .ok());
  EXPECT_TRUE(seen.empty());
}

TEST_F(OutboxTest, AnAbsentOutboxDrainsNothingAndAFullOneRefusesMore) {
  UserEventOutbox box(dir_);
  auto none = box.Drain([](const PendingUserEvent&) { return OkStatus(); });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
  UserEventOutbox small(dir_, 200);
  size_t appended = 0;
  while (small.Append({"enabled", "u" + std::to_string(appended), "admin"}).ok()) ++appended;
  EXPECT_EQ(appended, 3u) << "lines of about 55 bytes under a 200-byte bound";
  auto full = small.Append({"enabled", "one.more", "admin"});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, "outbox_full");
}

}  // namespace
}  // namespace medledger::service
