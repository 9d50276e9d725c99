#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

using namespace std::string_literals;

TEST_F(RecordsTest, RegisterPatientWritesRecordLoginLinkAndEvent) {
  json p = Ok("admin", "RegisterPatient", {{"patientRef", kPatientA}, {"login", "alice"}});
  EXPECT_EQ(p["patientRef"], kPatientA);
  // The login link is a key only; the record names no login (the server sends the certificate's enrollment
  // ID, a pseudonym for patients, never a login name).
  EXPECT_FALSE(p.contains("username"));
  EXPECT_FALSE(p.contains("login"));
  EXPECT_EQ(p["registeredBy"], "Org1MSP/admin1");
  EXPECT_EQ(p["registeredAt"], "2026-06-01T08:00:00.000Z");
  EXPECT_EQ(p["txId"], last_tx_);
  EXPECT_EQ(stub_.state().at("\0patient\0"s + kPatientA + "\0"s), p.dump());
  EXPECT_EQ(stub_.state().at("\0patientlogin\0Org1MSP/alice\0"s), kPatientA);
  // patient record, login link, two event index entries
  EXPECT_EQ(stub_.last_committed_writes().size(), 4u);
}

TEST_F(RecordsTest, RegisterPatientRules) {
  EXPECT_EQ(Call("doctor", "RegisterPatient", json{{"patientRef", kPatientA}}).status, 403);
  EXPECT_EQ(Call("alice", "RegisterPatient", json{{"patientRef", kPatientA}}).status, 403);
  EXPECT_EQ(Call("auditor", "RegisterPatient", json{{"patientRef", kPatientA}}).status, 403);
  Ok("admin", "RegisterPatient", {{"patientRef", kPatientA}, {"login", "alice"}});
  Response dup = Call("admin", "RegisterPatient", json{{"patientRef", kPatientA}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Code(dup), "patient_exists");
  Response relink = Call("admin", "RegisterPatient", json{{"patientRef", kPatientB}, {"login", "alice"}});
  EXPECT_EQ(relink.status, 409);
  EXPECT_EQ(Code(relink), "login_already_linked");
  // A raw hospital number is not a keyed pseudonym.
  for (const std::string& bad : {"MRN-12345"s, std::string(64, 'A'), std::string(63, 'a'), std::string(65, 'a')}) {
    Response r = Call("admin", "RegisterPatient", json{{"patientRef", bad}});
    EXPECT_EQ(r.status, 400) << bad;
  }
  EXPECT_EQ(Call("admin", "RegisterPatient", json{{"patientRef", kPatientB}, {"login", "bob smith"}}).status, 400);
  EXPECT_EQ(Call("admin", "RegisterPatient", json{{"patientRef", kPatientB}, {"mrn", "1"}}).status, 400);
  EXPECT_EQ(Code(Call("admin", "RegisterPatient", json{{"patientRef", kPatientB}, {"username", "bob"}})),
            "unknown_field");
}

TEST_F(RecordsTest, GetPatientRoles) {
  RegisterPatients();
  json arg = {{"patientRef", kPatientA}};
  EXPECT_FALSE(Ok("admin", "GetPatient", arg).contains("username"));
  EXPECT_EQ(Ok("doctor", "GetPatient", arg)["patientRef"], kPatientA);
  EXPECT_EQ(Ok("alice", "GetPatient", arg)["patientRef"], kPatientA);
  EXPECT_EQ(Call("bob", "GetPatient", arg).status, 403);
  EXPECT_EQ(Call("carol", "GetPatient", arg).status, 403);
  EXPECT_EQ(Call("auditor", "GetPatient", arg).status, 403);
  Response missing = Call("admin", "GetPatient", json{{"patientRef", std::string(64, '0')}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Code(missing), "patient_not_found");
}

TEST_F(RecordsTest, BrokenCallerIdentitiesAreForbidden) {
  RegisterPatients();
  for (const char* user : {"no_role", "no_attrs", "nurse", "bad_cn", "bad_pem", "no_msp"}) {
    Response r = Call(user, "GetPatient", json{{"patientRef", kPatientA}});
    EXPECT_EQ(r.status, 403) << user;
    EXPECT_EQ(Code(r), "permission_denied") << user;
  }
}

TEST_F(RecordsTest, DispatchErrors) {
  Response unknown = Call("admin", "DeleteEverything", json::object());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Code(unknown), "unknown_function");
  stub_.Begin(U("admin").creator, NextTxId(), now_);
  Response none = contract_->Invoke(stub_, "GetPatient", {});
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(Code(none), "invalid_arguments");
  Response two = contract_->Invoke(stub_, "GetPatient", {"{}", "{}"});
  EXPECT_EQ(Code(two), "invalid_arguments");
  stub_.Begin(U("admin").creator, "bad tx id", now_);
  EXPECT_EQ(Code(contract_->Invoke(stub_, "GetPatient", {json{{"patientRef", kPatientA}}.dump()})), "invalid_tx_id");
  stub_.Begin(U("admin").creator, NextTxId(), Timestamp{-1, 0});
  EXPECT_EQ(Code(contract_->Invoke(stub_, "GetPatient", {json{{"patientRef", kPatientA}}.dump()})),
            "invalid_timestamp");
}

}  // namespace
}  // namespace medledger::contract::testing
