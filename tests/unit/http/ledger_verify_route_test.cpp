// POST /api/v1/ledger/verify without a verifier (Fabric mode): 501 not_implemented_on_fabric as problem+json,
// after the role check (used to be 200 {ok:false, error:"verify_not_available_on_fabric"}).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/app.h"
#include "ledger/ledger.h"
#include "service/records_service.h"

namespace medledger::http {
namespace {

class ChainOnlyLedger : public ledger::Ledger {
 public:
  Result<std::string> Evaluate(const identity::SigningIdentity&, const ledger::Invocation&) override {
    return MakeError(ErrorKind::kInternal, "unused", "unused");
  }
  void SubmitAsync(const identity::SigningIdentity&, ledger::Invocation, SubmitCallback done) override {
    done(MakeError(ErrorKind::kInternal, "unused", "unused"));
  }
  Result<ledger::ChainInfo> GetChainInfo() override { return ledger::ChainInfo{}; }
  Result<std::string> GetBlock(uint64_t) override {
    return MakeError(ErrorKind::kNotFound, "block_not_found", "no blocks");
  }
  Result<ledger::TransactionProof> GetTransactionProof(const std::string&) override {
    return MakeError(ErrorKind::kNotFound, "tx_not_found", "none");
  }
};

Response CallVerify(App& app, identity::Role role) {
  auto match = app.router().Match("POST", "/api/v1/ledger/verify");
  EXPECT_TRUE(match.ok());
  Request req;
  req.method = "POST";
  req.target = "/api/v1/ledger/verify";
  RequestContext ctx{req};
  ctx.principal = auth::Principal{};
  ctx.principal->username = "someone";
  ctx.principal->role = role;
  return match->route->handler(ctx);
}

TEST(LedgerVerifyRoute, WithoutAVerifierAnswers501NotImplementedOnFabric) {
  ChainOnlyLedger ledger;
  service::ServiceParts parts;
  parts.ledger = &ledger;
  service::RecordsService records(std::move(parts));
  AppDeps deps;
  deps.records = &records;  // verify_ledger left empty, as cmd_serve does on Fabric
  App app(std::move(deps), AppOptions{});

  Response r = CallVerify(app, identity::Role::kAuditor);
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["code"], "not_implemented_on_fabric");
  EXPECT_EQ(body["status"], 501);
  EXPECT_EQ(body["title"], "Not Implemented");
  // Roles are still checked first: a doctor learns nothing about the deployment.
  EXPECT_EQ(CallVerify(app, identity::Role::kDoctor).status, 403);
}

TEST(LedgerVerifyRoute, WithAVerifierAnswersItsReport) {
  ChainOnlyLedger ledger;
  service::ServiceParts parts;
  parts.ledger = &ledger;
  service::RecordsService records(std::move(parts));
  AppDeps deps;
  deps.records = &records;
  deps.verify_ledger = [] { return std::string(R"({"ok":true,"blocks":1,"transactions":0})"); };
  App app(std::move(deps), AppOptions{});
  Response r = CallVerify(app, identity::Role::kAdmin);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["ok"], true);
}

}  // namespace
}  // namespace medledger::http
