#include "identity/data_format.h"

#include <gtest/gtest.h>

#include <fstream>

#include "identity/organization.h"
#include "temp_dir.h"

namespace medledger::identity {
namespace {

using medledger::testing::TempDir;
namespace fs = std::filesystem;

void WriteText(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// A release that writes version 2 of "ledger.state" and can migrate it from version 1.
FormatSupport NextRelease() {
  FormatSupport s = ThisReleaseSupport();
  s["ledger.state"] = {2, 1};
  return s;
}

class DataFormatTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  fs::path dir_ = tmp_.path();
};

TEST_F(DataFormatTest, WritesAndReadsBackEveryStoreOfTheDesign) {
  ASSERT_TRUE(WriteDataFormat(dir_, CurrentDataFormat()).ok());
  auto read = ReadDataFormat(dir_);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->written_by, kReleaseName);
  const std::map<std::string, int> expected = {{"ledger.blocks", 1}, {"ledger.state", 1}, {"content", 1},
                                               {"keystore", 1},      {"reportlog", 1},    {"identity", 1},
                                               {"patients", 1}};
  EXPECT_EQ((*read)->formats, expected);
  auto check = CheckDataFormat(dir_);
  ASSERT_TRUE(check.ok()) << check.error().ToString();
  EXPECT_TRUE(check->file_present);
}

TEST_F(DataFormatTest, MissingFileIsVersionOneOfEveryStoreAndIsNeverWritten) {
  auto check = CheckDataFormat(dir_);
  ASSERT_TRUE(check.ok()) << check.error().ToString();
  EXPECT_FALSE(check->file_present);
  for (const auto& [name, s] : ThisReleaseSupport()) EXPECT_EQ(check->found.formats.at(name), 1) << name;
  EXPECT_FALSE(fs::exists(dir_ / kFormatFileName)) << "a check must never write";
  // For a release at version 2 of a store, the same directory must be upgraded first.
  auto next = CheckDataFormat(dir_, NextRelease());
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, "format_upgrade_required");
}

TEST_F(DataFormatTest, TooNewNamesTheStoreTheVersionAndTheReleaseThatWroteIt) {
  WriteText(dir_ / kFormatFileName,
            R"({"formats": {"ledger.blocks": 1, "ledger.state": 3, "content": 1}, "writtenBy": "medledger 7.2.0"})");
  auto check = CheckDataFormat(dir_);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code, "format_too_new");
  EXPECT_EQ(check.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(check.error().message, dir_.string() +
                                       " was written by medledger 7.2.0: store 'ledger.state' is at format version 3, "
                                       "medledger 0.1.0 reads up to version 1; run that release or a newer one");
}

TEST_F(DataFormatTest, AStoreThisReleaseDoesNotKnowIsTooNew) {
  WriteText(dir_ / kFormatFileName, R"({"formats": {"ledger.blocks": 1, "archive": 1}, "writtenBy": "medledger 2.0"})");
  auto check = CheckDataFormat(dir_);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code, "format_too_new");
  EXPECT_NE(check.error().message.find("store 'archive'"), std::string::npos) << check.error().message;
  EXPECT_NE(check.error().message.find("medledger 2.0"), std::string::npos) << check.error().message;
}

TEST_F(DataFormatTest, OlderMigratableVersionRequiresUpgradeNamingTheCommand) {
  ASSERT_TRUE(WriteDataFormat(dir_, CurrentDataFormat()).ok());
  auto check = CheckDataFormat(dir_, NextRelease());
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code, "format_upgrade_required");
  EXPECT_EQ(check.error().message, dir_.string() +
                                       ": store 'ledger.state' is at format version 1, medledger 0.1.0 uses version 2; "
                                       "stop the server, back the directory up (medledger backup), then run "
                                       "`medledger upgrade --data " +
                                       dir_.string() + "`");
  // `medledger upgrade` itself is let through.
  auto upgrading = CheckDataFormat(dir_, NextRelease(), /*allow_upgradable=*/true);
  ASSERT_TRUE(upgrading.ok()) << upgrading.error().ToString();
  EXPECT_EQ(upgrading->found.formats.at("ledger.state"), 1);
}

TEST_F(DataFormatTest, BelowTheOldestMigratableIsTooOld) {
  FormatSupport far = ThisReleaseSupport();
  far["content"] = {5, 3};
  WriteText(dir_ / kFormatFileName, R"({"formats": {"content": 2}})");
  auto check = CheckDataFormat(dir_, far, /*allow_upgradable=*/true);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code, "format_too_old");
}

TEST_F(DataFormatTest, CorruptFilesAreRefusedPrecisely) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "not a JSON object"},
      {"{\"formats\": ", "not a JSON object"},
      {"[1, 2]", "not a JSON object"},
      {"{}", "no \"formats\" object"},
      {R"({"formats": {}})", "no \"formats\" object"},
      {R"({"formats": [1]})", "no \"formats\" object"},
      {R"({"formats": {"content": "1"}})", "store 'content' has no positive integer version"},
      {R"({"formats": {"content": 0}})", "store 'content' has no positive integer version"},
      {R"({"formats": {"content": 1.5}})", "store 'content' has no positive integer version"},
      {R"({"formats": {"content": 1}, "writtenBy": 3})", "\"writtenBy\" is not a short string"},
  };
  for (const auto& [text, why] : cases) {
    WriteText(dir_ / kFormatFileName, text);
    auto check = CheckDataFormat(dir_);
    ASSERT_FALSE(check.ok()) << text;
    EXPECT_EQ(check.error().code, "format_corrupt") << text;
    EXPECT_EQ(check.error().kind, ErrorKind::kCorruption) << text;
    EXPECT_NE(check.error().message.find(why), std::string::npos) << text << ": " << check.error().message;
  }
  WriteText(dir_ / kFormatFileName, std::string(100 * 1024, ' '));
  EXPECT_EQ(CheckDataFormat(dir_).error().code, "format_corrupt");
}

TEST_F(DataFormatTest, OrganizationCreateWritesTheFileAndOpenRefusesATooNewDirectory) {
  CreateOrganizationOptions create;
  create.password_cost = PasswordCost::Minimal();
  create.admin_password = "admin-password";
  const fs::path data = dir_ / "data";
  ASSERT_TRUE(Organization::Create(data, "Format Hospital", create).ok());
  auto written = ReadDataFormat(data);
  ASSERT_TRUE(written.ok() && written->has_value());
  EXPECT_EQ((*written)->formats, CurrentDataFormat().formats);

  OrganizationOptions open;
  open.password_cost = PasswordCost::Minimal();
  ASSERT_TRUE(Organization::Open(data, open).ok());
  // A directory from before format versions opens, and the open does not write the file.
  fs::remove(data / kFormatFileName);
  ASSERT_TRUE(Organization::Open(data, open).ok());
  EXPECT_FALSE(fs::exists(data / kFormatFileName));

  WriteText(data / kFormatFileName, R"({"formats": {"identity": 2}, "writtenBy": "medledger 9.0.0"})");
  auto refused = Organization::Open(data, open);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "format_too_new");
  WriteText(data / kFormatFileName, "not json");
  EXPECT_EQ(Organization::Open(data, open).error().code, "format_corrupt");
}

}  // namespace
}  // namespace medledger::identity
