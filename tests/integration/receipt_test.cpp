// A receipt end to end, with every party real: the test TSA (`openssl ts -reply` behind HTTP), a witness made
// with `medledger witness keygen` and run with `medledger witness --once`, the server (`serve --demo` with
// --tsa-url/--tsa-root/--witness), the trust directory from `medledger log export-trust`, and the offline
// verifier `medledger receipt verify`. The untouched receipt verifies with the document; one flipped byte in
// any part of it, or of the document, fails with the check named. `openssl ts -verify` accepts the token over
// the checkpoint, and after the server stops `medledger verify` re-derives the log from the blocks.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/encoding.h"
#include "server_harness.h"
#include "temp_dir.h"
#include "tsa_server_process.h"

namespace medledger::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

void WriteFile(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string FirstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// Flips one bit of the byte at `at` (negative: from the end).
std::string FlipByte(std::string bytes, long at) {
  const size_t i = at < 0 ? bytes.size() - static_cast<size_t>(-at) : static_cast<size_t>(at);
  bytes[i] = static_cast<char>(bytes[i] ^ 0x01);
  return bytes;
}

// The same for a base64 field: decoded, flipped, re-encoded (so the receipt still parses).
std::string FlipBase64(const std::string& b64, long at) {
  return Base64Encode(FlipByte(Base64Decode(b64).value(), at));
}

// A base64 character swapped for another, for signature lines ("— name <base64>").
std::string FlipLastBase64Char(std::string line) {
  size_t i = line.find_last_not_of("=\n");
  line[i] = line[i] == 'A' ? 'B' : 'A';
  return line;
}

class ReceiptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = TsaServerUnavailableReason(); !why.empty()) GTEST_SKIP() << why;
    tsa_ = std::make_unique<TsaServerProcess>();
    ASSERT_TRUE(tsa_->ready()) << "the test TSA did not start";
  }

  CommandResult Verify(const fs::path& receipt, const std::string& extra) {
    return RunMedledger("receipt verify '" + receipt.string() + "' --trust '" + dir_.Sub("trust") + "' " + extra);
  }

  TempDir dir_{"ml-receipt"};
  std::unique_ptr<TsaServerProcess> tsa_;
};

TEST_F(ReceiptTest, AReceiptVerifiesOfflineAndEveryTamperIsNamed) {
  // The witness's key, made before the server so the server can list it.
  auto keygen = RunMedledger("witness keygen --name witness.test/w1 --out '" + dir_.Sub("w1.key") + "'");
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  const std::string witness_vkey = FirstLine(keygen.output);
  ASSERT_NE(witness_vkey.find("witness.test/w1+"), std::string::npos) << keygen.output;

  ServerProcess server({"--tsa-url", tsa_->url(), "--tsa-root", tsa_->root_pem_path(), "--witness", witness_vkey,
                        "--checkpoint-interval-ms", "200"});
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string data = server.data_dir() + "/data";
  const std::string doctor = server.Login("dr.house");
  const std::string patient_token = server.Login("alice");
  const std::string alice = ParseBody(server.Get("/api/v1/me", patient_token)).value("patientId", "");
  ASSERT_FALSE(alice.empty());

  json body = {{"patientId", alice},
               {"title", "Cardiology"},
               {"diagnosis", "Sinus rhythm"},
               {"content", "ECG normal, 72 bpm. Receipt test."}};
  auto created = server.PostJson("/api/v1/reports", body.dump(), doctor);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = ParseBody(created).value("reportId", "");
  const std::string receipt_path = "/api/v1/reports/" + id + "/receipt";

  // Not ready until a published checkpoint covers the report's leaf (409 receipt_not_ready), then 200.
  auto poll = [&](const std::function<bool(const json&)>& done) {
    HttpResult r;
    for (int i = 0; i < 300; ++i) {
      r = server.Get(receipt_path, doctor);
      if (r.status == 200 && done(ParseBody(r))) return r;
      if (r.status != 200) {
        EXPECT_EQ(r.status, 409) << r.body;
        EXPECT_EQ(ProblemCode(r), "receipt_not_ready") << r.body;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no receipt: " << r.status << " " << r.body;
    return r;
  };
  auto first = poll([](const json&) { return true; });
  ASSERT_EQ(first.status, 200);
  EXPECT_NE(first.Header("content-type").find("application/vnd.medledger.receipt+json"), std::string::npos);
  // Numbers in the query are whole decimal numbers in range, or a precise 400.
  for (const char* bad : {"?version=0", "?version=-1", "?version=1x", "?version=", "?version=99999999999999999999"}) {
    auto r = server.Get(receipt_path + bad, doctor);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(ProblemCode(r), "invalid_parameter") << bad;
  }
  EXPECT_EQ(server.Get(receipt_path + "?version=1", doctor).status, 200);
  for (const char* bad : {"?from=1", "?from=a&to=2", "?from=1&to=2x", "?from=1&to=12345678901234567890"}) {
    auto r = server.Get(std::string("/api/v1/log/proof/consistency") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(ProblemCode(r), "invalid_parameter") << bad;
  }

  // The witness cosigns the log's current checkpoint (it covers the report); the receipt then carries it.
  WriteFile(dir_.Sub("log.vkey"), server.Get("/log/vkey").body);
  auto witnessed = RunMedledger("witness --log " + server.base_url() + " --log-key '" + dir_.Sub("log.vkey") +
                                "' --key '" + dir_.Sub("w1.key") + "' --state '" + dir_.Sub("wstate") + "' --once");
  ASSERT_EQ(witnessed.exit_code, 0) << witnessed.output;
  auto cosigned = poll([](const json& r) { return !r["log"]["cosignatures"].empty(); });
  ASSERT_EQ(cosigned.status, 200);
  const json receipt = ParseBody(cosigned);
  ASSERT_FALSE(receipt["log"].value("timestampToken", "").empty()) << "the checkpoint was not time-stamped";
  // The demo's seeded reports come first, so the leaf has siblings and the proof hashes to tamper with.
  ASSERT_FALSE(receipt["log"]["inclusionProof"].empty()) << cosigned.body;
  const fs::path receipt_file = dir_.Sub("receipt.json");
  WriteFile(receipt_file, cosigned.body);

  // The document the report's contentHash covers, as the web app's Verify reads it.
  auto document = server.Get("/api/v1/reports/" + id + "/document", doctor);
  ASSERT_EQ(document.status, 200);
  const fs::path document_file = dir_.Sub("document.bin");
  WriteFile(document_file, document.body);

  auto exported = RunMedledger("log export-trust --data '" + data + "' --out '" + dir_.Sub("trust") + "'");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  for (const char* f : {"org-root.pem", "log.vkey", "witnesses.vkeys", "tsa-roots.pem"}) {
    EXPECT_TRUE(fs::exists(dir_.path() / "trust" / f)) << f;
  }

  auto ok = Verify(receipt_file, "--document '" + document_file.string() + "' --min-witnesses 1");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("PASS  cosignatures: Independent witnesses saw the same checkpoint\n      witness.test/w1"),
            std::string::npos)
      << ok.output;
  // The stored envelope instead of the document: its CID is the receipt's (version 1 is the latest here).
  auto ciphertext = server.Get("/api/v1/reports/" + id + "/ciphertext", doctor);
  ASSERT_EQ(ciphertext.status, 200);
  WriteFile(dir_.Sub("ciphertext.bin"), ciphertext.body);
  auto by_cid = Verify(receipt_file, "--ciphertext '" + dir_.Sub("ciphertext.bin") + "' --min-witnesses 1");
  EXPECT_EQ(by_cid.exit_code, 0) << by_cid.output;
  WriteFile(dir_.Sub("ciphertext-tampered.bin"), FlipByte(ciphertext.body, 100));
  auto bad_cid = Verify(receipt_file, "--ciphertext '" + dir_.Sub("ciphertext-tampered.bin") + "'");
  EXPECT_EQ(bad_cid.exit_code, 1) << bad_cid.output;
  EXPECT_NE(bad_cid.output.find("FAIL  ciphertext:"), std::string::npos) << bad_cid.output;

  // `openssl ts -verify` accepts the token over the checkpoint text, independently of our code.
  WriteFile(dir_.Sub("checkpoint.txt"), receipt["log"]["checkpoint"].get<std::string>());
  WriteFile(dir_.Sub("token.der"), Base64Decode(receipt["log"]["timestampToken"].get<std::string>()).value());
  const std::string openssl = "openssl ts -verify -data '" + dir_.Sub("checkpoint.txt") + "' -in '" +
                              dir_.Sub("token.der") + "' -token_in -CAfile '" + tsa_->root_pem_path() + "' 2>&1";
  EXPECT_EQ(std::system(openssl.c_str()), 0) << openssl;

  // One byte flipped in each part: verify exits 1 and names the failing check.
  struct Tamper {
    const char* what;
    std::function<void(json&)> change;
    const char* named;  // the failing check as `receipt verify` prints it
  };
  const std::vector<Tamper> tampers = {
      {"leaf data", [](json& r) { r["leaf"]["data"] = FlipBase64(r["leaf"]["data"], 30); }, "FAIL  leaf:"},
      {"inclusion proof hash",
       [](json& r) { r["log"]["inclusionProof"][0] = FlipBase64(r["log"]["inclusionProof"][0], 5); },
       "FAIL  inclusion:"},
      {"checkpoint",
       [](json& r) {
         std::string c = r["log"]["checkpoint"];
         const size_t root = c.find('\n', c.find('\n') + 1) + 1;  // the base64 root line
         c[root] = c[root] == 'A' ? 'B' : 'A';
         r["log"]["checkpoint"] = c;
       },
       "FAIL  checkpoint:"},
      {"cosignature", [](json& r) { r["log"]["cosignatures"][0] = FlipLastBase64Char(r["log"]["cosignatures"][0]); },
       "FAIL  cosignatures:"},
      {"timestamp token", [](json& r) { r["log"]["timestampToken"] = FlipBase64(r["log"]["timestampToken"], -10); },
       "FAIL  timestamp:"},
      {"envelope", [](json& r) { r["ledger"]["envelope"] = FlipBase64(r["ledger"]["envelope"], -20); },
       "FAIL  ledger_evidence:"},
  };
  for (const auto& t : tampers) {
    json changed = receipt;
    t.change(changed);
    ASSERT_NE(changed, receipt) << t.what;
    const fs::path file = dir_.Sub("tampered.json");
    WriteFile(file, changed.dump());
    auto r = Verify(file, "--document '" + document_file.string() + "' --min-witnesses 1");
    EXPECT_EQ(r.exit_code, 1) << t.what << ":\n" << r.output;
    EXPECT_NE(r.output.find(t.named), std::string::npos) << t.what << ":\n" << r.output;
  }
  WriteFile(dir_.Sub("document-tampered.bin"), FlipByte(document.body, static_cast<long>(document.body.size() / 2)));
  auto bad_doc = Verify(receipt_file, "--document '" + dir_.Sub("document-tampered.bin") + "' --min-witnesses 1");
  EXPECT_EQ(bad_doc.exit_code, 1) << bad_doc.output;
  EXPECT_NE(bad_doc.output.find("FAIL  document:"), std::string::npos) << bad_doc.output;

  // Without the cosignature the receipt does not meet --min-witnesses 1.
  json uncosigned = receipt;
  uncosigned["log"]["cosignatures"] = json::array();
  WriteFile(dir_.Sub("uncosigned.json"), uncosigned.dump());
  EXPECT_EQ(Verify(dir_.Sub("uncosigned.json"), "--min-witnesses 1").exit_code, 1);

  // Input that is no receipt at all is unusable (2), not a failed check (1).
  WriteFile(dir_.Sub("not-a-receipt.json"), "{\"format\":\"something else\"}");
  EXPECT_EQ(Verify(dir_.Sub("not-a-receipt.json"), "").exit_code, 2);

  // The log, re-derived from the blocks once the server has stopped, matches the stored tree and the anchors.
  ASSERT_EQ(server.Stop(), 0);
  auto audited = RunMedledger("verify --data '" + data + "'");
  EXPECT_EQ(audited.exit_code, 0) << audited.output;
  EXPECT_NE(audited.output.find("report log OK"), std::string::npos) << audited.output;
  EXPECT_EQ(audited.output.find(" 0 cosignatures verify"), std::string::npos) << audited.output;
  // One flipped bit in a stored leaf hash (the receipt's own leaf) is named with its index, by the text and the
  // JSON report.
  const uint64_t index = receipt["leaf"]["index"].get<uint64_t>();
  const fs::path hashes = fs::path(data) / "log" / "tree" / "level-0.hashes";
  WriteFile(hashes, FlipByte(ReadFile(hashes), static_cast<long>(index * 32 + 7)));
  auto tampered = RunMedledger("verify --data '" + data + "'");
  EXPECT_EQ(tampered.exit_code, 1) << tampered.output;
  EXPECT_NE(tampered.output.find("report log verification FAILED: log_hash_mismatch at " + std::to_string(index)),
            std::string::npos)
      << tampered.output;
  auto as_json = RunMedledger("verify --data '" + data + "' --json");
  EXPECT_EQ(as_json.exit_code, 1);
  const json report = json::parse(as_json.output.substr(as_json.output.find('{')), nullptr, false);
  ASSERT_TRUE(report.is_object()) << as_json.output;
  EXPECT_EQ(report["log"].value("problem", ""), "log_hash_mismatch");
  EXPECT_EQ(report["log"].value("at", uint64_t{0}), index);
}

}  // namespace
}  // namespace medledger::testing
