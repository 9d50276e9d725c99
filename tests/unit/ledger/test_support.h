// Shared fixtures for the ledger tests: a throw-away organisation (CA, peer, orderer, users) whose keys are
// also written to disk so a child process can load the same identities, and a small contract that
// exercises every read/write path of the simulator.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "contract/endorsement_policy.h"
#include "contract/stub.h"
#include "crypto/random.h"
#include "crypto/x509.h"
#include "identity/signing_identity.h"
#include "ledger/embedded/embedded_ledger.h"

namespace medledger::ledger::testing {

inline std::string TempDir(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() /
             ("medledger_" + tag + "_" + std::to_string(::getpid()) + "_" + crypto::RandomHex(4));
  std::filesystem::create_directories(dir);
  return dir.string();
}

struct TestOrg {
  std::string msp_id;
  crypto::Certificate ca_cert;
  crypto::EcPrivateKey ca_key;

  static TestOrg Create(const std::string& msp_id) {
    auto key = crypto::EcPrivateKey::Generate().value();
    crypto::CertificateRequest req;
    req.common_name = "ca." + msp_id;
    req.organization = msp_id;
    req.is_ca = true;
    auto cert = crypto::IssueCertificate(req, key.PublicKey(), key, nullptr).value();
    return TestOrg{msp_id, cert, key};
  }

  std::shared_ptr<identity::SigningIdentity> Issue(const std::string& name, const std::string& ou,
                                                   const std::string& role = "") const {
    auto key = crypto::EcPrivateKey::Generate().value();
    crypto::CertificateRequest req;
    req.common_name = name;
    req.organization = msp_id;
    req.organizational_units = {ou};
    if (!role.empty()) req.attributes = {{"role", role}};
    auto cert = crypto::IssueCertificate(req, key.PublicKey(), ca_key, &ca_cert).value();
    return std::make_shared<identity::SigningIdentity>(msp_id, cert, key);
  }
};

// A deterministic key-value contract covering every simulator path:
//   put k v | get k | del k | incr k (read-modify-write) | create k v (409 when k exists)
//   | deny (403) | scan start end (range read, writes "scan:<start>" = count) | page start end size | whoami
//   | policy k msp (a key-level endorsement policy)
class KvContract final : public contract::Contract {
 public:
  contract::Response Invoke(contract::ChaincodeStub& stub, std::string_view fn,
                            const std::vector<std::string>& args) override {
    auto bad = [](std::string m) { return contract::Response{400, "bad_args: " + m, ""}; };
    if (fn == "put" && args.size() == 2) return Check(stub.PutState(args[0], args[1]), "ok");
    if (fn == "get" && args.size() == 1) {
      auto v = stub.GetState(args[0]);
      if (!v.ok()) return Err(v.error());
      if (!*v) return contract::Response{404, "not_found: no key " + args[0], ""};
      return contract::Response{200, "", **v};
    }
    if (fn == "del" && args.size() == 1) return Check(stub.DelState(args[0]), "ok");
    if (fn == "incr" && args.size() == 1) {
      auto v = stub.GetState(args[0]);
      if (!v.ok()) return Err(v.error());
      long n = *v ? std::stol(**v) : 0;
      return Check(stub.PutState(args[0], std::to_string(n + 1)), std::to_string(n + 1));
    }
    if (fn == "create" && args.size() == 2) {
      auto v = stub.GetState(args[0]);
      if (!v.ok()) return Err(v.error());
      if (*v) return contract::Response{409, "key_exists: " + args[0] + " already exists", ""};
      auto st = stub.PutState(args[0], args[1]);
      if (st.ok()) st = stub.SetEvent("created", args[0]);
      return Check(st, stub.GetTxID());
    }
    if (fn == "deny") return contract::Response{403, "not_allowed: this caller may not do that", ""};
    if (fn == "scan" && args.size() == 2) {
      auto page = stub.GetStateByRange(args[0], args[1], 0, "");
      if (!page.ok()) return Err(page.error());
      return Check(stub.PutState("scan:" + args[0], std::to_string(page->items.size())),
                   std::to_string(page->items.size()));
    }
    if (fn == "page" && args.size() == 3) {  // start end page_size: writes "page:<start>" = keys + bookmark
      auto page = stub.GetStateByRange(args[0], args[1], static_cast<uint32_t>(std::stoul(args[2])), "");
      if (!page.ok()) return Err(page.error());
      std::string seen;
      for (const auto& kv : page->items) seen += kv.key + ",";
      seen += "|" + page->bookmark;
      return Check(stub.PutState("page:" + args[0], seen), seen);
    }
    if (fn == "whoami") return contract::Response{200, "", stub.GetCreator().msp_id};
    if (fn == "policy" && args.size() == 2) {  // key msp: k = "v" with a key-level policy naming msp's peers
      auto st = stub.PutState(args[0], "v");
      if (st.ok()) st = stub.SetStateValidationParameter(args[0], contract::OrganizationPeerPolicy(args[1]));
      return Check(st, "ok");
    }
    return bad("unknown function " + std::string(fn));
  }

 private:
  static contract::Response Err(const Error& e) { return contract::Response{400, e.code + ": " + e.message, ""}; }
  static contract::Response Check(const Status& st, std::string payload) {
    if (!st.ok()) return Err(st.error());
    return contract::Response{200, "", std::move(payload)};
  }
};

struct LedgerFixture {
  TestOrg org = TestOrg::Create("Org1MSP");
  std::shared_ptr<identity::SigningIdentity> peer = org.Issue("peer0", "peer");
  std::shared_ptr<identity::SigningIdentity> orderer = org.Issue("orderer0", "orderer");
  std::shared_ptr<identity::SigningIdentity> alice = org.Issue("alice", "client", "doctor");
  std::shared_ptr<identity::SigningIdentity> bob = org.Issue("bob", "client", "patient");

  embedded::EmbeddedLedgerOptions Options(const std::string& dir) const {
    embedded::EmbeddedLedgerOptions o;
    o.dir = dir;
    o.chaincode = "kv";
    o.msp_id = org.msp_id;
    o.ca_cert = org.ca_cert;
    o.peer = peer;
    o.orderer = orderer;
    o.contract = std::make_shared<KvContract>();
    o.batch.timeout_ms = 5;
    o.execute_threads = 2;
    o.verify_threads = 2;
    return o;
  }
};

}  // namespace medledger::ledger::testing
