// RFC 3161 against a real TSA: tests/peers/tsa_server.mjs answers with `openssl ts -reply`. Tokens are checked
// both in C++ (VerifyToken) and by `openssl ts -verify`, and each must refuse what the other refuses.
// Skipped (with the reason) when Node.js or the openssl command line is not installed.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "crypto/hash.h"
#include "net/http_client.h"
#include "temp_dir.h"
#include "tsa/timestamp_token.h"
#include "tsa/tsa_client.h"
#include "tsa_server_process.h"

namespace medledger::tsa {
namespace {

using testing::TempDir;
using testing::TsaServerProcess;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Runs a shell command; true when it exits 0. Output goes to the test log only on failure of an expectation.
bool RunShell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

class TsaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::TsaServerUnavailableReason().empty()) return;
    tsa_ = std::make_unique<TsaServerProcess>();
    other_ = std::make_unique<TsaServerProcess>(std::vector<std::string>{"--name", "another TSA"});
  }
  static void TearDownTestSuite() {
    tsa_.reset();
    other_.reset();
  }
  void SetUp() override {
    std::string why = testing::TsaServerUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(tsa_ && tsa_->ready()) << "the test TSA did not start";
    ASSERT_TRUE(other_ && other_->ready()) << "the second test TSA did not start";
  }

  static TsaTransport Transport(const TsaServerProcess& server) {
    return net::MakePostTransport(server.url(), kQueryContentType, kReplyContentType, 20000);
  }
  // `openssl ts -verify -data F -in T -token_in -CAfile R`.
  bool OpensslVerifies(std::string_view token, std::string_view data, const std::string& root_pem_path) {
    WriteFile(dir_.Sub("token.der"), token);
    WriteFile(dir_.Sub("data"), data);
    return RunShell("openssl ts -verify -data '" + dir_.Sub("data") + "' -in '" + dir_.Sub("token.der") +
                    "' -token_in -CAfile '" + root_pem_path + "'");
  }

  static std::unique_ptr<TsaServerProcess> tsa_, other_;
  TempDir dir_{"ml-tsa-test"};
};

std::unique_ptr<TsaServerProcess> TsaTest::tsa_;
std::unique_ptr<TsaServerProcess> TsaTest::other_;

constexpr std::string_view kCheckpoint =
    "medledger/Org1MSP/reports\n57\nq1s0ZKRx0Uv9hZcYVnhN8cKXD7nZKJ8sJ0xk0T0q5hE=\n\n— medledger/Org1MSP/reports AAAA\n";

TEST_F(TsaTest, TokenFromTheRealTsaVerifiesInCppAndWithOpenssl) {
  TsaClient client(Transport(*tsa_));
  const Timestamp before = Timestamp::Now();
  auto token = client.Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_TRUE(token.ok()) << token.error().ToString();

  auto verified = VerifyToken(*token, kCheckpoint, tsa_->root_pem());
  ASSERT_TRUE(verified.ok()) << verified.error().ToString();
  EXPECT_GE(verified->gen_time.seconds, before.seconds - 5);
  EXPECT_LE(verified->gen_time.seconds, Timestamp::Now().seconds + 5);
  EXPECT_EQ(verified->gen_time.nanos % 1000000, 0) << "clock_precision_digits = 3: whole milliseconds";
  EXPECT_EQ(verified->policy_oid, "1.3.6.1.4.1.99999.1.1");
  EXPECT_NE(verified->tsa_name.find("CN = medledger test TSA"), std::string::npos) << verified->tsa_name;
  EXPECT_NE(verified->signer_subject.find("CN=medledger test TSA"), std::string::npos) << verified->signer_subject;
  EXPECT_FALSE(verified->serial_hex.empty());
  auto by_digest = VerifyTokenDigest(*token, crypto::Sha256(kCheckpoint), tsa_->root_pem());
  ASSERT_TRUE(by_digest.ok()) << by_digest.error().ToString();
  EXPECT_EQ(by_digest->gen_time, verified->gen_time);

  EXPECT_TRUE(OpensslVerifies(*token, kCheckpoint, tsa_->root_pem_path()));
}

TEST_F(TsaTest, EachTokenHasItsOwnSerial) {
  TsaClient client(Transport(*tsa_));
  auto a = client.Timestamp(crypto::Sha256("a"));
  auto b = client.Timestamp(crypto::Sha256("a"));
  ASSERT_TRUE(a.ok() && b.ok());
  auto va = VerifyToken(*a, "a", tsa_->root_pem());
  auto vb = VerifyToken(*b, "a", tsa_->root_pem());
  ASSERT_TRUE(va.ok() && vb.ok());
  EXPECT_NE(va->serial_hex, vb->serial_hex);
}

TEST_F(TsaTest, TokenRequestedByTheOpensslCliVerifiesInCpp) {
  WriteFile(dir_.Sub("data"), kCheckpoint);
  ASSERT_TRUE(
      RunShell("openssl ts -query -data '" + dir_.Sub("data") + "' -sha256 -cert -out '" + dir_.Sub("q.tsq") + "'"));
  const std::string query = ReadFile(dir_.Sub("q.tsq"));
  auto reply = Transport(*tsa_)(query);
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  WriteFile(dir_.Sub("r.tsr"), *reply);
  ASSERT_TRUE(
      RunShell("openssl ts -reply -in '" + dir_.Sub("r.tsr") + "' -token_out -out '" + dir_.Sub("tok.der") + "'"));
  const std::string cli_token = ReadFile(dir_.Sub("tok.der"));

  auto ours = TokenFromResponse(*reply, query);
  ASSERT_TRUE(ours.ok()) << ours.error().ToString();
  EXPECT_EQ(*ours, cli_token) << "the same token bytes as openssl's -token_out";
  auto verified = VerifyToken(cli_token, kCheckpoint, tsa_->root_pem());
  EXPECT_TRUE(verified.ok()) << verified.error().ToString();
}

TEST_F(TsaTest, OurRequestIsWhatOpensslReads) {
  const std::string digest = crypto::Sha256(kCheckpoint);
  auto request = BuildRequest(digest, 0x0123456789abcdefULL);
  ASSERT_TRUE(request.ok());
  WriteFile(dir_.Sub("q.tsq"), *request);
  ASSERT_TRUE(RunShell("openssl ts -query -in '" + dir_.Sub("q.tsq") + "' -text -out '" + dir_.Sub("q.txt") + "'"));
  const std::string text = ReadFile(dir_.Sub("q.txt"));
  EXPECT_NE(text.find("Hash Algorithm: sha256"), std::string::npos) << text;
  EXPECT_NE(text.find("Nonce: 0x0123456789ABCDEF"), std::string::npos) << text;
  EXPECT_NE(text.find("Certificate required: yes"), std::string::npos) << text;
}

TEST_F(TsaTest, TamperedMessageFailsInCppAndInOpenssl) {
  auto token = TsaClient(Transport(*tsa_)).Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  std::string tampered(kCheckpoint);
  tampered[30] ^= 0x01;
  auto verified = VerifyToken(*token, tampered, tsa_->root_pem());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_imprint_mismatch");
  EXPECT_FALSE(OpensslVerifies(*token, tampered, tsa_->root_pem_path()));
}

// The byte offsets of a GeneralizedTime (tag 0x18) digit and of the last byte (inside the ECDSA signature).
size_t GenTimeDigitOffset(const std::string& der) {
  for (size_t i = 0; i + 16 < der.size(); ++i) {
    if (der[i] != '\x18' || der[i + 1] < 15 || der[i + 1] > 24) continue;
    bool digits = true;
    for (size_t k = 0; k < 14; ++k) digits = digits && der[i + 2 + k] >= '0' && der[i + 2 + k] <= '9';
    if (digits) return i + 2;  // the first digit of YYYYMMDDHHMMSS
  }
  return std::string::npos;
}

TEST_F(TsaTest, TamperedTokenFailsInCppAndInOpenssl) {
  auto token = TsaClient(Transport(*tsa_)).Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  ASSERT_TRUE(OpensslVerifies(*token, kCheckpoint, tsa_->root_pem_path()));

  const size_t gen_time = GenTimeDigitOffset(*token);
  ASSERT_NE(gen_time, std::string::npos);
  // Later, never earlier: the TSA certificate was issued seconds ago, and a genTime moved before it would fail
  // the chain check (made at genTime) before the signature's. The tens of seconds, else a minute digit, else
  // the hour's last digit, whichever can grow without a carry.
  std::string later = *token;
  bool moved = false;
  const char hour_max = later[gen_time + 8] == '2' ? '2' : '8';  // 0-19: any hour digit; 20-23: up to 3
  for (auto [offset, max] : {std::pair<size_t, char>{12, '4'}, {11, '8'}, {10, '4'}, {9, hour_max}}) {
    char& digit = later[gen_time + offset];
    if (digit <= max) {
      ++digit;
      moved = true;
      break;
    }
  }
  ASSERT_TRUE(moved);
  auto verified = VerifyToken(later, kCheckpoint, tsa_->root_pem());
  ASSERT_FALSE(verified.ok()) << "a token whose genTime was moved must not verify";
  EXPECT_EQ(verified.error().code, "tsa_bad_signature") << verified.error().ToString();
  EXPECT_FALSE(OpensslVerifies(later, kCheckpoint, tsa_->root_pem_path()));

  std::string bad_signature = *token;
  bad_signature.back() ^= 0x01;
  verified = VerifyToken(bad_signature, kCheckpoint, tsa_->root_pem());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_bad_signature") << verified.error().ToString();
  EXPECT_FALSE(OpensslVerifies(bad_signature, kCheckpoint, tsa_->root_pem_path()));

  verified = VerifyToken(token->substr(0, token->size() - 1), kCheckpoint, tsa_->root_pem());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_token_malformed");
  verified = VerifyToken(*token + '\0', kCheckpoint, tsa_->root_pem());
  ASSERT_FALSE(verified.ok()) << "trailing bytes after the token are refused";
  EXPECT_EQ(verified.error().code, "tsa_token_malformed");
}

TEST_F(TsaTest, TokenFromAnotherTsaRootIsRefused) {
  auto token = TsaClient(Transport(*other_)).Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  ASSERT_TRUE(VerifyToken(*token, kCheckpoint, other_->root_pem()).ok());
  auto verified = VerifyToken(*token, kCheckpoint, tsa_->root_pem());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_untrusted_signer") << verified.error().ToString();
  EXPECT_FALSE(OpensslVerifies(*token, kCheckpoint, tsa_->root_pem_path()));
  // Both roots trusted: accepted.
  EXPECT_TRUE(VerifyToken(*token, kCheckpoint, tsa_->root_pem() + other_->root_pem()).ok());
}

// Receipts outlive TSA certificates: the chain is checked at genTime. `openssl ts -verify` checks at the
// current time, so it refuses the same token once the certificate has expired, and accepts it with -attime.
TEST_F(TsaTest, TokenStaysVerifiableAfterTheTsaCertificateExpires) {
  TsaServerProcess short_lived({"--tsa-valid-seconds", "3"});
  ASSERT_TRUE(short_lived.ready());
  auto token = TsaClient(Transport(short_lived)).Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  auto before = VerifyToken(*token, kCheckpoint, short_lived.root_pem());
  ASSERT_TRUE(before.ok()) << before.error().ToString();
  while (Timestamp::Now().seconds <= before->gen_time.seconds + 4) ::usleep(200000);

  EXPECT_FALSE(OpensslVerifies(*token, kCheckpoint, short_lived.root_pem_path())) << "expired now";
  EXPECT_TRUE(RunShell("openssl ts -verify -data '" + dir_.Sub("data") + "' -in '" + dir_.Sub("token.der") +
                       "' -token_in -CAfile '" + short_lived.root_pem_path() + "' -attime " +
                       std::to_string(before->gen_time.seconds)))
      << "valid at genTime";
  auto after = VerifyToken(*token, kCheckpoint, short_lived.root_pem());
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->gen_time, before->gen_time);
}

TEST_F(TsaTest, TokenSignedOutsideTheTsaCertificatesValidityIsRefused) {
  TsaServerProcess expired({"--tsa-validity", "20200101000000Z,20210101000000Z"});
  ASSERT_TRUE(expired.ready());
  auto token = TsaClient(Transport(expired)).Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  auto verified = VerifyToken(*token, kCheckpoint, expired.root_pem());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_untrusted_signer") << verified.error().ToString();
  EXPECT_FALSE(OpensslVerifies(*token, kCheckpoint, expired.root_pem_path()));
}

// The token's certificate swapped for a twin (same key, issuer and serial number, other bytes): the CMS
// signature still verifies and the twin chains to the root, so only the signed ESSCertIDv2 catches it.
TEST_F(TsaTest, SwappedSignerCertificateFailsTheEssCheck) {
  TsaServerProcess twinned({"--twin", "yes"});
  ASSERT_TRUE(twinned.ready());
  ASSERT_FALSE(twinned.twin_pem().empty());
  auto token = TsaClient(Transport(twinned)).Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_TRUE(token.ok()) << token.error().ToString();

  const auto* p = reinterpret_cast<const unsigned char*>(token->data());
  std::unique_ptr<PKCS7, decltype(&PKCS7_free)> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(token->size())),
                                                   PKCS7_free);
  ASSERT_TRUE(p7 && PKCS7_type_is_signed(p7.get()));
  BIO* bio = BIO_new_mem_buf(twinned.twin_pem().data(), static_cast<int>(twinned.twin_pem().size()));
  X509* twin = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(twin, nullptr);
  STACK_OF(X509)* certs = p7->d.sign->cert;
  bool swapped = false;
  for (int i = 0; i < sk_X509_num(certs); ++i) {
    X509* c = sk_X509_value(certs, i);
    if (X509_cmp(c, twin) != 0 && ASN1_INTEGER_cmp(X509_get0_serialNumber(c), X509_get0_serialNumber(twin)) == 0 &&
        X509_NAME_cmp(X509_get_issuer_name(c), X509_get_issuer_name(twin)) == 0) {
      sk_X509_set(certs, i, twin);
      X509_free(c);
      swapped = true;
      break;
    }
  }
  if (!swapped) X509_free(twin);
  ASSERT_TRUE(swapped) << "the token carries the TSA certificate";
  unsigned char* der = nullptr;
  const int len = i2d_PKCS7(p7.get(), &der);
  ASSERT_GT(len, 0);
  const std::string tampered(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);

  auto verified = VerifyToken(tampered, kCheckpoint, twinned.root_pem());
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_signer_mismatch") << verified.error().ToString();
  EXPECT_FALSE(OpensslVerifies(tampered, kCheckpoint, twinned.root_pem_path()));
  EXPECT_TRUE(OpensslVerifies(*token, kCheckpoint, twinned.root_pem_path()));
}

TEST_F(TsaTest, ReplyToAnotherRequestIsRefused) {
  const std::string digest = crypto::Sha256(kCheckpoint);
  auto first = BuildRequest(digest, 1);
  auto second = BuildRequest(digest, 2);
  auto other_digest = BuildRequest(crypto::Sha256("other"), 1);
  ASSERT_TRUE(first.ok() && second.ok() && other_digest.ok());
  auto reply = Transport(*tsa_)(*first);
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  ASSERT_TRUE(TokenFromResponse(*reply, *first).ok());

  auto token = TokenFromResponse(*reply, *second);
  ASSERT_FALSE(token.ok()) << "a reply with another nonce (a replay) must be refused";
  EXPECT_EQ(token.error().code, "tsa_response_mismatch");
  token = TokenFromResponse(*reply, *other_digest);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, "tsa_response_mismatch");
}

TEST_F(TsaTest, RejectionCarriesTheTsaStatus) {
  TsaServerProcess sha512_only({"--digests", "sha512"});
  ASSERT_TRUE(sha512_only.ready());
  auto token = TsaClient(Transport(sha512_only)).Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, "tsa_rejected");
  EXPECT_NE(token.error().message.find("rejection"), std::string::npos) << token.error().message;
  EXPECT_NE(token.error().message.find("badAlg"), std::string::npos) << token.error().message;
}

TEST_F(TsaTest, MalformedRepliesAreNamed) {
  auto request = BuildRequest(crypto::Sha256(kCheckpoint), 7);
  ASSERT_TRUE(request.ok());
  auto reply = Transport(*tsa_)(*request);
  ASSERT_TRUE(reply.ok());
  for (const std::string& bad : {std::string(), std::string("not der"), reply->substr(0, reply->size() / 2),
                                 *reply + "x", std::string(kMaxResponseBytes + 1, '\x30')}) {
    auto token = TokenFromResponse(bad, *request);
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.error().code, "tsa_response_malformed");
  }
  auto token = TokenFromResponse(*reply, "not a request");
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, "tsa_bad_request");
}

TEST(TsaOfflineTest, InputsAreValidated) {
  auto request = BuildRequest("short", 1);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.error().code, "tsa_bad_digest");
  auto verified = VerifyTokenDigest("x", "short", "");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_bad_digest");
  verified = VerifyToken("not a token", "m", "");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_token_malformed");
}

TEST_F(TsaTest, NoTrustedRootsIsNamed) {
  auto token = TsaClient(Transport(*tsa_)).Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_TRUE(token.ok());
  auto verified = VerifyToken(*token, kCheckpoint, "no pem here");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, "tsa_no_trusted_roots");
}

TEST_F(TsaTest, TransportErrorsPassThrough) {
  TsaClient client(net::MakePostTransport("http://127.0.0.1:1/", kQueryContentType, kReplyContentType, 2000));
  auto token = client.Timestamp(crypto::Sha256(kCheckpoint));
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, "http_unavailable");
}

}  // namespace
}  // namespace medledger::tsa
