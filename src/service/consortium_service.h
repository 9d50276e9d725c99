// The hospital-to-hospital side of a consortium (docs/CONSORTIUM.md). As the holder of its reports' keys, a
// server releases a data key to another member's server after checking, on its own peer, the committed read
// that asks for it, and records the release on the ledger before the key leaves; it serves its ciphertexts as
// trustless-gateway CARs and pins other members' reports as replicas. As a reader, it fetches a foreign report's
// key from the holder and the ciphertext from its own node or the holder's gateway, and opens it.
// Callers are other members' servers, identified only by the verified client certificate chain of their
// mutual-TLS connection.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "consortium/consortium_config.h"
#include "content/content_store.h"
#include "content/report_vault.h"
#include "identity/signing_identity.h"
#include "ledger/ledger.h"
#include "net/http_client.h"

namespace medledger::service {

struct ConsortiumParts {
  ledger::Ledger* ledger = nullptr;
  // The organisation's service identity (identity::Organization::ServiceIdentity): it reads the grants around a
  // read and signs key releases.
  std::function<Result<identity::SigningIdentity>()> service_identity;
  content::ContentStore* content = nullptr;
  content::ReportVault* vault = nullptr;
  const consortium::ConsortiumConfig* config = nullptr;
  // Server-to-server calls (HttpFetch in production); the client certificate and CA are filled in here.
  std::function<Result<net::HttpReply>(const net::HttpCall&)> http = net::HttpFetch;
  int64_t call_timeout_ms = 10000;
};

// A report version this server may read (the contract allowed it: `access_tx_id` is the committed RecordAccess).
struct ForeignRead {
  std::string report_id;
  int64_t version = 0;
  std::string patient_ref;
  std::string cid;
  std::string content_hash;
  std::string author;  // "<mspId>/<username>": the holder is the author's organisation
  std::string access_tx_id;
};

class ConsortiumService {
 public:
  explicit ConsortiumService(ConsortiumParts parts);

  // The MSP ID this server belongs to, and whether a report by `author` is another member's.
  const std::string& self() const { return p_.config->self; }
  bool IsForeign(std::string_view author) const;

  // ---- holder side (handlers of the mutual-TLS listener) ----
  // POST /peer/v1/keys/release: the JSON answer, or the refusal's error (its code names the step that failed,
  // docs/CONSORTIUM.md); every refusal after the caller is known is also recorded on the ledger.
  Result<std::string> ReleaseKey(std::string_view caller_chain_pem, std::string_view body);
  // GET /ipfs/{cid}?format=car for a member: the ciphertext's DAG as a CAR.
  Result<std::string> ServeCar(std::string_view caller_chain_pem, std::string_view cid);
  // POST /peer/v1/replicas {reportId, version, txId}: pins a member's report version here; the CID comes from
  // the transaction on this server's own peer, never from the request.
  Result<std::string> AcceptReplica(std::string_view caller_chain_pem, std::string_view body);

  // ---- reader side ----
  // The released key (holder down: 503 "key_holder_unavailable"), then the ciphertext (own node, else the
  // holder's gateway; none: 503 "content_unavailable"), opened and checked against the content hash.
  Result<content::OpenedReport> ReadForeign(const ForeignRead& read);
  // Asks replication_factor - 1 other members, in the file's order, to pin a version this server just committed.
  // Returns how many did; a member that fails is skipped (the next one is asked).
  size_t Replicate(const std::string& report_id, int64_t version, const std::string& tx_id);

  // Replicate() on a background thread with bounded retries; the queue holds at most kMaxQueuedReplications (more
  // are dropped and counted: the author's node still holds the content).
  void ReplicateLater(std::string report_id, int64_t version, std::string tx_id);
  ~ConsortiumService();

  // Counters for /metrics.
  uint64_t releases() const { return releases_.load(); }
  uint64_t refusals() const { return refusals_.load(); }
  uint64_t replications_dropped() const { return replication_dropped_.load(); }

 private:
  Result<std::string> Caller(std::string_view chain_pem) const;
  // Records a refusal on the ledger without waiting; at most kMaxRefusalsInFlight at once (more are only logged).
  void RecordRefusal(const std::string& caller, std::string_view access_tx_id, std::string_view report_id,
                     int64_t version, const std::string& reason);
  Result<net::HttpReply> Call(const consortium::Member& member, const std::string& path, const std::string& body,
                              const std::string& expect_type, size_t max_bytes);
  // The envelope `cid` from this node, else from the members' trustless gateways, `first_member`'s first.
  Result<std::string> Ciphertext(const std::string& cid, std::string_view first_member);
  // Only from the members' gateways (a replica request: this node does not have it yet, and asking it would wait
  // for Bitswap).
  Result<std::string> FromGateways(const std::string& cid, std::string_view first_member);

  ConsortiumParts p_;
  std::atomic<uint64_t> releases_{0};
  std::atomic<uint64_t> refusals_{0};
  std::atomic<int> refusals_in_flight_{0};

  static constexpr size_t kMaxQueuedReplications = 1024;
  struct ReplicationJob {
    std::string report_id;
    int64_t version = 0;
    std::string tx_id;
  };
  void ReplicationLoop(std::stop_token stop);
  std::mutex queue_mu_;
  std::condition_variable_any queue_cv_;
  std::deque<ReplicationJob> queue_;
  std::atomic<uint64_t> replication_dropped_{0};
  std::jthread worker_;  // last: stopped and joined before the queue goes
};

}  // namespace medledger::service
