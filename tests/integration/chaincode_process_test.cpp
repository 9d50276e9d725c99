// The real `medledger-chaincode` process, driven over gRPC by a test acting as a Fabric peer: the
// handshake, then records-contract transactions whose state reads and writes the "peer" serves from memory.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "contract/endorsement_policy.h"
#include "contract/stub.h"
#include "crypto/hash.h"
#include "crypto/x509.h"
#include "fabric_messages.h"
#include "pb/ledger/queryresult/kv_query_result.pb.h"
#include "pb/peer/chaincode_shim.grpc.pb.h"
#include "pb/peer/proposal_response.pb.h"

namespace medledger {
namespace {

using protos::ChaincodeMessage;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string Binary() {
  const char* dir = std::getenv("MEDLEDGER_BIN_DIR");
  return std::string(dir ? dir : ".") + "/src/app/medledger-chaincode";
}

struct Identities {
  crypto::EcPrivateKey ca_key = crypto::EcPrivateKey::Generate().value();
  crypto::Certificate ca = [&] {
    crypto::CertificateRequest r;
    r.common_name = "ca.hospital";
    r.organization = "Hospital";
    r.is_ca = true;
    return crypto::IssueCertificate(r, ca_key.PublicKey(), ca_key, nullptr).value();
  }();
  std::string User(const std::string& name, const std::string& role) {
    auto key = crypto::EcPrivateKey::Generate().value();
    crypto::CertificateRequest r;
    r.common_name = name;
    r.organization = "Hospital";
    r.organizational_units = {"client"};
    r.attributes = {{"role", role}};
    return crypto::IssueCertificate(r, key.PublicKey(), ca_key, &ca)->ToPem();
  }
};

class ChaincodeProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(Binary().c_str(), X_OK) != 0) GTEST_SKIP() << "medledger-chaincode not built at " << Binary();
    port_ = FreePort();
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      std::string addr = "127.0.0.1:" + std::to_string(port_);
      ::setenv("CHAINCODE_SERVER_ADDRESS", addr.c_str(), 1);
      ::setenv("CHAINCODE_ID", "records_1.0:0123abcd", 1);
      ::execl(Binary().c_str(), "medledger-chaincode", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)))
        << "medledger-chaincode did not start listening";
    stub_ = protos::Chaincode::NewStub(channel);
    stream_ = stub_->Connect(&ctx_);
  }

  void TearDown() override {
    if (pid_ <= 0) return;
    if (stream_) {
      stream_->WritesDone();
      ctx_.TryCancel();
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }

  // Plays the peer for one transaction: serves state requests until COMPLETED or ERROR.
  ChaincodeMessage RunTx(const ChaincodeMessage& tx) {
    EXPECT_TRUE(stream_->Write(tx));
    ChaincodeMessage in;
    while (stream_->Read(&in)) {
      ChaincodeMessage out;
      out.set_txid(in.txid());
      out.set_channel_id(in.channel_id());
      out.set_type(ChaincodeMessage::RESPONSE);
      switch (in.type()) {
        case ChaincodeMessage::COMPLETED:
        case ChaincodeMessage::ERROR: return in;
        case ChaincodeMessage::GET_STATE: {
          protos::GetState g;
          g.ParseFromString(in.payload());
          auto it = state_.find(g.key());
          if (it != state_.end()) out.set_payload(it->second);
          break;
        }
        case ChaincodeMessage::PUT_STATE: {
          protos::PutState p;
          p.ParseFromString(in.payload());
          pending_[p.key()] = p.value();
          break;
        }
        case ChaincodeMessage::PUT_STATE_METADATA: {
          protos::PutStateMetadata m;
          m.ParseFromString(in.payload());
          if (m.metadata().metakey() == "VALIDATION_PARAMETER") validation_[m.key()] = m.metadata().value();
          break;
        }
        case ChaincodeMessage::GET_STATE_BY_RANGE: {
          protos::GetStateByRange r;
          r.ParseFromString(in.payload());
          protos::QueryResponse resp;
          resp.set_id("it");
          for (auto it = state_.lower_bound(r.startkey()); it != state_.end(); ++it) {
            if (!r.endkey().empty() && it->first >= r.endkey()) break;
            queryresult::KV kv;
            kv.set_key(it->first);
            kv.set_value(it->second);
            resp.add_results()->set_resultbytes(kv.SerializeAsString());
          }
          if (!r.metadata().empty()) {
            protos::QueryResponseMetadata meta;
            resp.set_metadata(meta.SerializeAsString());
          }
          out.set_payload(resp.SerializeAsString());
          break;
        }
        case ChaincodeMessage::QUERY_STATE_CLOSE: out.set_payload(protos::QueryResponse().SerializeAsString()); break;
        case ChaincodeMessage::GET_HISTORY_FOR_KEY: out.set_payload(protos::QueryResponse().SerializeAsString()); break;
        default: out.set_type(ChaincodeMessage::ERROR); out.set_payload("unsupported in this test");
      }
      EXPECT_TRUE(stream_->Write(out));
    }
    ADD_FAILURE() << "stream closed before the transaction completed";
    return {};
  }

  protos::Response Invoke(const std::string& txid, const std::string& cert, const std::string& fn,
                          const nlohmann::json& arg) {
    auto tx = testsupport::ChaincodeTransaction(txid, {fn, arg.dump()}, "HospitalMSP", cert, 1763900000);
    ChaincodeMessage done = RunTx(tx);
    EXPECT_EQ(done.type(), ChaincodeMessage::COMPLETED) << done.payload();
    protos::Response r;
    EXPECT_TRUE(r.ParseFromString(done.payload()));
    if (r.status() == 200) {
      for (auto& [k, v] : pending_) state_[k] = v;  // commit, as validation would
    }
    pending_.clear();
    return r;
  }

  int port_ = 0;
  pid_t pid_ = -1;
  grpc::ClientContext ctx_;
  std::unique_ptr<protos::Chaincode::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<ChaincodeMessage, ChaincodeMessage>> stream_;
  std::map<std::string, std::string> state_, pending_;
  std::map<std::string, std::string>
      validation_;  // key-level endorsement policies the contract set (PUT_STATE_METADATA)
};

TEST_F(ChaincodeProcess, RegistersThenServesTheRecordsContract) {
  ChaincodeMessage reg;
  ASSERT_TRUE(stream_->Read(&reg));
  ASSERT_EQ(reg.type(), ChaincodeMessage::REGISTER);
  protos::ChaincodeID id;
  ASSERT_TRUE(id.ParseFromString(reg.payload()));
  EXPECT_EQ(id.name(), "records_1.0:0123abcd");
  ChaincodeMessage ack;
  ack.set_type(ChaincodeMessage::REGISTERED);
  ASSERT_TRUE(stream_->Write(ack));
  ack.set_type(ChaincodeMessage::READY);
  ASSERT_TRUE(stream_->Write(ack));

  Identities ids;
  std::string admin = ids.User("admin", "admin");
  std::string doctor = ids.User("dr.grey", "doctor");
  std::string other = ids.User("dr.yang", "doctor");
  std::string ref = HexEncode(crypto::Sha256("MRN-77"));

  auto r1 = Invoke("t1", admin, "RegisterPatient", {{"patientRef", ref}});
  ASSERT_EQ(r1.status(), 200) << r1.message();
  auto denied = Invoke("t2", doctor, "RegisterPatient", {{"patientRef", HexEncode(crypto::Sha256("MRN-78"))}});
  EXPECT_EQ(denied.status(), 403);

  nlohmann::json report = {{"reportId", "R-1"},
                           {"patientRef", ref},
                           {"cid", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"},
                           {"contentHash", std::string(64, 'c')}};
  auto r2 = Invoke("t3", doctor, "CreateReport", report);
  ASSERT_EQ(r2.status(), 200) << r2.message();
  EXPECT_EQ(nlohmann::json::parse(r2.payload())["author"], "HospitalMSP/dr.grey");
  // State-based endorsement reaches the peer as PUT_STATE_METADATA on the report's head key.
  EXPECT_EQ(validation_[contract::CreateCompositeKey("report", {"R-1"}).value()],
            contract::OrganizationPeerPolicy("HospitalMSP"));
  auto dup = Invoke("t4", doctor, "CreateReport", report);
  EXPECT_EQ(dup.status(), 409);
  EXPECT_EQ(dup.message().rfind("report_exists", 0), 0u) << dup.message();
  auto read_other = Invoke("t5", other, "GetReport", {{"reportId", "R-1"}});
  EXPECT_EQ(read_other.status(), 403);
  auto read_own = Invoke("t6", doctor, "GetReport", {{"reportId", "R-1"}});
  EXPECT_EQ(read_own.status(), 200) << read_own.message();

  // KEEPALIVE is echoed while idle.
  ChaincodeMessage ping;
  ping.set_type(ChaincodeMessage::KEEPALIVE);
  ASSERT_TRUE(stream_->Write(ping));
  ChaincodeMessage pong;
  ASSERT_TRUE(stream_->Read(&pong));
  EXPECT_EQ(pong.type(), ChaincodeMessage::KEEPALIVE);
}

}  // namespace
}  // namespace medledger
