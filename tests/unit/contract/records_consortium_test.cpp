// The contract's side of a consortium (docs/CONSORTIUM.md): the key-level endorsement policy on a report's keys,
// and key releases to another organisation's server, allowed only for a recent committed read by a doctor of that
// organisation under a consent or break-glass grant that still holds, once per read.
#include "contract/endorsement_policy.h"
#include "contract/records_support.h"
#include "pb/common/policies.pb.h"
#include "pb/msp/msp_principal.pb.h"
#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

std::string ReportKey(const char* type, std::vector<std::string> attrs) {
  return CreateCompositeKey(type, attrs).value();
}

TEST(EndorsementPolicy, DecodesAsOneSignatureOfTheOrganisationsPeer) {
  common::SignaturePolicyEnvelope env;
  ASSERT_TRUE(env.ParseFromString(OrganizationPeerPolicy("HospitalAMSP")));
  EXPECT_EQ(env.version(), 0);
  ASSERT_EQ(env.identities_size(), 1);
  EXPECT_EQ(env.identities(0).principal_classification(), msp::MSPPrincipal::ROLE);
  msp::MSPRole role;
  ASSERT_TRUE(role.ParseFromString(env.identities(0).principal()));
  EXPECT_EQ(role.msp_identifier(), "HospitalAMSP");
  EXPECT_EQ(role.role(), msp::MSPRole::PEER);
  ASSERT_TRUE(env.rule().has_n_out_of());
  EXPECT_EQ(env.rule().n_out_of().n(), 1);
  ASSERT_EQ(env.rule().n_out_of().rules_size(), 1);
  ASSERT_EQ(env.rule().n_out_of().rules(0).Type_case(), common::SignaturePolicy::kSignedBy);
  EXPECT_EQ(env.rule().n_out_of().rules(0).signed_by(), 0);
  // Re-encoding with the generated classes gives the same bytes: peers compare policies byte for byte.
  EXPECT_EQ(env.SerializeAsString(), OrganizationPeerPolicy("HospitalAMSP"));
}

class ConsortiumTest : public RecordsTest {
 protected:
  void SetUp() override {
    RegisterPatients();
    CreateReport("doctor", "r1", kPatientA);
  }
  // other_doctor (Org2MSP) reads r1 under alice's consent; returns the read's transaction ID.
  std::string ForeignRead() {
    Ok("other_doctor", "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}});
    return last_tx_;
  }
  json Release(const std::string& access_tx, int64_t version = 1, const std::string& recipient = "Org2MSP") {
    return {{"accessTxId", access_tx},
            {"reportId", "r1"},
            {"version", version},
            {"recipientMsp", recipient},
            {"outcome", "released"}};
  }
};

TEST_F(ConsortiumTest, ReportKeysCarryTheAuthorsOrganisationPolicy) {
  const auto& params = stub_.validation_parameters();
  const std::string policy = OrganizationPeerPolicy("Org1MSP");
  ASSERT_TRUE(params.count(ReportKey("report", {"r1"})));
  EXPECT_EQ(params.at(ReportKey("report", {"r1"})), policy);
  ASSERT_TRUE(params.count(ReportKey("reportver", {"r1", records::VersionKey(1)})));
  Ok("doctor", "AmendReport", {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}});
  EXPECT_EQ(stub_.validation_parameters().at(ReportKey("reportver", {"r1", records::VersionKey(2)})), policy);
}

TEST_F(ConsortiumTest, AConsentedForeignReadAllowsOneRelease) {
  Grant("alice", kPatientA, "Org2MSP/drhouse", 3600);
  const std::string access = ForeignRead();
  json released = Ok("service", "RecordKeyRelease", Release(access));
  EXPECT_EQ(released["doctor"], "Org2MSP/drhouse");
  EXPECT_EQ(released["basis"], "consent");
  EXPECT_EQ(released["releasedBy"], "Org1MSP/medledger-log");
  // A replay of the same read releases nothing more.
  Response again = Call("service", "RecordKeyRelease", Release(access));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Code(again), "key_already_released");
  // The patient's trail names the release and its recipient.
  json trail = Ok("alice", "ListAccessEvents", {{"patientRef", kPatientA}, {"kind", "key_released"}});
  ASSERT_EQ(trail["items"].size(), 1u);
  EXPECT_EQ(trail["items"][0]["recipientMsp"], "Org2MSP");
}

TEST_F(ConsortiumTest, OnlyTheAuthorsOrganisationsServiceReleases) {
  Grant("alice", kPatientA, "Org2MSP/drhouse", 3600);
  const std::string access = ForeignRead();
  for (const char* who : {"doctor", "admin", "auditor", "alice", "other_doctor"}) {
    EXPECT_EQ(Call(who, "RecordKeyRelease", Release(access)).status, 403) << who;
  }
  Response foreign = Call("other_service", "RecordKeyRelease", Release(access, 1, "Org1MSP"));
  EXPECT_EQ(foreign.status, 403);
  EXPECT_EQ(Call("service", "RecordKeyRelease", Release(access, 1, "Org1MSP")).status, 400);  // to itself
}

TEST_F(ConsortiumTest, ReleasesNeedAMatchingRecentReadUnderAGrantThatStillHolds) {
  // No read at all.
  Response none = Call("service", "RecordKeyRelease", Release(std::string(64, 'e')));
  EXPECT_EQ(Code(none), "access_tx_not_found");
  // A read by a doctor of the holder's own organisation is not a read by the recipient's.
  Grant("alice", kPatientA, "Org1MSP/drwho", 3600);
  Ok("doctor2", "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}});
  EXPECT_EQ(Code(Call("service", "RecordKeyRelease", Release(last_tx_))), "access_mismatch");

  Grant("alice", kPatientA, "Org2MSP/drhouse", 3600);
  std::string access = ForeignRead();
  EXPECT_EQ(Code(Call("service", "RecordKeyRelease", Release(access, 2))), "version_not_found");
  // Too late: the window is ten minutes.
  Advance(11 * 60);
  EXPECT_EQ(Code(Call("service", "RecordKeyRelease", Release(access))), "access_expired");

  // A consent revoked between the read and the release stops it.
  access = ForeignRead();
  json consents = Ok("alice", "ListConsents", {{"patientRef", kPatientA}});
  for (const auto& c : consents["items"]) {
    if (c["doctor"] == "Org2MSP/drhouse") {
      Ok("alice", "RevokeAccess", {{"patientRef", kPatientA}, {"consentId", c["consentId"]}});
    }
  }
  EXPECT_EQ(Code(Call("service", "RecordKeyRelease", Release(access))), "no_consent");
}

TEST_F(ConsortiumTest, ABreakGlassReadAllowsARelease) {
  const std::string note = kCid2;
  Ok("other_doctor", "EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", note}});
  const std::string access = ForeignRead();
  EXPECT_EQ(Ok("service", "RecordKeyRelease", Release(access))["basis"], "emergency");
}

TEST_F(ConsortiumTest, RefusalsAreRecordedWithACodeOnly) {
  json refused = Release(std::string(64, 'f'));
  refused["outcome"] = "refused";
  refused["reason"] = "access_tx_not_found";
  Ok("service", "RecordKeyRelease", refused);
  json trail = Ok("auditor", "ListAccessEvents", {{"kind", "key_release_refused"}});
  ASSERT_EQ(trail["items"].size(), 1u);
  EXPECT_EQ(trail["items"][0]["reason"], "access_tx_not_found");
  refused["reason"] = "he asked nicely";
  EXPECT_EQ(Call("service", "RecordKeyRelease", refused).status, 400);
  json stray = Release(std::string(64, 'f'));
  stray["reason"] = "no_consent";
  EXPECT_EQ(Call("service", "RecordKeyRelease", stray).status, 400);
}

}  // namespace
}  // namespace medledger::contract::testing

namespace medledger::contract::testing {
namespace {

TEST_F(ConsortiumTest, TheServiceIdentityReadsTheGrantsAroundARead) {
  Grant("alice", kPatientA, "Org2MSP/drhouse", 3600);
  Ok("other_doctor", "EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", kCid2}});
  json args = {{"patientRef", kPatientA}, {"doctor", "Org2MSP/drhouse"}, {"reportId", "r1"}};
  json grants = Ok("service", "GetAccessGrants", args);
  ASSERT_EQ(grants["consents"]["items"].size(), 1u);
  EXPECT_EQ(grants["consents"]["items"][0]["doctor"], "Org2MSP/drhouse");
  ASSERT_EQ(grants["emergencies"]["items"].size(), 1u);
  EXPECT_EQ(grants["emergencies"]["items"][0]["reportId"], "r1");
  for (const char* who : {"doctor", "other_doctor", "admin", "auditor", "alice"}) {
    EXPECT_EQ(Call(who, "GetAccessGrants", args).status, 403) << who;
  }
}

}  // namespace
}  // namespace medledger::contract::testing
