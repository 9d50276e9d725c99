#include "http/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace medledger::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ml-static-XXXXXX";
    base_ = mkdtemp(tmpl);
    fs::create_directories(base_ / "web" / "assets");
    Write(base_ / "web" / "index.html", "<html>app</html>");
    Write(base_ / "web" / "assets" / "app.js", "console.log(1)");
    Write(base_ / "web" / ".env", "SECRET=1");
    Write(base_ / "secret.txt", "outside");
    fs::create_symlink(base_ / "secret.txt", base_ / "web" / "link.txt");
  }
  void TearDown() override { fs::remove_all(base_); }
  static void Write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
  fs::path base_;
};

TEST_F(StaticFilesTest, ServesFilesWithTypesAndSpaFallback) {
  StaticFiles files(base_ / "web");
  auto js = files.Serve("/assets/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->body, "console.log(1)");
  EXPECT_EQ(js->Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js->Header("Cache-Control").find("immutable"), std::string::npos);
  auto root = files.Serve("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->body, "<html>app</html>");
  auto deep = files.Serve("/reports/123/proof");  // a client-side route
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->body, "<html>app</html>");
  EXPECT_EQ(deep->Header("Cache-Control"), "no-cache");
  EXPECT_FALSE(files.Serve("/assets/missing.js"));  // missing assets are 404s, not the shell
}

TEST_F(StaticFilesTest, RefusesTraversalDotFilesAndSymlinkEscapes) {
  StaticFiles files(base_ / "web");
  for (const char* p : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/.env", "/link.txt",
                        "/a%00b.js", "/assets\\..\\secret.txt"}) {
    auto r = files.Serve(p);
    if (r) {
      EXPECT_EQ(r->body, "<html>app</html>") << p;  // at worst the app shell, never the file
    }
    if (r) {
      EXPECT_EQ(r->body.find("outside"), std::string::npos) << p;
      EXPECT_EQ(r->body.find("SECRET"), std::string::npos) << p;
    }
  }
  EXPECT_FALSE(files.Serve("/../secret.txt"));
  EXPECT_FALSE(files.Serve("/.env"));
}

}  // namespace
}  // namespace medledger::http
