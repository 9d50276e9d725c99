// `medledger cid`: the CID `ipfs add --only-hash` would print for a file.
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "content/importer.h"

namespace medledger::app {
namespace {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorKind::kNotFound, "file_not_found", "cannot open " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return MakeError(ErrorKind::kIoError, "read_failed", "cannot read " + path);
  return std::move(buf).str();
}

struct CidOptions {
  std::string file;
  int cid_version = 0;
  std::optional<bool> raw_leaves;
};

void RunCid(const CidOptions& opts) {
  auto bytes = ReadWholeFile(opts.file);
  if (!bytes.ok()) Fail(bytes.error());
  auto cid = content::ComputeCid(*bytes, content::ImportOptions::Ipfs(opts.cid_version, opts.raw_leaves));
  if (!cid.ok()) Fail(cid.error());
  std::cout << cid->ToString() << "\n";
}

}  // namespace

void AddContentCommands(CLI::App& app) {
  auto cid_opts = std::make_shared<CidOptions>();
  CLI::App* cid = app.add_subcommand("cid", "Print a file's IPFS CID, exactly as `ipfs add --only-hash` would");
  cid->add_option("FILE", cid_opts->file, "The file to hash")->required();
  cid->add_option("--cid-version", cid_opts->cid_version, "0 (ipfs default) or 1")->check(CLI::IsMember({0, 1}));
  cid->add_option("--raw-leaves", cid_opts->raw_leaves, "Raw leaf blocks (default: true with CIDv1, else false)");
  cid->callback([cid_opts] { RunCid(*cid_opts); });
}

}  // namespace medledger::app
