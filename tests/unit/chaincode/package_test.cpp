#include "chaincode/package.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "source_dir.h"

namespace medledger::chaincode {
namespace {

std::map<std::string, std::string> Extract(const std::string& targz) {
  auto tar = Gunzip(targz);
  EXPECT_TRUE(tar.ok());
  auto entries = Untar(*tar);
  EXPECT_TRUE(entries.ok());
  std::map<std::string, std::string> out;
  for (auto& e : *entries) out[e.name] = e.data;
  return out;
}

TEST(CcaasPackage, HoldsMetadataAndConnectionJson) {
  PackageOptions o;
  o.label = "records_1.0";
  o.address = "127.0.0.1:9999";
  auto pkg = BuildCcaasPackage(o);
  ASSERT_TRUE(pkg.ok()) << pkg.error().ToString();
  auto outer = Extract(*pkg);
  ASSERT_EQ(outer.size(), 2u);
  auto meta = nlohmann::json::parse(outer.at("metadata.json"));
  EXPECT_EQ(meta["type"], "ccaas");
  EXPECT_EQ(meta["label"], "records_1.0");
  auto inner = Extract(outer.at("code.tar.gz"));
  auto conn = nlohmann::json::parse(inner.at("connection.json"));
  EXPECT_EQ(conn["address"], "127.0.0.1:9999");
  EXPECT_EQ(conn["tls_required"], false);
  EXPECT_FALSE(conn.contains("root_cert"));
}

TEST(CcaasPackage, IsReproducibleAndReadableByStandardTar) {
  PackageOptions o;
  o.address = "chaincode.example:7052";
  o.tls_required = true;
  o.root_cert = "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n";
  auto a = BuildCcaasPackage(o);
  auto b = BuildCcaasPackage(o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);  // mtime 0: same inputs, same bytes, same package ID on every peer

  auto dir = std::filesystem::temp_directory_path() / ("ccaas-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "pkg.tar.gz", std::ios::binary);
    f << *a;
  }
  std::string cmd =
      "cd '" + dir.string() + "' && tar -xzf pkg.tar.gz && tar -xzf code.tar.gz && test -s connection.json";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream conn(dir / "connection.json");
  auto j = nlohmann::json::parse(conn);
  EXPECT_EQ(j["tls_required"], true);
  EXPECT_EQ(j["root_cert"], o.root_cert);
  std::filesystem::remove_all(dir);
}

TEST(CcaasPackage, RejectsBadOptions) {
  PackageOptions o;
  o.address = "127.0.0.1:9999";
  o.label = "bad label/../";
  EXPECT_EQ(BuildCcaasPackage(o).error().code, "bad_label");
  o.label = "ok";
  o.address = "nohostport";
  EXPECT_EQ(BuildCcaasPackage(o).error().code, "bad_address");
  o.address = "h:1";
  o.tls_required = true;
  EXPECT_EQ(BuildCcaasPackage(o).error().code, "missing_root_cert");
  o.root_cert = "x";
  o.client_auth_required = true;
  EXPECT_EQ(BuildCcaasPackage(o).error().code, "missing_client_cert");
}

TEST(Archive, CorruptInputsGiveErrors) {
  EXPECT_FALSE(Gunzip("not gzip").ok());
  std::string tar = Tar({{"a", "hello"}});
  tar[10] ^= 1;  // breaks the header checksum
  EXPECT_EQ(Untar(tar).error().code, "bad_tar");
  std::string truncated = Tar({{"a", std::string(2000, 'x')}}).substr(0, 700);
  EXPECT_FALSE(Untar(truncated).ok());
}

}  // namespace
}  // namespace medledger::chaincode

namespace medledger::chaincode {
namespace {

// The project's external builder (fabric/builders/ccaas) must accept the package this code writes, and
// hand the peer the same connection.json: run detect/build/release as the peer would.
TEST(ExternalBuilder, DetectBuildReleaseOnOurPackage) {
  const char* src_root = std::getenv("MEDLEDGER_SOURCE_DIR");
  std::filesystem::path root = src_root ? src_root : MEDLEDGER_SOURCE_DIR;
  auto bin = root / "fabric/builders/ccaas/bin";
  ASSERT_TRUE(std::filesystem::exists(bin / "detect"));

  PackageOptions o;
  o.address = "127.0.0.1:9999";
  auto pkg = BuildCcaasPackage(o);
  ASSERT_TRUE(pkg.ok());
  auto dir = std::filesystem::temp_directory_path() / ("builder-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "pkg");
  for (auto sub : {"src", "meta", "build", "release"}) std::filesystem::create_directories(dir / sub);
  {
    std::ofstream f(dir / "pkg/p.tar.gz", std::ios::binary);
    f << *pkg;
  }
  // The peer unpacks metadata.json into the metadata dir and code.tar.gz into the source dir.
  std::string d = dir.string();
  std::string b = bin.string();
  std::string cmd = "set -e; cd '" + d +
                    "/pkg' && tar -xzf p.tar.gz && cp metadata.json ../meta/ && tar -xzf code.tar.gz -C ../src && '" +
                    b + "/detect' '" + d + "/src' '" + d + "/meta' && '" + b + "/build' '" + d + "/src' '" + d +
                    "/meta' '" + d + "/build' && '" + b + "/release' '" + d + "/build' '" + d + "/release' && cmp '" +
                    d + "/src/connection.json' '" + d + "/release/chaincode/server/connection.json'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);

  // detect refuses a package of another type.
  {
    std::ofstream f(dir / "meta/metadata.json");
    f << R"({"type":"golang","label":"x"})";
  }
  std::string refuse = "'" + b + "/detect' '" + d + "/src' '" + d + "/meta'";
  EXPECT_NE(std::system(refuse.c_str()), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medledger::chaincode
