// Cross-checks with Hyperledger Fabric's official Node libraries (tests/peers/fabric_crosscheck.mjs): a proposal
// built and signed by @hyperledger/fabric-gateway decodes and verifies in C++, and a proposal built and signed
// by medledger decodes and verifies with @hyperledger/fabric-protos and Node's crypto, field by field.
// Skipped (with the reason) when Node.js or tests/peers' node_modules are not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/encoding.h"
#include "common/time.h"
#include "crypto/random.h"
#include "crypto/x509.h"
#include "identity/signing_identity.h"
#include "ledger/wire/protoutil.h"
#include "ledger/wire/transaction.h"
#include "pb/gateway/gateway.pb.h"
#include "pb/msp/identities.pb.h"
#include "pb/peer/chaincode.pb.h"
#include "pb/peer/proposal.pb.h"
#include "source_dir.h"
#include "test_identity.h"

namespace medledger::ledger::fabric {
namespace {

using json = nlohmann::json;

const std::string kPeers = std::string(MEDLEDGER_SOURCE_DIR) + "/tests/peers";

class NodeCrosscheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/node", X_OK) != 0) GTEST_SKIP() << "Node.js is not installed";
    for (const char* m : {"@hyperledger/fabric-gateway", "@hyperledger/fabric-protos"}) {
      if (!std::filesystem::exists(kPeers + "/node_modules/" + m)) {
        GTEST_SKIP() << "tests/peers/node_modules/" << m << " is missing (scripts/setup.sh installs it)";
      }
    }
  }
  // One request to the Node side; the answer's JSON (null on failure, with the output in the test log).
  static json Ask(const json& request) {
    char tmpl[] = "/tmp/ml-crosscheck-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) return nullptr;
    ::close(fd);
    std::ofstream(tmpl) << request.dump();
    std::string cmd = "cd '" + kPeers + "' && /usr/bin/node fabric_crosscheck.mjs < '" + tmpl + "' 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      std::array<char, 4096> buf{};
      size_t n = 0;
      while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
      ::pclose(p);
    }
    std::filesystem::remove(tmpl);
    json j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out;
    return j.is_discarded() ? json() : j;
  }
};

TEST_F(NodeCrosscheckTest, FabricGatewayProposalDecodesAndVerifiesInCpp) {
  auto doctor = MakeTestUser("dr.house", "doctor");
  json answer = Ask({{"mode", "node-proposal"},
                     {"mspId", doctor.msp_id()},
                     {"certPem", doctor.cert_pem()},
                     {"keyPem", doctor.private_key().ToPem()},
                     {"channel", "medchannel"},
                     {"chaincode", "records"},
                     {"function", "CreateReport"},
                     {"args", {"{\"reportId\":\"r1\"}", "second arg"}}});
  ASSERT_TRUE(answer.is_object());
  gateway::ProposedTransaction proposed;
  ASSERT_TRUE(proposed.ParseFromString(Base64Decode(answer.value("proposedTransaction", "")).value()));
  EXPECT_EQ(proposed.transaction_id(), answer.value("transactionId", ""));

  protos::Proposal proposal;
  ASSERT_TRUE(proposal.ParseFromString(proposed.proposal().proposal_bytes()));
  common::Header header;
  ASSERT_TRUE(header.ParseFromString(proposal.header()));
  common::ChannelHeader ch;
  common::SignatureHeader sh;
  ASSERT_TRUE(ch.ParseFromString(header.channel_header()));
  ASSERT_TRUE(sh.ParseFromString(header.signature_header()));
  EXPECT_EQ(ch.type(), common::ENDORSER_TRANSACTION);
  EXPECT_EQ(ch.channel_id(), "medchannel");
  EXPECT_EQ(ch.tx_id(), proposed.transaction_id());
  // Fabric's rule, computed here: txid = hex(SHA-256(nonce || creator)).
  EXPECT_EQ(ch.tx_id(), wire::ComputeTxId(sh.nonce(), sh.creator()));
  EXPECT_EQ(sh.creator(), doctor.serialized()) << "the creator is the same SerializedIdentity bytes";
  protos::ChaincodeHeaderExtension ext;
  ASSERT_TRUE(ext.ParseFromString(ch.extension()));
  EXPECT_EQ(ext.chaincode_id().name(), "records");
  protos::ChaincodeProposalPayload payload;
  ASSERT_TRUE(payload.ParseFromString(proposal.payload()));
  protos::ChaincodeInvocationSpec cis;
  ASSERT_TRUE(cis.ParseFromString(payload.input()));
  const auto& args = cis.chaincode_spec().input().args();
  ASSERT_EQ(args.size(), 3);
  EXPECT_EQ(args[0], "CreateReport");
  EXPECT_EQ(args[1], "{\"reportId\":\"r1\"}");
  EXPECT_EQ(args[2], "second arg");
  // fabric-gateway's signature verifies with the certificate's key, and is low-S as Fabric requires.
  const std::string& sig = proposed.proposal().signature();
  EXPECT_TRUE(crypto::IsLowS(sig));
  EXPECT_TRUE(doctor.certificate().PublicKey().Verify(proposed.proposal().proposal_bytes(), sig));
  EXPECT_FALSE(doctor.certificate().PublicKey().Verify(proposed.proposal().proposal_bytes() + "x", sig));
}

TEST_F(NodeCrosscheckTest, MedledgerProposalDecodesAndVerifiesInNode) {
  auto doctor = MakeTestUser("dr.house", "doctor");
  std::vector<std::string> args = {"CreateReport", "{\"reportId\":\"r2\"}", std::string("bin\0ary\xff", 8)};
  auto parts = wire::BuildProposal(doctor.serialized(), crypto::RandomBytes(24), Timestamp::Now(), "medchannel",
                                   "records", args);
  std::string signature = doctor.Sign(parts.proposal).value();
  std::string signed_proposal = wire::SerializeSignedProposal(parts.proposal, signature);
  json answer = Ask({{"mode", "decode-signed-proposal"},
                     {"signedProposal", Base64Encode(signed_proposal)},
                     {"certPem", doctor.cert_pem()}});
  ASSERT_TRUE(answer.is_object());
  EXPECT_EQ(answer.value("txId", ""), parts.tx_id);
  EXPECT_EQ(answer.value("computedTxId", ""), parts.tx_id);
  EXPECT_EQ(answer.value("channel", ""), "medchannel");
  EXPECT_EQ(answer.value("type", -1), 3);  // ENDORSER_TRANSACTION
  EXPECT_EQ(answer.value("chaincode", ""), "records");
  EXPECT_EQ(answer.value("mspId", ""), "HospitalMSP");
  EXPECT_TRUE(answer.value("creatorPemMatches", false));
  EXPECT_TRUE(answer.value("signatureValid", false));
  EXPECT_TRUE(answer.value("lowS", false));
  ASSERT_TRUE(answer["args"].is_array());
  ASSERT_EQ(answer["args"].size(), args.size());
  for (size_t i = 0; i < args.size(); ++i)
    EXPECT_EQ(Base64Decode(answer["args"][i].get<std::string>()).value(), args[i]);

  // A flipped byte in the signed proposal: Node's crypto refuses the signature.
  std::string tampered = wire::SerializeSignedProposal(parts.proposal + "", signature);
  tampered[tampered.size() / 3] ^= 0x01;
  json refused = Ask(
      {{"mode", "decode-signed-proposal"}, {"signedProposal", Base64Encode(tampered)}, {"certPem", doctor.cert_pem()}});
  EXPECT_FALSE(refused.is_object() && refused.value("signatureValid", true));
}

}  // namespace
}  // namespace medledger::ledger::fabric
