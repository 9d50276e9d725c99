// Cost figures for docs (not a pass/fail benchmark: the machine is shared). Run with
//   contract_tests --gtest_also_run_disabled_tests --gtest_filter='*Cost*'
#include <time.h>

#include <chrono>

#include "contract/client_identity.h"
#include "records_fixture.h"

namespace medledger::contract::testing {
namespace {

// This thread's CPU time: wall time is meaningless on a machine shared by several builds.
struct Clock {
  static std::chrono::nanoseconds now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }
};

double MicrosPer(std::chrono::nanoseconds d, int n) {
  return std::chrono::duration<double, std::micro>(d).count() / n;
}

TEST(Cost, DISABLED_CreateReportAndIdentity) {
  constexpr int kN = 20000;
  Harness h;
  h.RegisterPatients();
  h.CreateReport("doctor", "g1", kPatientA);  // committed, for the GetReport loop
  std::vector<std::string> args;
  args.reserve(kN);
  for (int i = 0; i < kN; ++i) args.push_back(h.CreateArgs(Numbered("r", i), kPatientA).dump());
  const Creator& doctor = Identities::Get()["doctor"].creator;
  auto start = Clock::now();
  for (int i = 0; i < kN; ++i) {
    h.stub_.Begin(doctor, h.NextTxId(), h.now_);
    Response r = h.contract_->Invoke(h.stub_, "CreateReport", {args[i]});
    ASSERT_EQ(r.status, 200) << r.message;
    // Not committed: this measures endorsement (the contract's own work), not the fake ledger's growth.
  }
  double create = MicrosPer(Clock::now() - start, kN);

  start = Clock::now();
  for (int i = 0; i < kN; ++i) {
    h.stub_.Begin(doctor, h.NextTxId(), h.now_);
    Response r = h.contract_->Invoke(h.stub_, "GetReport", {R"({"reportId":"g1"})"});
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
  std::printf(
      "CPU: CreateReport %.1f us/tx (endorsement only), GetReport %.1f us, identity cached %.2f us, parsed %.1f us\n",
      create, get, hit, miss);
}

}  // namespace
}  // namespace medledger::contract::testing
