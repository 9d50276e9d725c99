// The contract's side of the report log: the events the log's leaves are derived from, and checkpoint anchors.
#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

class LogTest : public RecordsTest {
 protected:
  void SetUp() override {
    RegisterPatients();
    CreateReport("doctor", "r1", kPatientA);
  }
  json Event(const char* want_name) {
    const auto& ev = stub_.event();
    EXPECT_TRUE(ev.has_value());
    if (!ev) return json();
    EXPECT_EQ(ev->first, want_name);
    return json::parse(ev->second);
  }
  json Anchor(int64_t size, const std::string& root) {
    return json{{"origin", "medledger/Org1MSP/reports"}, {"treeSize", size}, {"rootHash", root}};
  }
};

TEST_F(LogTest, ReportEventsCarryEveryLeafField) {
  json created = Event("ReportCreated");
  EXPECT_EQ(created["reportId"], "r1");
  EXPECT_EQ(created["patientRef"], kPatientA);
  EXPECT_EQ(created["version"], 1);
  EXPECT_EQ(created["cid"], kCid1);
  EXPECT_EQ(created["contentHash"], kHash1);
  EXPECT_EQ(created["txId"], last_tx_);

  Ok("doctor", "AmendReport", {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}});
  json amended = Event("ReportAmended");
  EXPECT_EQ(amended["version"], 2);
  EXPECT_EQ(amended["contentHash"], kHash2);

  Ok("doctor", "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}});
  json accessed = Event("ReportAccessed");
  EXPECT_EQ(accessed["reportId"], "r1");
  EXPECT_EQ(accessed["version"], 2);
  EXPECT_EQ(accessed["cid"], kCid2);
  EXPECT_EQ(accessed["contentHash"], kHash2);
  EXPECT_EQ(accessed["txId"], last_tx_);
}

TEST_F(LogTest, OnlyTheServiceIdentityAnchors) {
  const std::string root(64, 'a');
  for (const char* who : {"admin", "doctor", "alice", "auditor"}) {
    Response r = Call(who, "AnchorCheckpoint", Anchor(5, root));
    EXPECT_EQ(r.status, 403) << who;
  }
  json anchored = Ok("service", "AnchorCheckpoint", Anchor(5, root));
  EXPECT_EQ(anchored["treeSize"], 5);
  EXPECT_EQ(anchored["anchoredBy"], "Org1MSP/medledger-log");
  EXPECT_EQ(Event("CheckpointAnchored")["rootHash"], root);
}

TEST_F(LogTest, TheServiceIdentityReadsNothingElse) {
  EXPECT_EQ(Call("service", "GetReport", json{{"reportId", "r1"}}).status, 403);
  EXPECT_EQ(Call("service", "RecordAccess", json{{"reportId", "r1"}, {"purpose", "treatment"}}).status, 403);
  EXPECT_EQ(Call("service", "ListReportsByPatient", json{{"patientRef", kPatientA}}).status, 403);
  EXPECT_EQ(Call("service", "ListAccessEvents", json{{"pageSize", 10}}).status, 403);
  EXPECT_EQ(Call("service", "GetPatient", json{{"patientRef", kPatientA}}).status, 403);
  EXPECT_EQ(Call("service", "CreateReport", CreateArgs("r9", kPatientA)).status, 403);
}

TEST_F(LogTest, AnchorsOnlyGrowAndRefuseAFork) {
  const std::string root_a(64, 'a');
  const std::string root_b(64, 'b');
  Ok("service", "AnchorCheckpoint", Anchor(5, root_a));
  // The same checkpoint again is a no-op (a retried submission).
  EXPECT_EQ(Ok("service", "AnchorCheckpoint", Anchor(5, root_a))["rootHash"], root_a);
  Response fork = Call("service", "AnchorCheckpoint", Anchor(5, root_b));
  EXPECT_EQ(fork.status, 409);
  EXPECT_EQ(Code(fork), "checkpoint_fork");
  Response older = Call("service", "AnchorCheckpoint", Anchor(4, root_b));
  EXPECT_EQ(Code(older), "checkpoint_older");
  Ok("service", "AnchorCheckpoint", Anchor(9, root_b));

  EXPECT_EQ(Ok("auditor", "GetCheckpointAnchor", {{"origin", "medledger/Org1MSP/reports"}})["treeSize"], 9);
  EXPECT_EQ(Ok("doctor", "GetCheckpointAnchor", {{"origin", "medledger/Org1MSP/reports"}, {"treeSize", 5}})["rootHash"],
            root_a);
  EXPECT_EQ(
      Code(Call("auditor", "GetCheckpointAnchor", json{{"origin", "medledger/Org1MSP/reports"}, {"treeSize", 6}})),
      "anchor_not_found");
}

TEST_F(LogTest, AnchorArgumentsAreValidated) {
  EXPECT_EQ(
      Call("service", "AnchorCheckpoint", json{{"origin", "/bad"}, {"treeSize", 1}, {"rootHash", std::string(64, 'a')}})
          .status,
      400);
  EXPECT_EQ(
      Call("service", "AnchorCheckpoint", json{{"origin", "a/b"}, {"treeSize", 0}, {"rootHash", std::string(64, 'a')}})
          .status,
      400);
  EXPECT_EQ(Call("service", "AnchorCheckpoint", json{{"origin", "a/b"}, {"rootHash", std::string(64, 'a')}}).status,
            400);
  EXPECT_EQ(Call("service", "AnchorCheckpoint", json{{"origin", "a/b"}, {"treeSize", 1}, {"rootHash", "00"}}).status,
            400);
  EXPECT_EQ(
      Call("service", "AnchorCheckpoint", json{{"origin", "a//b"}, {"treeSize", 1}, {"rootHash", std::string(64, 'a')}})
          .status,
      400);
}

}  // namespace
}  // namespace medledger::contract::testing
