// Go's reference transparency-log code (Debian's golang.org/x/mod/sumdb/tlog and sumdb/note) checks our
// roots, proofs, tiles, key strings and signed checkpoints, and we check its. Skipped, with the reason, when
// Go or the x/mod sources are not installed (scripts/setup.sh installs golang-go golang-golang-x-mod-dev).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "source_dir.h"
#include "temp_dir.h"
#include "tlog/checkpoint.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"
#include "tlog/note.h"
#include "tlog/tree_store.h"

namespace medledger::tlog {
namespace {

constexpr const char* kGoPath = "/usr/share/gocode";

struct CmdResult {
  int status = -1;
  std::string output;
};

CmdResult Shell(const std::string& command) {
  CmdResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Builds the Go program once per test binary; returns its path, or an empty string and the reason.
std::string BuildCrosscheck(std::string* why) {
  static std::string path;
  static std::string reason;
  static bool done = false;
  if (done) {
    *why = reason;
    return path;
  }
  done = true;
  if (Shell("command -v go").status != 0) {
    reason = "the go command is not installed (apt-get install golang-go)";
  } else if (!std::filesystem::exists(std::string(kGoPath) + "/src/golang.org/x/mod/sumdb/tlog/tlog.go") ||
             !std::filesystem::exists(std::string(kGoPath) + "/src/golang.org/x/mod/sumdb/note/note.go")) {
    reason = "golang.org/x/mod is not in /usr/share/gocode (apt-get install golang-golang-x-mod-dev)";
  } else {
    const std::string out_dir = std::string(MEDLEDGER_BUILD_DIR) + "/tests/peers";
    std::filesystem::create_directories(out_dir);
    const std::string bin = out_dir + "/tlog_crosscheck";
    const std::string cmd = "cd " + Quote(std::string(MEDLEDGER_SOURCE_DIR) + "/tests/peers/tlog_crosscheck") +
                            " && GO111MODULE=off GOPATH=" + kGoPath + " GOCACHE=" + Quote(out_dir + "/go-cache") +
                            " GOFLAGS= go build -o " + Quote(bin) + " .";
    CmdResult r = Shell(cmd);
    if (r.status != 0) {
      // Go is installed but our program does not build: that is a failure, not a skip.
      ADD_FAILURE() << "building the Go cross-check failed:\n" << r.output;
      reason = "build failed";
    } else {
      path = bin;
    }
  }
  *why = reason;
  return path;
}

std::string B64(std::string_view s) {
  return Base64Encode(s);
}

std::string ProofFields(const std::vector<std::string>& proof) {
  std::string out;
  for (const auto& h : proof) out += " " + B64(h);
  return out;
}

void WriteFile(const std::filesystem::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

class GoCrosscheck : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    bin_ = BuildCrosscheck(&why);
    if (bin_.empty()) GTEST_SKIP() << "Go cross-check skipped: " << why;
  }
  CmdResult Verify(const std::string& content) {
    const auto file = dir_.path() / "cpp.txt";
    WriteFile(file, content);
    return Shell(Quote(bin_) + " verify " + Quote(file.string()));
  }
  std::string bin_;
  testing::TempDir dir_{"tlog-go"};
};

// Our tree (a TreeStore on disk, three tile levels' worth of shapes), proofs, tiles, log key and signed
// checkpoint, checked by Go's tlog and note packages.
TEST_F(GoCrosscheck, GoVerifiesOurTreeProofsTilesAndNotes) {
  auto store = TreeStore::Open(dir_.path() / "log").value();
  std::string file;
  constexpr uint64_t kN = 600;
  for (uint64_t i = 0; i < kN; ++i) {
    const std::string leaf = i == 0 ? std::string() : "c++ leaf " + std::to_string(i) + std::string(i % 23, '+');
    ASSERT_TRUE(store->Append(leaf).ok());
    file += "leaf " + B64(leaf) + "\n";
  }
  ASSERT_TRUE(store->Commit(kN).ok());
  for (uint64_t size = 1; size <= kN; ++size)
    file += "root " + std::to_string(size) + " " + B64(store->RootHash(size).value()) + "\n";
  for (uint64_t size = 1; size <= kN; size += 1 + size / 4) {
    const std::string root = B64(store->RootHash(size).value());
    for (uint64_t index = 0; index < size; index += 1 + size / 6) {
      file += "inclusion " + std::to_string(index) + " " + std::to_string(size) + " " + root +
              ProofFields(store->InclusionProof(index, size).value()) + "\n";
    }
    for (uint64_t m = 1; m <= size; m += 1 + m / 2) {
      file += "consistency " + std::to_string(m) + " " + std::to_string(size) + " " + B64(store->RootHash(m).value()) +
              " " + root + ProofFields(store->ConsistencyProof(m, size).value()) + "\n";
    }
  }
  for (auto [level, n, width] :
       {std::tuple<int, uint64_t, uint64_t>{0, 0, 256}, {0, 1, 256}, {0, 2, 88}, {0, 2, 1}, {1, 0, 2}, {1, 0, 1}}) {
    file += "tile " + std::to_string(level) + " " + std::to_string(n) + " " + std::to_string(width) + " " +
            B64(store->Tile(level, n, width).value()) + "\n";
  }
  auto log = NoteSigner::Generate("medledger/Org1MSP/reports", SignatureType::kEd25519).value();
  const std::string body = FormatCheckpoint({log.name(), kN, store->RootHash(kN).value(), {}});
  const std::string note = SignNote(body, log).value();
  std::string bad = note;
  bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
  file += "vkey " + log.Verifier().ToString() + "\nnote " + B64(note) + "\nbad-note " + B64(bad) + "\n";
  // A checkpoint with extension lines, and one with a witness cosignature (unknown to Go, ignored by it).
  auto witness = NoteSigner::Generate("witness.example/w1", SignatureType::kCosignatureV1).value();
  const std::string cosigned = note + Cosign(witness, body, 1700000000).value().Line();
  file += "note " + B64(cosigned) + "\n";

  CmdResult r = Verify(file);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("ok "), std::string::npos) << r.output;

  // The harness can fail: a wrong root, a tampered proof and a wrong tile are each refused by Go.
  for (const std::string& wrong :
       {"leaf " + B64("a") + "\nroot 1 " + B64(LeafHash("b")) + "\n",
        "leaf " + B64("a") + "\nleaf " + B64("b") + "\ninclusion 0 2 " + B64(NodeHash(LeafHash("a"), LeafHash("b"))) +
            " " + B64(LeafHash("c")) + "\n",
        file.substr(0, file.find("root ")) + "tile 0 0 2 " + B64(LeafHash("x") + LeafHash("y")) + "\n"}) {
    CmdResult w = Verify(wrong);
    EXPECT_NE(w.status, 0) << w.output;
  }
}

// Go's tree, proofs, key strings and signed checkpoint, checked by our code.
TEST_F(GoCrosscheck, WeVerifyGoTreeProofsAndNotes) {
  const auto file = dir_.path() / "go.txt";
  CmdResult r = Shell(Quote(bin_) + " generate 300 " + Quote(file.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(file);
  MemoryTree tree;
  std::string line;
  std::string vkey;
  std::string skey;
  int roots = 0, inclusions = 0, consistencies = 0, notes = 0;
  auto hash = [](const std::string& s) { return Base64Decode(s).value(); };
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "leaf") {
      std::string data;
      fields >> data;
      tree.AppendLeaf(Base64Decode(data).value());
    } else if (kind == "root") {
      uint64_t size = 0;
      std::string root;
      fields >> size >> root;
      ASSERT_EQ(B64(RootHash(tree, size).value()), root) << "size " << size;
      ++roots;
    } else if (kind == "inclusion" || kind == "consistency") {
      uint64_t a = 0, b = 0;
      std::string r1, r2, h;
      fields >> a >> b >> r1;
      if (kind == "consistency") fields >> r2;
      std::vector<std::string> proof;
      while (fields >> h) proof.push_back(hash(h));
      if (kind == "inclusion") {
        EXPECT_TRUE(VerifyInclusion(tree.StoredHash(0, a).value(), a, b, proof, hash(r1)).ok()) << line;
        EXPECT_EQ(InclusionProof(tree, a, b).value(), proof) << line;
        ++inclusions;
      } else {
        EXPECT_TRUE(VerifyConsistency(a, b, hash(r1), hash(r2), proof).ok()) << line;
        EXPECT_EQ(ConsistencyProof(tree, a, b).value(), proof) << line;
        ++consistencies;
      }
    } else if (kind == "skey") {
      fields >> skey;
    } else if (kind == "vkey") {
      fields >> vkey;
    } else if (kind == "note") {
      std::string b64;
      fields >> b64;
      // Go's signer key string parses here and yields Go's verifier key string, byte for byte.
      auto signer = NoteSigner::Parse(skey);
      ASSERT_TRUE(signer.ok()) << signer.error().ToString();
      EXPECT_EQ(signer->Verifier().ToString(), vkey);
      auto verifier = NoteVerifier::Parse(vkey);
      ASSERT_TRUE(verifier.ok()) << verifier.error().ToString();
      const std::string note = Base64Decode(b64).value();
      auto cp = OpenCheckpoint(note, *verifier);
      ASSERT_TRUE(cp.ok()) << cp.error().ToString();
      EXPECT_EQ(cp->checkpoint.size, 300u);
      EXPECT_EQ(cp->checkpoint.root_hash, RootHash(tree, 300).value());
      // Our signature over the same text with Go's key is Go's signature (Ed25519 is deterministic).
      EXPECT_EQ(SignNote(cp->note.text, *signer).value(), note);
      ++notes;
    }
  }
  EXPECT_EQ(tree.Size(), 300u);
  EXPECT_EQ(roots, 300);
  EXPECT_GT(inclusions, 20);
  EXPECT_GT(consistencies, 20);
  EXPECT_EQ(notes, 1);
}

}  // namespace
}  // namespace medledger::tlog
