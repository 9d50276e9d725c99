// Properties over many inputs: hostile arguments never crash and are always rejected as 400, and the
// contract is deterministic (the same transaction on the same state writes byte-identical values).
#include <random>

#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

constexpr const char* kAllFunctions[] = {"RegisterPatient",  "GetPatient",           "CreateReport",     "AmendReport",
                                         "GetReport",        "ListReportsByPatient", "GetReportHistory", "GrantAccess",
                                         "RevokeAccess",     "ListConsents",         "EmergencyAccess",  "RecordAccess",
                                         "ListAccessEvents", "RecordLookup"};

std::string RandomBytes(std::mt19937_64& rng, size_t max_len) {
  static const std::string kAlphabet = "{}[]\":,\\ \n0123456789-+.eEtrufalsn\x00\xff\xc3\xa9\xf4\x8f\xbf\xbf";
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> mode(0, 3);
  std::string s;
  size_t n = len(rng);
  for (size_t i = 0; i < n; ++i) {
    if (mode(rng) == 0) {
      s += static_cast<char>(rng() & 0xff);
    } else {
      s += kAlphabet[rng() % kAlphabet.size()];
    }
  }
  return s;
}

// A valid argument (every field required) with one field made invalid: a wrong type, an empty or oversized
// string, a control character, deep nesting, or an extra unknown field.
json Mutate(std::mt19937_64& rng, json arg) {
  static const json kBadValues[] = {nullptr,
                                    17,
                                    -1,
                                    1.5,
                                    true,
                                    json::array(),
                                    json::array({1, 2}),
                                    json::object(),
                                    "",
                                    std::string(2001, 'x'),
                                    std::string(70000, 'x'),
                                    "tab\x01",
                                    {{"deep", {{"er", {1}}}}}};
  if (rng() % 4 == 0) {
    arg[Numbered("unexpected_", rng() % 5)] = 1;
    return arg;
  }
  auto it = arg.begin();
  std::advance(it, static_cast<long>(rng() % arg.size()));
  *it = kBadValues[rng() % std::size(kBadValues)];
  return arg;
}

TEST_F(RecordsTest, RandomGarbageArgumentsAreAlways400) {
  RegisterPatients();
  CreateReport("doctor", "r1", kPatientA);
  std::mt19937_64 rng(20261123);
  const char* users[] = {"admin", "doctor", "alice", "auditor"};
  const auto before = stub_.state();
  for (int i = 0; i < 3000; ++i) {
    const char* fn = kAllFunctions[rng() % std::size(kAllFunctions)];
    const char* user = users[rng() % std::size(users)];
    std::string arg = RandomBytes(rng, 200);
    Response r = Call(user, fn, arg);
    ASSERT_EQ(r.status, 400) << fn << " " << user << " arg=" << HexEncode(arg) << " -> " << r.message;
    ASSERT_NE(r.message.find(": "), std::string::npos);
  }
  EXPECT_EQ(stub_.state(), before);
}

TEST_F(RecordsTest, MutatedValidArgumentsAreAlways400) {
  RegisterPatients();
  CreateReport("doctor", "r1", kPatientA);
  json create = CreateArgs("r2", kPatientA);
  create.erase("metadata");
  const std::vector<std::pair<const char*, json>> valid = {
      {"RegisterPatient", {{"patientRef", std::string(64, '9')}}},
      {"CreateReport", create},
      {"AmendReport", {{"reportId", "r1"}, {"cid", kCid2}, {"contentHash", kHash2}}},
      {"GrantAccess",
       {{"patientRef", kPatientA},
        {"doctor", "Org1MSP/drwho"},
        {"purpose", "treatment"},
        {"expiresAt", "2026-07-01T00:00:00Z"}}},
      {"EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", kCid2}}},
      {"RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}}},
      {"GetReport", {{"reportId", "r1"}}},
      {"ListConsents", {{"patientRef", kPatientA}}},
      {"RecordUserEvent",
       {{"action", "enrolled"}, {"subject", "dr.x"}, {"role", "doctor"}, {"certHash", kHash1}, {"channel", "api"}}},
  };
  const auto before = stub_.state();
  std::mt19937_64 rng(7);
  const char* users[] = {"admin", "doctor", "alice", "auditor"};
  for (int i = 0; i < 3000; ++i) {
    const auto& [fn, arg] = valid[rng() % valid.size()];
    json bad = Mutate(rng, arg);
    Response r = Call(users[rng() % std::size(users)], fn, bad.dump());
    ASSERT_EQ(r.status, 400) << fn << " " << bad.dump().substr(0, 200) << " -> " << r.message;
  }
  EXPECT_EQ(stub_.state(), before);
}

// Runs the same sequence of transactions on two fresh contracts and stubs and compares every write.
TEST(Determinism, SameTransactionsWriteIdenticalBytes) {
  struct Run : Harness {
    std::vector<std::map<std::string, std::optional<std::string>>> Play() {
      std::vector<std::map<std::string, std::optional<std::string>>> writes;
      auto step = [&](const std::string& user, const char* fn, const json& arg) {
        Response r = Call(user, fn, arg);
        EXPECT_EQ(r.status, 200) << fn << ": " << r.message;
        writes.push_back(stub_.last_committed_writes());
        writes.back()["~payload"] = r.payload;
        writes.back()["~event"] = stub_.event() ? stub_.event()->first + "|" + stub_.event()->second : "";
        Advance(7);
      };
      step("admin", "RegisterPatient", {{"patientRef", kPatientA}, {"login", "alice"}});
      step("doctor", "CreateReport", CreateArgs("r1", kPatientA));
      step("doctor", "AmendReport",
           {{"reportId", "r1"},
            {"cid", kCid2},
            {"contentHash", kHash2},
            {"metadata", {{"z", 1}, {"a", "first"}, {"flags", {"b", "a"}}}}});
      step("alice", "GrantAccess",
           {{"patientRef", kPatientA},
            {"doctor", "drwho"},
            {"purpose", "treatment"},
            {"expiresAt", "2026-06-02T00:00:00Z"}});
      step("doctor2", "RecordAccess", {{"reportId", "r1"}, {"purpose", "treatment"}});
      step("doctor3", "EmergencyAccess", {{"reportId", "r1"}, {"reasonNote", kCid2}});
      return writes;
    }
  };
  Run a;
  Run b;
  auto wa = a.Play();
  auto wb = b.Play();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_EQ(wa[i], wb[i]) << "transaction " << i;
  EXPECT_EQ(a.stub_.state(), b.stub_.state());
  // Key order inside arguments does not change what is written.
  Run c;
  c.Ok("admin", "RegisterPatient", json{{"patientRef", kPatientA}});
  c.stub_.Begin(Identities::Get()["doctor"].creator, "aa", c.now_);
  std::string reordered = R"({"metadata":{"size":1,"title":"t"},"contentHash":")" + kHash1 + R"(","cid":")" + kCid1 +
                          R"(","patientRef":")" + kPatientA + R"(","reportId":"r9"})";
  Response r1 = c.contract_->Invoke(c.stub_, "CreateReport", {reordered});
  auto w1 = c.stub_.pending_writes();
  c.stub_.Begin(Identities::Get()["doctor"].creator, "aa", c.now_);
  json ordered = {{"reportId", "r9"},
                  {"patientRef", kPatientA},
                  {"cid", kCid1},
                  {"contentHash", kHash1},
                  {"metadata", {{"title", "t"}, {"size", 1}}}};
  Response r2 = c.contract_->Invoke(c.stub_, "CreateReport", {ordered.dump()});
  EXPECT_EQ(r1.payload, r2.payload);
  EXPECT_EQ(w1, c.stub_.pending_writes());
}

}  // namespace
}  // namespace medledger::contract::testing
