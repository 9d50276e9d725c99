// Cost figures for docs (not a pass/fail benchmark: the machine is shared). Run with
//   contract_tests --gtest_also_run_disabled_tests --gtest_filter='*Cost*'
#include <chrono>

#include "contract/client_identity.h"
#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

using Clock = std::chrono::steady_clock;

double MicrosPer(Clock::duration d, int n) {
  return std::chrono::duration<double, std::micro>(d).count() / n;
}

TEST(Cost, DISABLED_CreateReportAndIdentity) {
  constexpr int kN = 20000;
  Harness h;
  h.RegisterPatients();
  std::vector<std::string> args;
  args.reserve(kN);
  for (int i = 0; i < kN; ++i) args.push_back(h.CreateArgs(Numbered("r", i), kPatientA).dump());
  const Creator& doctor = Identities::Get()["doctor"].creator;
  auto start = Clock::now();
  for (int i = 0; i < kN; ++i) {
    h.stub_.Begin(doctor, h.NextTxId(), h.now_);
    Response r = h.contract_->Invoke(h.stub_, "CreateReport", {args[i]});
    ASSERT_EQ(r.status, 200) << r.message;
    h.stub_.Commit();
  }
  double create = MicrosPer(Clock::now() - start, kN);

  start = Clock::now();
  for (int i = 0; i < kN; ++i) {
    h.stub_.Begin(doctor, h.NextTxId(), h.now_);
    Response r = h.contract_->Invoke(h.stub_, "GetReport", {R"({"reportId":"r1"})"});
    ASSERT_EQ(r.status, 200);
  }
  double get = MicrosPer(Clock::now() - start, kN);

  IdentityResolver cached;
  start = Clock::now();
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(cached.Resolve(doctor).ok());
  double hit = MicrosPer(Clock::now() - start, kN);
  constexpr int kParses = 2000;
  start = Clock::now();
  for (int i = 0; i < kParses; ++i) {
    IdentityResolver fresh;
    ASSERT_TRUE(fresh.Resolve(doctor).ok());
  }
  double miss = MicrosPer(Clock::now() - start, kParses);
  std::printf("CreateReport %.1f us/tx (incl. fake stub), GetReport %.1f us, identity cached %.2f us, parsed %.1f us\n",
              create, get, hit, miss);
}

}  // namespace
}  // namespace medledger::contract::testing
