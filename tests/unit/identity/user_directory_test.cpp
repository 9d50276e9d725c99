#include "identity/user_directory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "io/env.h"
#include "temp_dir.h"

namespace medledger::identity {
namespace {

using medledger::testing::TempDir;

User MakeUser(const std::string& name, Role role = Role::kDoctor) {
  User u;
  u.username = name;
  u.role = role;
  u.display_name = "Dr " + name;
  u.cert_pem = "-----BEGIN CERTIFICATE-----\n" + name + "\n-----END CERTIFICATE-----\n";
  return u;
}

class UserDirectoryTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::filesystem::path file_ = dir_.path() / "users.json";
  std::unique_ptr<UserDirectory> users_ = UserDirectory::Open(file_, PasswordCost::Minimal()).value();
};

TEST(Usernames, Validation) {
  for (const char* ok : {"a", "alice", "dr.house", "x_1-2", "0day"}) EXPECT_TRUE(IsValidUsername(ok)) << ok;
  EXPECT_TRUE(IsValidUsername(std::string(64, 'a')));
  for (const char* bad : {"", "Alice", ".a", "_a", "-a", "a b", "a/b", "é", "a@b"}) {
    EXPECT_FALSE(IsValidUsername(bad)) << bad;
    EXPECT_EQ(ValidateUsername(bad).error().code, "bad_username");
  }
  EXPECT_FALSE(IsValidUsername(std::string(65, 'a')));
}

TEST(Roles, ParseAndName) {
  for (Role r : {Role::kAdmin, Role::kDoctor, Role::kPatient, Role::kAuditor})
    EXPECT_EQ(ParseRole(RoleName(r)).value(), r);
  EXPECT_EQ(ParseRole("nurse").error().code, "bad_role");
  EXPECT_EQ(ParseRole("Doctor").error().code, "bad_role");
  // The service role is a role of the contract, never of a person in the directory.
  EXPECT_EQ(ParseRole("service").error().code, "bad_role");
}

TEST_F(UserDirectoryTest, AddGetListPersist) {
  ASSERT_TRUE(users_->AddUser(MakeUser("bob"), std::string("correct horse")).ok());
  ASSERT_TRUE(users_->AddUser(MakeUser("alice", Role::kPatient), std::nullopt).ok());
  auto bob = users_->GetUser("bob").value();
  EXPECT_EQ(bob.role, Role::kDoctor);
  EXPECT_EQ(bob.display_name, "Dr bob");
  EXPECT_TRUE(bob.has_password);
  EXPECT_FALSE(bob.created.empty());
  EXPECT_FALSE(users_->GetUser("alice")->has_password);
  auto list = users_->ListUsers();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].username, "alice");
  EXPECT_EQ(list[1].username, "bob");
  EXPECT_EQ(users_->GetUser("carol").error().code, "user_not_found");
  EXPECT_EQ(users_->AddUser(MakeUser("bob"), std::nullopt).error().code, "user_exists");

  struct stat st {};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string text = io::ReadFile(*io::Env::Default(), file_, 16 * 1024 * 1024).value();
  EXPECT_EQ(text.find("correct horse"), std::string::npos);
  EXPECT_NE(text.find("$argon2id$"), std::string::npos);

  auto reopened = UserDirectory::Open(file_, PasswordCost::Minimal()).value();
  EXPECT_EQ(reopened->ListUsers().size(), 2u);
  EXPECT_EQ(reopened->VerifyPassword("bob", "correct horse").value().username, "bob");
}

TEST_F(UserDirectoryTest, Passwords) {
  ASSERT_TRUE(users_->AddUser(MakeUser("bob"), std::string("correct horse")).ok());
  ASSERT_TRUE(users_->AddUser(MakeUser("nopass"), std::nullopt).ok());
  EXPECT_TRUE(users_->VerifyPassword("bob", "correct horse").ok());
  for (auto [user, pw] : std::vector<std::pair<std::string, std::string>>{{"bob", "correct horsE"},
                                                                          {"bob", ""},
                                                                          {"bob", "correct horse "},
                                                                          {"ghost", "correct horse"},
                                                                          {"nopass", ""},
                                                                          {"nopass", "whatever1"},
                                                                          {"", "x"}}) {
    auto r = users_->VerifyPassword(user, pw);
    ASSERT_FALSE(r.ok()) << user << "/" << pw;
    EXPECT_EQ(r.error().code, "invalid_credentials");
    EXPECT_EQ(r.error().kind, ErrorKind::kUnauthenticated);
  }
  ASSERT_TRUE(users_->SetPassword("bob", "battery staple").ok());
  EXPECT_FALSE(users_->VerifyPassword("bob", "correct horse").ok());
  EXPECT_TRUE(users_->VerifyPassword("bob", "battery staple").ok());
  ASSERT_TRUE(users_->SetPassword("nopass", "now-has-one").ok());
  EXPECT_TRUE(users_->VerifyPassword("nopass", "now-has-one").ok());
  EXPECT_EQ(users_->SetPassword("bob", "short").error().code, "weak_password");
  EXPECT_EQ(users_->SetPassword("bob", std::string(1025, 'x')).error().code, "password_too_long");
  EXPECT_EQ(users_->SetPassword("ghost", "long enough").error().code, "user_not_found");
  EXPECT_EQ(users_->AddUser(MakeUser("weak"), std::string("1234567")).error().code, "weak_password");

  ASSERT_TRUE(users_->SetDisabled("bob", true).ok());
  EXPECT_EQ(users_->VerifyPassword("bob", "battery staple").error().code, "invalid_credentials");
  EXPECT_TRUE(users_->GetUser("bob")->disabled);
  ASSERT_TRUE(users_->SetDisabled("bob", false).ok());
  EXPECT_TRUE(users_->VerifyPassword("bob", "battery staple").ok());
}

// Unknown users must cost as much as known ones; with the real cost both take tens of milliseconds, so a
// missing hash (microseconds) would show as a ratio far below 0.3.
TEST(UserDirectoryTiming, UnknownUserCostsAsMuchAsKnown) {
  TempDir dir;
  PasswordCost cost{1, 8u * 1024 * 1024};
  auto users = UserDirectory::Open(dir.path() / "users.json", cost).value();
  ASSERT_TRUE(users->AddUser(MakeUser("bob"), std::string("correct horse")).ok());
  auto time = [&](const char* name) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) (void)users->VerifyPassword(name, "wrong password");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double known = time("bob");
  double unknown = time("ghost");
  EXPECT_GT(unknown / known, 0.3) << "known " << known << "s, unknown " << unknown << "s";
  EXPECT_LT(unknown / known, 3.0) << "known " << known << "s, unknown " << unknown << "s";
}

TEST_F(UserDirectoryTest, BadInputs) {
  User u = MakeUser("Bad Name");
  EXPECT_EQ(users_->AddUser(u, std::nullopt).error().code, "bad_username");
  u = MakeUser("ok");
  u.display_name = std::string(201, 'x');
  EXPECT_EQ(users_->AddUser(u, std::nullopt).error().code, "bad_display_name");
  u.display_name = "\xff\xfe";
  EXPECT_EQ(users_->AddUser(u, std::nullopt).error().code, "bad_display_name");
}

TEST_F(UserDirectoryTest, CorruptFileIsReportedNotCrashed) {
  ASSERT_TRUE(users_->AddUser(MakeUser("bob"), std::nullopt).ok());
  for (
      const char* text :
      {"", "{", "[]", R"({"version":2,"users":{}})", R"({"version":1})", R"({"version":1,"users":{"BAD":{}}})",
       R"({"version":1,"users":{"bob":{"role":"doctor"}}})",
       R"({"version":1,"users":{"bob":{"role":"nurse","display_name":"","cert":"","password_hash":"","disabled":false,"created":""}}})"}) {
    ASSERT_TRUE(io::WriteFileAtomic(*io::Env::Default(), file_, text).ok());
    auto r = UserDirectory::Open(file_, PasswordCost::Minimal());
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, "user_directory_corrupt") << text;
    // A running directory keeps its last good copy and refuses to write over the corrupt file.
    EXPECT_TRUE(users_->GetUser("bob").ok());
    EXPECT_EQ(users_->AddUser(MakeUser("carol"), std::nullopt).error().code, "user_directory_corrupt");
  }
}

TEST_F(UserDirectoryTest, PasswdDisableEnableAndEndSessionsBumpTheSessionEpoch) {
  ASSERT_TRUE(users_->AddUser(MakeUser("bob"), std::string("first-password")).ok());
  ASSERT_TRUE(users_->AddUser(MakeUser("carol"), std::string("first-password")).ok());
  EXPECT_EQ(users_->GetUser("bob")->token_generation, 0u);
  // Another process (the CLI) makes the changes; this instance (the server) sees each one on its next lookup.
  auto cli = UserDirectory::Open(file_, PasswordCost::Minimal()).value();
  ASSERT_TRUE(cli->SetPassword("bob", "second-password").ok());
  EXPECT_EQ(users_->GetUser("bob")->token_generation, 1u);
  ASSERT_TRUE(cli->SetDisabled("bob", true).ok());
  EXPECT_EQ(users_->GetUser("bob")->token_generation, 2u);
  ASSERT_TRUE(cli->SetDisabled("bob", false).ok());
  EXPECT_EQ(users_->GetUser("bob")->token_generation, 3u);
  ASSERT_TRUE(cli->EndSessions("bob").ok());
  EXPECT_EQ(users_->GetUser("bob")->token_generation, 4u);
  EXPECT_EQ(cli->EndSessions("nobody").error().code, "user_not_found");
  EXPECT_EQ(users_->GetUser("carol")->token_generation, 0u);
  // Persisted: a fresh open reads it back.
  EXPECT_EQ(UserDirectory::Open(file_, PasswordCost::Minimal()).value()->GetUser("bob")->token_generation, 4u);
}

TEST_F(UserDirectoryTest, FileWithoutSessionEpochReadsAsZeroAndBadEpochIsCorrupt) {
  ASSERT_TRUE(io::WriteFileAtomic(*io::Env::Default(), file_,
                                  R"({"version":1,"users":{"bob":{"role":"doctor","display_name":"B","cert":"c",)"
                                  R"("password_hash":"","disabled":false,"created":""}}})")
                  .ok());
  auto old = UserDirectory::Open(file_, PasswordCost::Minimal());
  ASSERT_TRUE(old.ok());
  EXPECT_EQ((*old)->GetUser("bob")->token_generation, 0u);
  for (const char* bad : {"-1", "\"1\"", "1.5"}) {
    ASSERT_TRUE(io::WriteFileAtomic(*io::Env::Default(), file_,
                                    std::string(R"({"version":1,"users":{"bob":{"role":"doctor","display_name":"B",)") +
                                        R"("cert":"c","password_hash":"","disabled":false,"created":"",)" +
                                        R"("token_generation":)" + bad + "}}}")
                    .ok());
    auto r = UserDirectory::Open(file_, PasswordCost::Minimal());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "user_directory_corrupt");
  }
}

TEST_F(UserDirectoryTest, ConcurrentAddsFromTwoInstancesLoseNothing) {
  // Two directory objects on one file stand in for two processes (CLI and server): the file lock and
  // re-read-before-write must keep every user.
  auto other = UserDirectory::Open(file_, PasswordCost::Minimal()).value();
  constexpr int kPerThread = 15;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      UserDirectory* dir = t % 2 == 0 ? users_.get() : other.get();
      for (int i = 0; i < kPerThread; ++i) {
        ASSERT_TRUE(dir->AddUser(MakeUser("u" + std::to_string(t) + "-" + std::to_string(i)), std::nullopt).ok());
      }
    });
  }
  // Everyone races for the same name too: exactly one wins.
  std::atomic<int> wins{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      UserDirectory* dir = t % 2 == 0 ? users_.get() : other.get();
      if (dir->AddUser(MakeUser("contested"), std::nullopt).ok()) wins++;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(users_->ListUsers().size(), 4u * kPerThread + 1);
  EXPECT_EQ(other->ListUsers().size(), 4u * kPerThread + 1);
  EXPECT_EQ(UserDirectory::Open(file_, PasswordCost::Minimal()).value()->ListUsers().size(), 4u * kPerThread + 1);
}

}  // namespace
}  // namespace medledger::identity

namespace medledger::identity {
namespace {

// More concurrent logins than Argon2id slots: all must complete with the right answers (no deadlock, no mixups).
TEST(UserDirectoryConcurrency, ManyParallelVerifications) {
  medledger::testing::TempDir dir;
  auto users = UserDirectory::Open(dir.path() / "users.json", PasswordCost::Minimal()).value();
  User u;
  u.username = "bob";
  u.cert_pem = "pem";
  ASSERT_TRUE(users->AddUser(u, std::string("correct horse")).ok());
  std::atomic<int> wrong_answers{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        bool expect_ok = (t + i) % 3 == 0;
        const char* name = (t + i) % 3 == 2 ? "ghost" : "bob";
        bool ok = users->VerifyPassword(name, expect_ok ? "correct horse" : "wrong horse").ok();
        if (ok != expect_ok) wrong_answers++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong_answers.load(), 0);
}

}  // namespace
}  // namespace medledger::identity
