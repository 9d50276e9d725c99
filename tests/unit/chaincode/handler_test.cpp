#include "chaincode/handler.h"

#include <gtest/gtest.h>

#include "fabric_messages.h"
#include "fake_peer.h"
#include "pb/common/common.pb.h"
#include "pb/msp/identities.pb.h"
#include "pb/peer/chaincode.pb.h"
#include "pb/peer/proposal.pb.h"

namespace medledger::chaincode {
namespace {

using protos::ChaincodeMessage;
using testing::FakePeer;

// A contract that exercises every stub call and echoes what it saw.
class EchoContract final : public contract::Contract {
 public:
  contract::Response Invoke(contract::ChaincodeStub& stub, std::string_view fn,
                            const std::vector<std::string>& args) override {
    auto fail = [](const Error& e) { return contract::Response{500, e.ToString(), ""}; };
    if (fn == "put") {
      if (auto st = stub.PutState(args.at(0), args.at(1)); !st.ok()) return fail(st.error());
      (void)stub.SetEvent("Put", args.at(0));
      return {200, "", "ok"};
    }
    if (fn == "get") {
      auto v = stub.GetState(args.at(0));
      if (!v.ok()) return fail(v.error());
      if (!v->has_value()) return {404, "not_found: no such key", ""};
      return {200, "", **v};
    }
    if (fn == "del") {
      if (auto st = stub.DelState(args.at(0)); !st.ok()) return fail(st.error());
      return {200, "", ""};
    }
    if (fn == "range") {
      auto page = stub.GetStateByRange(args.at(0), args.at(1), uint32_t(std::stoul(args.at(2))), args.at(3));
      if (!page.ok()) return fail(page.error());
      std::string out;
      for (const auto& kv : page->items) out += kv.key + "=" + kv.value + ",";
      return {200, "", out + "|" + page->bookmark};
    }
    if (fn == "history") {
      auto h = stub.GetHistoryForKey(args.at(0));
      if (!h.ok()) return fail(h.error());
      std::string out;
      for (const auto& m : *h) out += m.tx_id + ":" + (m.is_delete ? "<del>" : m.value) + ",";
      return {200, "", out};
    }
    if (fn == "whoami") {
      return {200, "",
              stub.GetCreator().msp_id + "|" + stub.GetCreator().cert_pem + "|" +
                  std::to_string(stub.GetTxTimestamp().seconds) + "|" + stub.GetTxID() + "|" + stub.GetChannelID()};
    }
    return {400, "unknown_function: " + std::string(fn), ""};
  }
};

ChaincodeMessage Transaction(const std::string& txid, std::vector<std::string> args, bool with_proposal = true) {
  return testsupport::ChaincodeTransaction(txid, args, "HospitalMSP",
                                           "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n", 1763900000,
                                           with_proposal);
}

ChaincodeMessage OfType(ChaincodeMessage::Type t) {
  ChaincodeMessage m;
  m.set_type(t);
  return m;
}

struct Fixture : ::testing::Test {
  EchoContract contract;
  FakePeer peer;
  std::unique_ptr<Handler> handler;

  void SetUp() override {
    HandlerOptions opts;
    opts.chaincode_name = "records_1.0:abc";
    opts.workers = 4;
    opts.peer_timeout = std::chrono::milliseconds(300);
    handler = std::make_unique<Handler>(contract, peer, opts);
    peer.handler = handler.get();
    ASSERT_TRUE(handler->Start().ok());
    ASSERT_TRUE(handler->Handle(OfType(ChaincodeMessage::REGISTERED)).ok());
    ASSERT_TRUE(handler->Handle(OfType(ChaincodeMessage::READY)).ok());
  }

  // Runs one transaction and returns the COMPLETED/ERROR message the shim sent for it.
  ChaincodeMessage Run(const ChaincodeMessage& tx) {
    EXPECT_TRUE(handler->Handle(tx).ok());
    for (int attempt = 0; attempt < 200; ++attempt) {
      for (const auto& m : peer.sent()) {
        if (m.txid() == tx.txid() && (m.type() == ChaincodeMessage::COMPLETED || m.type() == ChaincodeMessage::ERROR)) {
          return m;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no completion for " << tx.txid();
    return {};
  }

  protos::Response Completed(const ChaincodeMessage& tx) {
    ChaincodeMessage done = Run(tx);
    EXPECT_EQ(done.type(), ChaincodeMessage::COMPLETED);
    EXPECT_EQ(done.channel_id(), "medchannel");
    protos::Response r;
    EXPECT_TRUE(r.ParseFromString(done.payload()));
    return r;
  }
};

TEST(HandlerHandshake, RegistersWithChaincodeIdAndFollowsStates) {
  EchoContract contract;
  FakePeer peer;
  HandlerOptions opts;
  opts.chaincode_name = "records_1.0:abc";
  Handler handler(contract, peer, opts);
  ASSERT_TRUE(handler.Start().ok());
  auto sent = peer.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type(), ChaincodeMessage::REGISTER);
  protos::ChaincodeID id;
  ASSERT_TRUE(id.ParseFromString(sent[0].payload()));
  EXPECT_EQ(id.name(), "records_1.0:abc");
  EXPECT_EQ(handler.state(), Handler::State::kCreated);

  // A transaction before the handshake is a protocol violation, answered with ERROR.
  auto st = handler.Handle(Transaction("early", {"get", "k"}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "protocol_violation");
  EXPECT_EQ(peer.sent().back().type(), ChaincodeMessage::ERROR);

  ASSERT_TRUE(handler.Handle(OfType(ChaincodeMessage::REGISTERED)).ok());
  EXPECT_EQ(handler.state(), Handler::State::kEstablished);
  EXPECT_FALSE(handler.Handle(OfType(ChaincodeMessage::REGISTERED)).ok());  // READY expected
  ASSERT_TRUE(handler.Handle(OfType(ChaincodeMessage::READY)).ok());
  EXPECT_EQ(handler.state(), Handler::State::kReady);
}

TEST_F(Fixture, KeepaliveIsEchoed) {
  ASSERT_TRUE(handler->Handle(OfType(ChaincodeMessage::KEEPALIVE)).ok());
  EXPECT_EQ(peer.sent().back().type(), ChaincodeMessage::KEEPALIVE);
}

TEST_F(Fixture, PutGetDelRoundTripThroughThePeer) {
  auto put = Run(Transaction("tx1", {"put", "k1", "v1"}));
  ASSERT_EQ(put.type(), ChaincodeMessage::COMPLETED);
  EXPECT_EQ(put.chaincode_event().event_name(), "Put");
  EXPECT_EQ(put.chaincode_event().payload(), "k1");
  EXPECT_EQ(put.chaincode_event().tx_id(), "tx1");
  EXPECT_EQ(peer.state["k1"], "v1");

  auto get = Completed(Transaction("tx2", {"get", "k1"}));
  EXPECT_EQ(get.status(), 200);
  EXPECT_EQ(get.payload(), "v1");

  EXPECT_EQ(Completed(Transaction("tx3", {"del", "k1"})).status(), 200);
  EXPECT_EQ(peer.state.count("k1"), 0u);
  auto missing = Completed(Transaction("tx4", {"get", "k1"}));
  EXPECT_EQ(missing.status(), 404);
}

TEST_F(Fixture, CreatorAndTimestampComeFromTheSignedProposal) {
  auto r = Completed(Transaction("tx-who", {"whoami"}));
  EXPECT_EQ(r.payload(),
            "HospitalMSP|-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n|1763900000|tx-who|medchannel");
  // Without a proposal there is no creator: the contract sees an empty identity and must deny.
  auto anon = Completed(Transaction("tx-anon", {"whoami"}, false));
  EXPECT_EQ(anon.payload().substr(0, 2), "||");
}

TEST_F(Fixture, RangeQueriesFollowQueryStateNextAndClose) {
  for (auto k : {"a", "b", "c", "d", "e"}) peer.state[k] = std::string("v") + k;
  auto all = Completed(Transaction("r1", {"range", "b", "e", "0", ""}));
  EXPECT_EQ(all.payload(), "b=vb,c=vc,d=vd,|");
  EXPECT_EQ(peer.closes_, 1);

  auto page = Completed(Transaction("r2", {"range", "a", "", "3", ""}));
  EXPECT_EQ(page.payload(), "a=va,b=vb,c=vc,|d");
  auto next = Completed(Transaction("r3", {"range", "a", "", "3", "d"}));
  EXPECT_EQ(next.payload(), "d=vd,e=ve,|");
}

TEST_F(Fixture, HistoryDecodesKeyModifications) {
  queryresult::KeyModification a, b;
  a.set_tx_id("t1");
  a.set_value("one");
  b.set_tx_id("t2");
  b.set_is_delete(true);
  peer.history["k"] = {a, b};
  auto r = Completed(Transaction("h1", {"history", "k"}));
  EXPECT_EQ(r.payload(), "t1:one,t2:<del>,");
}

TEST_F(Fixture, PeerErrorsReachTheContractAsErrors) {
  peer.fail_type = "GET_STATE";
  auto r = Completed(Transaction("e1", {"get", "k"}));
  EXPECT_EQ(r.status(), 500);
  EXPECT_NE(r.message().find("injected failure"), std::string::npos);
}

TEST_F(Fixture, SilentPeerTimesOutInsteadOfHanging) {
  peer.silent = true;
  ASSERT_TRUE(handler->Handle(Transaction("slow", {"get", "k"})).ok());
  peer.WaitFor(ChaincodeMessage::GET_STATE);
  // No answer: the stub call times out (300 ms) and the shim still completes the transaction.
  peer.silent = false;
  peer.handler = nullptr;  // do not answer the late request
  ChaincodeMessage done;
  for (int i = 0; i < 200 && done.type() != ChaincodeMessage::COMPLETED; ++i) {
    for (const auto& m : peer.sent()) {
      if (m.txid() == "slow" && m.type() == ChaincodeMessage::COMPLETED) done = m;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(done.type(), ChaincodeMessage::COMPLETED);
  protos::Response r;
  ASSERT_TRUE(r.ParseFromString(done.payload()));
  EXPECT_NE(r.message().find("peer_timeout"), std::string::npos);
}

TEST_F(Fixture, UnexpectedResponseIsReportedNotCrashed) {
  ChaincodeMessage stray = OfType(ChaincodeMessage::RESPONSE);
  stray.set_txid("nobody");
  auto st = handler->Handle(stray);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "unexpected_response");
}

TEST_F(Fixture, MalformedInputsGetErrorMessages) {
  ChaincodeMessage bad = Transaction("bad1", {"get", "k"});
  bad.set_payload("\xff\xff\xff");
  EXPECT_EQ(Run(bad).type(), ChaincodeMessage::ERROR);

  ChaincodeMessage bad_proposal = Transaction("bad2", {"get", "k"});
  bad_proposal.mutable_proposal()->set_proposal_bytes("\x0a\xff");
  EXPECT_EQ(Run(bad_proposal).type(), ChaincodeMessage::ERROR);

  auto empty = Completed(Transaction("bad3", {}));
  EXPECT_EQ(empty.status(), 400);
}

TEST_F(Fixture, ManyConcurrentTransactionsAreMatchedByTxId) {
  constexpr int kTx = 64;
  for (int i = 0; i < kTx; ++i) {
    ASSERT_TRUE(handler->Handle(Transaction("c" + std::to_string(i), {"put", "k" + std::to_string(i), "v"})).ok());
  }
  peer.WaitFor(ChaincodeMessage::COMPLETED, kTx);
  int completed = 0;
  for (const auto& m : peer.sent()) completed += m.type() == ChaincodeMessage::COMPLETED;
  EXPECT_EQ(completed, kTx);
  EXPECT_EQ(peer.state.size(), size_t(kTx));
}

TEST_F(Fixture, DisconnectFailsWaitingCalls) {
  peer.silent = true;
  ASSERT_TRUE(handler->Handle(Transaction("d1", {"get", "k"})).ok());
  peer.WaitFor(ChaincodeMessage::GET_STATE);
  handler->Disconnect();
  auto msgs = peer.WaitFor(ChaincodeMessage::COMPLETED);
  bool found = false;
  for (const auto& m : msgs) {
    if (m.txid() == "d1" && m.type() == ChaincodeMessage::COMPLETED) {
      protos::Response r;
      r.ParseFromString(m.payload());
      found = r.message().find("peer_disconnected") != std::string::npos;
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace medledger::chaincode
