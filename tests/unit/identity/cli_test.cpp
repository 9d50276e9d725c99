// End-to-end checks of `medledger init` and `medledger user add|list`, spawning the real binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "identity/organization.h"
#include "identity/password_file.h"
#include "io/env.h"
#include "temp_dir.h"

extern char** environ;

namespace medledger::identity {
namespace {

using medledger::testing::TempDir;
namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin_dir = std::getenv("MEDLEDGER_BIN_DIR");
    if (bin_dir != nullptr) binary_ = fs::path(bin_dir) / "src" / "app" / "medledger";
    if (binary_.empty() || !fs::exists(binary_)) {
      GTEST_SKIP() << "the medledger binary is not built (run through ctest after a full build)";
    }
  }

  CliRun Medledger(std::vector<std::string> args) {
    args.insert(args.begin(), binary_.string());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    fs::path out = tmp_.path() / "stdout", err = tmp_.path() / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    CliRun run;
    if (posix_spawn(&pid, binary_.c_str(), &actions, nullptr, argv.data(), environ) == 0) {
      int status = 0;
      waitpid(pid, &status, 0);
      run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    run.out = io::ReadFile(*io::Env::Default(), out, 16 * 1024 * 1024).value_or("");
    run.err = io::ReadFile(*io::Env::Default(), err, 16 * 1024 * 1024).value_or("");
    return run;
  }

  std::string WritePassword(const std::string& name, const std::string& content) {
    fs::path p = tmp_.path() / name;
    std::ofstream(p) << content;
    return p.string();
  }

  TempDir tmp_;
  fs::path binary_;
};

TEST_F(CliTest, InitAddListEndToEnd) {
  std::string data = (tmp_.path() / "data").string();
  std::string admin_pw = WritePassword("admin.pw", "admin-secret\n");
  CliRun init = Medledger({"init", "--data", data, "--org", "General Hospital", "--admin-password-file", admin_pw});
  ASSERT_EQ(init.code, 0) << init.err;
  EXPECT_NE(init.out.find("GeneralHospitalMSP"), std::string::npos) << init.out;
  EXPECT_FALSE(fs::exists(fs::path(data) / "keys" / "initial-admin-password"));

  CliRun again = Medledger({"init", "--data", data, "--org", "General Hospital"});
  EXPECT_EQ(again.code, 3);
  EXPECT_NE(again.err.find("data_dir_not_empty"), std::string::npos) << again.err;

  std::string pw = WritePassword("doc.pw", "doctor-secret\r\n");
  CliRun add = Medledger({"user", "add", "--data", data, "--name", "dr.who", "--role", "doctor", "--display-name",
                          "The Doctor", "--password-file", pw});
  ASSERT_EQ(add.code, 0) << add.err;
  CliRun dup = Medledger({"user", "add", "--data", data, "--name", "dr.who", "--role", "patient"});
  EXPECT_EQ(dup.code, 3);
  EXPECT_NE(dup.err.find("user_exists"), std::string::npos);
  EXPECT_EQ(Medledger({"user", "add", "--data", data, "--name", "Bad!", "--role", "patient"}).code, 2);
  EXPECT_NE(Medledger({"user", "add", "--data", data, "--name", "x", "--role", "nurse"}).code, 0);
  std::string weak = WritePassword("weak.pw", "short");
  CliRun weak_run =
      Medledger({"user", "add", "--data", data, "--name", "p", "--role", "patient", "--password-file", weak});
  EXPECT_EQ(weak_run.code, 2);
  EXPECT_NE(weak_run.err.find("weak_password"), std::string::npos);
  EXPECT_EQ(Medledger({"user", "list", "--data", (tmp_.path() / "none").string()}).code, 4);

  CliRun list = Medledger({"user", "list", "--data", data});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("dr.who"), std::string::npos);
  EXPECT_NE(list.out.find("The Doctor"), std::string::npos);
  EXPECT_NE(list.out.find("2 user(s)"), std::string::npos) << list.out;

  std::string new_pw = WritePassword("new.pw", "regenerated-1");
  EXPECT_EQ(Medledger({"user", "passwd", "--data", data, "--name", "dr.who", "--password-file", new_pw}).code, 0);
  EXPECT_EQ(Medledger({"user", "passwd", "--data", data, "--name", "ghost", "--password-file", new_pw}).code, 4);
  EXPECT_EQ(Medledger({"user", "disable", "--data", data, "--name", "dr.who"}).code, 0);
  CliRun disabled_list = Medledger({"user", "list", "--data", data});
  EXPECT_NE(disabled_list.out.find("disabled"), std::string::npos) << disabled_list.out;
  EXPECT_EQ(Medledger({"user", "enable", "--data", data, "--name", "dr.who"}).code, 0);

  // What the CLI wrote is what the library reads: passwords (with the file's line ending dropped), roles, keys.
  OrganizationOptions fast;
  fast.password_cost = PasswordCost::Minimal();
  auto org = Organization::Open(data, fast).value();
  EXPECT_TRUE(org->users().VerifyPassword("admin", "admin-secret").ok());
  EXPECT_FALSE(org->users().VerifyPassword("dr.who", "doctor-secret").ok());
  EXPECT_TRUE(org->users().VerifyPassword("dr.who", "regenerated-1").ok());
  auto id = org->LoadIdentity("dr.who").value();
  EXPECT_EQ(id.certificate().FabricAttributes().value().at("role"), "doctor");
}

TEST_F(CliTest, InitGeneratesAnAdminPasswordWhenNoneIsGiven) {
  std::string data = (tmp_.path() / "data").string();
  ASSERT_EQ(Medledger({"init", "--data", data, "--org", "Clinic"}).code, 0);
  fs::path pw_file = fs::path(data) / "keys" / "initial-admin-password";
  struct stat st {};
  ASSERT_EQ(::stat(pw_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string pw = ReadPasswordFile(pw_file).value();
  EXPECT_EQ(pw.size(), 24u);
  OrganizationOptions fast;
  fast.password_cost = PasswordCost::Minimal();
  EXPECT_TRUE(Organization::Open(data, fast).value()->users().VerifyPassword("admin", pw).ok());
}

TEST(PasswordFile, TrimsOneLineEndingAndValidates) {
  TempDir tmp;
  auto write = [&](const std::string& content) {
    fs::path p = tmp.path() / "pw";
    std::ofstream(p, std::ios::trunc) << content;
    return p;
  };
  EXPECT_EQ(ReadPasswordFile(write("password1\n")).value(), "password1");
  EXPECT_EQ(ReadPasswordFile(write("password1\r\n")).value(), "password1");
  EXPECT_EQ(ReadPasswordFile(write("password1\n\n")).value(), "password1\n");
  EXPECT_EQ(ReadPasswordFile(write(" spaces kept ")).value(), " spaces kept ");
  EXPECT_EQ(ReadPasswordFile(write("short\n")).error().code, "weak_password");
  EXPECT_EQ(ReadPasswordFile(write(std::string(5000, 'x'))).error().code, "bad_password_file");
  EXPECT_EQ(ReadPasswordFile(tmp.path() / "absent").error().code, "bad_password_file");
}

}  // namespace
}  // namespace medledger::identity
