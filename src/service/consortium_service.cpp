#include "service/consortium_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/encoding.h"
#include "common/json_strict.h"
#include "consortium/key_release.h"
#include "content/car.h"
#include "content/cid.h"
#include "reportlog/block_leaves.h"

namespace medledger::service {
namespace {

using json = nlohmann::json;
namespace cs = consortium;

constexpr int kMaxRefusalsInFlight = 16;
constexpr size_t kMaxCarBytes = size_t{64} << 20;  // a report with its attachments is at most a few MiB
constexpr std::string_view kCarType = "application/vnd.ipld.car";
constexpr std::string_view kJsonType = "application/json";

Error Unavailable(std::string code, std::string message) {
  return MakeError(ErrorKind::kUnavailable, std::move(code), std::move(message));
}

// The holder's refusal codes that are recorded on the ledger (the contract's closed list).
bool Recordable(const std::string& code) {
  static constexpr std::string_view kCodes[] = {"access_tx_not_found", "access_tx_invalid", "access_mismatch",
                                                "no_consent",          "access_expired",    "key_already_released",
                                                "version_not_found",   "key_destroyed"};
  for (auto c : kCodes) {
    if (c == code) return true;
  }
  return false;
}

// ConsentFacts from the contract's GetAccessGrants answer (records as the contract stores them).
cs::ConsentFacts FactsFrom(const json& grants) {
  cs::ConsentFacts facts;
  auto time = [](const json& j, const char* field) -> std::optional<Timestamp> {
    auto it = j.find(field);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    auto t = Timestamp::FromRfc3339(it->get<std::string>());
    return t.ok() ? std::optional<Timestamp>(*t) : std::nullopt;
  };
  // The contract's answer is trusted for content but not assumed to have every field: absent lists grant nothing.
  auto items = [&grants](const char* list) {
    auto it = grants.find(list);
    if (it == grants.end() || !it->is_object()) return json::array();
    auto inner = it->find("items");
    return inner != it->end() && inner->is_array() ? *inner : json::array();
  };
  for (const auto& c : items("consents")) {
    if (!c.is_object()) continue;
    auto granted = time(c, "grantedAt");
    auto expires = time(c, "expiresAt");
    if (!granted || !expires) continue;  // a record that does not parse grants nothing
    facts.consents.push_back(
        {c.value("patientRef", ""), c.value("doctor", ""), *granted, *expires,
         c.value("revoked", false) ? time(c, "revokedAt").value_or(*granted) : std::optional<Timestamp>()});
  }
  for (const auto& g : items("emergencies")) {
    if (!g.is_object()) continue;
    auto granted = time(g, "grantedAt");
    auto expires = time(g, "expiresAt");
    if (!granted || !expires) continue;
    facts.emergencies.push_back({g.value("doctor", ""), g.value("reportId", ""), *granted, *expires});
  }
  return facts;
}

}  // namespace

bool ConsortiumService::IsForeign(std::string_view author) const {
  const std::string_view msp = author.substr(0, author.find('/'));
  return !msp.empty() && msp != p_.config->self;
}

Result<std::string> ConsortiumService::Caller(std::string_view chain_pem) const {
  ML_ASSIGN_OR_RETURN(std::string caller,
                      cs::MemberForClientCertificate(*p_.config, chain_pem, std::chrono::system_clock::now()));
  ML_RETURN_IF_ERROR(cs::CheckCaller(*p_.config, caller));
  return caller;
}

void ConsortiumService::RecordRefusal(const std::string& caller, std::string_view access_tx_id,
                                      std::string_view report_id, int64_t version, const std::string& reason) {
  refusals_.fetch_add(1);
  spdlog::warn(R"({{"event":"key_release_refused","member":"{}","reason":"{}"}})", caller, reason);
  // Only well-formed requests can be recorded (the contract checks its arguments like any other).
  if (!Recordable(reason) || access_tx_id.size() != 64 || !cs::IsIdentifier(report_id) || version < 1) return;
  if (refusals_in_flight_.fetch_add(1) >= kMaxRefusalsInFlight) {
    refusals_in_flight_.fetch_sub(1);
    return;  // a flood of bad requests is logged and counted, not allowed to fill the ledger
  }
  auto service = p_.service_identity();
  if (!service.ok()) {
    refusals_in_flight_.fetch_sub(1);
    return;
  }
  json arg = {{"accessTxId", access_tx_id}, {"reportId", report_id}, {"version", version},
              {"recipientMsp", caller},     {"outcome", "refused"},  {"reason", reason}};
  p_.ledger->SubmitAsync(*service, {"RecordKeyRelease", {arg.dump()}}, [this](Result<ledger::TxReceipt> r) {
    if (!r.ok()) spdlog::warn(R"({{"event":"key_release_refusal_not_recorded","code":"{}"}})", r.error().code);
    refusals_in_flight_.fetch_sub(1);
  });
}

Result<std::string> ConsortiumService::ReleaseKey(std::string_view caller_chain_pem, std::string_view body) {
  ML_ASSIGN_OR_RETURN(std::string caller, Caller(caller_chain_pem));
  auto request = cs::ParseReleaseRequest(body);
  if (!request.ok()) {
    RecordRefusal(caller, "", "", 0, "invalid_request");
    return request.error();
  }
  auto refuse = [&](Error e) -> Error {
    RecordRefusal(caller, request->access_tx_id, request->report_id, request->version, e.code);
    return e;
  };

  // 2-3, 5: the read as this organisation's own peer committed it.
  auto proof = p_.ledger->GetTransactionProof(request->access_tx_id);
  if (!proof.ok()) {
    if (proof.error().code == "tx_not_found" || proof.error().kind == ErrorKind::kNotFound) {
      return refuse(MakeError(ErrorKind::kNotFound, "access_tx_not_found", "no transaction has this ID here"));
    }
    return proof.error();  // this server's own peer is unreachable: not the caller's fault, nothing to record
  }
  const int code = proof->validation_code == "VALID" ? cs::kTxValid : 255;
  auto tx = cs::ParseAccessTransaction(proof->envelope, code);
  if (!tx.ok()) return refuse(tx.error());
  auto summary = cs::SummarizeAccess(*tx);
  if (!summary.ok()) return refuse(summary.error());

  // 4: the consents and grants around that read, on this organisation's own peer.
  ML_ASSIGN_OR_RETURN(auto service, p_.service_identity());
  json grants_arg = {
      {"patientRef", summary->patient_ref}, {"doctor", summary->doctor}, {"reportId", summary->report_id}};
  ML_ASSIGN_OR_RETURN(std::string grants_text, p_.ledger->Evaluate(service, {"GetAccessGrants", {grants_arg.dump()}}));
  json grants = json::parse(grants_text, nullptr, false);
  if (!grants.is_object()) return MakeError(ErrorKind::kInternal, "contract_payload_invalid", "GetAccessGrants");
  auto checked = cs::CheckAccessForRelease(*tx, *request, caller, Timestamp::Now(), FactsFrom(grants));
  if (!checked.ok()) return refuse(checked.error());

  // 6: the key of the version read. The read's answer names the head it returned.
  json answer = json::parse(tx->response_payload, nullptr, false);
  const json& head = answer.is_object() && answer.contains("report") ? answer["report"] : json();
  if (!head.is_object() || head.value("version", int64_t{0}) != request->version) {
    return refuse(
        MakeError(ErrorKind::kNotFound, "version_not_found", "a key is released for the version the read returned"));
  }
  // The key's ID is in the envelope: from this node, or any member's replica when this node is down.
  auto envelope = Ciphertext(head.value("cid", ""), "");
  if (!envelope.ok()) return envelope.error();
  auto data_key = p_.vault->DataKey(request->report_id, *envelope);
  if (!data_key.ok()) {
    if (data_key.error().code == "key_destroyed") {
      return refuse(MakeError(ErrorKind::kNotFound, "key_destroyed", "this report's content was erased"));
    }
    return data_key.error();
  }

  // Log before release: the contract re-checks the grant now and refuses a second release for the same read.
  json release = {{"accessTxId", request->access_tx_id},
                  {"reportId", request->report_id},
                  {"version", request->version},
                  {"recipientMsp", caller},
                  {"outcome", "released"}};
  auto committed = p_.ledger->Submit(service, {"RecordKeyRelease", {release.dump()}});
  if (!committed.ok()) {
    if (Recordable(committed.error().code)) return refuse(committed.error());
    return committed.error();
  }
  ML_ASSIGN_OR_RETURN(auto sealed, cs::SealDataKey(data_key->data_key, *request, committed->tx_id));
  releases_.fetch_add(1);
  spdlog::info(R"({{"event":"key_released","member":"{}","releaseTxId":"{}"}})", caller, committed->tx_id);
  return cs::SerializeReleaseResponse({committed->tx_id, data_key->key_id, sealed.enc, sealed.ciphertext});
}

Result<std::string> ConsortiumService::ServeCar(std::string_view caller_chain_pem, std::string_view cid_text) {
  ML_ASSIGN_OR_RETURN(std::string caller, Caller(caller_chain_pem));
  (void)caller;  // any member may fetch ciphertext: it is sealed, and the key is released separately
  ML_ASSIGN_OR_RETURN(content::Cid cid, content::Cid::Parse(cid_text));
  auto bytes = p_.content->Cat(cid.ToString());
  if (!bytes.ok()) {
    if (bytes.error().kind == ErrorKind::kNotFound) {
      return MakeError(ErrorKind::kNotFound, "content_not_found", "this node holds no content with this CID");
    }
    return bytes.error();
  }
  return content::FileAsCar(*bytes, cid);
}

Result<std::string> ConsortiumService::AcceptReplica(std::string_view caller_chain_pem, std::string_view body) {
  ML_ASSIGN_OR_RETURN(std::string caller, Caller(caller_chain_pem));
  if (body.size() > 4096) return MakeError(ErrorKind::kTooLarge, "body_too_large", "a replica request is small");
  ML_ASSIGN_OR_RETURN(json req, ParseStrictJson(body));
  if (!req.is_object() || req.size() != 3 || !req.contains("reportId") || !req.contains("version") ||
      !req.contains("txId") || !req["reportId"].is_string() || !req["version"].is_number_integer() ||
      !req["txId"].is_string()) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_request",
                     "a replica request is {\"reportId\": string, \"version\": integer, \"txId\": string}");
  }
  const std::string report_id = req["reportId"];
  const int64_t version = req["version"];
  const std::string tx_id = req["txId"];
  // The CID comes from the transaction as this organisation's own peer committed it.
  ML_ASSIGN_OR_RETURN(auto proof, p_.ledger->GetTransactionProof(tx_id));
  if (proof.validation_code != "VALID") {
    return MakeError(ErrorKind::kConflict, "tx_invalid", "the transaction was not committed as valid");
  }
  ML_ASSIGN_OR_RETURN(auto events, reportlog::EventsFromEnvelope(proof.envelope, proof.block_number, "records"));
  if (!events.leaf || events.leaf->report_id != report_id || events.leaf->version != version ||
      events.leaf->kind == reportlog::LeafKind::kAccessed) {
    return MakeError(ErrorKind::kInvalidArgument, "tx_mismatch",
                     "the transaction does not create or amend this version of this report");
  }
  // Only the organisation whose doctor wrote that version asks for replicas of it.
  ML_ASSIGN_OR_RETURN(auto tx, cs::ParseAccessTransaction(proof.envelope, cs::kTxValid));
  if (tx.creator_msp != caller) {
    return MakeError(ErrorKind::kPermissionDenied, "tx_mismatch", "the version was written by another member");
  }
  const cs::Member* author = p_.config->Find(caller);
  ML_ASSIGN_OR_RETURN(std::string bytes, FromGateways(events.leaf->cid, author->msp_id));
  content::AddOptions add;
  add.cid_version = content::Cid::Parse(events.leaf->cid)->version();
  ML_ASSIGN_OR_RETURN(std::string cid, p_.content->Add(bytes, add));
  if (cid != events.leaf->cid) {
    return MakeError(ErrorKind::kCorruption, "ipfs_cid_mismatch", "the replica imported under another CID");
  }
  return json{{"cid", cid}, {"pinned", true}}.dump();
}

Result<net::HttpReply> ConsortiumService::Call(const cs::Member& member, const std::string& path,
                                               const std::string& body, const std::string& expect_type,
                                               size_t max_bytes) {
  net::HttpCall call;
  call.url = member.url + path;
  call.timeout_ms = p_.call_timeout_ms;
  call.max_bytes = max_bytes;
  call.client_cert_file = p_.config->tls_cert_file;
  call.client_key_file = p_.config->tls_key_file;
  call.ca_file = member.tls_ca_file;
  if (!body.empty()) {
    call.content_type = std::string(kJsonType);
    call.body = body;
  }
  auto reply = p_.http(call);
  if (!reply.ok()) {
    return Unavailable("member_unavailable", member.msp_id + " did not answer: " + reply.error().code);
  }
  if (reply->status == 200 && !expect_type.empty() &&
      reply->content_type.substr(0, expect_type.size()) != expect_type) {
    return Unavailable("member_bad_response", member.msp_id + " answered with " + reply->content_type);
  }
  return reply;
}

Result<std::string> ConsortiumService::Ciphertext(const std::string& cid_text, std::string_view first_member) {
  // This node first: it holds its own reports and its replicas, and fetches others by Bitswap when peered.
  auto local = p_.content->Cat(cid_text);
  if (local.ok()) return local;
  return FromGateways(cid_text, first_member);
}

Result<std::string> ConsortiumService::FromGateways(const std::string& cid_text, std::string_view first_member) {
  ML_ASSIGN_OR_RETURN(content::Cid cid, content::Cid::Parse(cid_text));
  std::vector<const cs::Member*> order;
  const cs::Member* first = p_.config->Find(first_member);
  if (first != nullptr) order.push_back(first);
  for (const auto& m : p_.config->members) {
    if (&m != first) order.push_back(&m);
  }
  for (const cs::Member* m : order) {
    if (m->msp_id == p_.config->self) continue;
    auto reply = Call(*m, "/ipfs/" + cid_text + "?format=car", "", std::string(kCarType), kMaxCarBytes);
    if (!reply.ok() || reply->status != 200) continue;
    auto file = content::FileFromCar(reply->body, cid);  // every block checked against its CID
    if (file.ok()) return file;
    spdlog::warn(R"({{"event":"replica_corrupt","member":"{}","code":"{}"}})", m->msp_id, file.error().code);
  }
  return Unavailable("content_unavailable", "no replica of this report's content could be reached");
}

Result<content::OpenedReport> ConsortiumService::ReadForeign(const ForeignRead& read) {
  const std::string holder_msp = read.author.substr(0, read.author.find('/'));
  const cs::Member* holder = p_.config->Find(holder_msp);
  if (holder == nullptr) {
    return MakeError(ErrorKind::kNotFound, "key_holder_unknown",
                     "the report's hospital is not a member of this server's consortium");
  }
  ML_ASSIGN_OR_RETURN(auto ephemeral, crypto::hpke::PrivateKey::Generate());
  cs::ReleaseRequest request{read.access_tx_id, read.report_id, read.version, ephemeral.public_key().bytes()};
  auto reply = Call(*holder, "/peer/v1/keys/release", cs::SerializeReleaseRequest(request), std::string(kJsonType),
                    cs::kMaxResponseBytes);
  if (!reply.ok()) {
    return Unavailable("key_holder_unavailable", holder->display_name + " cannot be reached to release the key");
  }
  if (reply->status != 200) {
    // The holder's refusal, passed on with its code (problem+json).
    json problem = json::parse(reply->body, nullptr, false);
    std::string code = problem.is_object() ? problem.value("code", "") : "";
    if (!cs::IsIdentifier(code)) code = "key_release_refused";
    ErrorKind kind = reply->status == 403   ? ErrorKind::kPermissionDenied
                     : reply->status == 404 ? ErrorKind::kNotFound
                     : reply->status == 409 ? ErrorKind::kConflict
                                            : ErrorKind::kUnavailable;
    return MakeError(kind, code, holder->display_name + " refused to release the key");
  }
  ML_ASSIGN_OR_RETURN(auto response, cs::ParseReleaseResponse(reply->body));
  ML_ASSIGN_OR_RETURN(std::string data_key, cs::OpenDataKey(ephemeral, request, response));
  content::OpenedReport out;
  ML_ASSIGN_OR_RETURN(out.envelope, Ciphertext(read.cid, holder->msp_id));
  ML_ASSIGN_OR_RETURN(out.plaintext, content::ReportVault::OpenReleased(out.envelope, data_key, read.report_id,
                                                                        read.patient_ref, read.content_hash));
  return out;
}

size_t ConsortiumService::Replicate(const std::string& report_id, int64_t version, const std::string& tx_id) {
  const size_t wanted = static_cast<size_t>(std::max(0, p_.config->replication_factor - 1));
  size_t done = 0;
  const std::string body = json{{"reportId", report_id}, {"version", version}, {"txId", tx_id}}.dump();
  for (const auto& member : p_.config->members) {
    if (done == wanted) break;
    if (member.msp_id == p_.config->self) continue;
    auto reply = Call(member, "/peer/v1/replicas", body, std::string(kJsonType), 4096);
    if (reply.ok() && reply->status == 200) {
      ++done;
    } else {
      spdlog::warn(R"({{"event":"replica_failed","member":"{}","status":{}}})", member.msp_id,
                   reply.ok() ? reply->status : 0);
    }
  }
  return done;
}

ConsortiumService::ConsortiumService(ConsortiumParts parts)
    : p_(std::move(parts)), worker_([this](std::stop_token stop) { ReplicationLoop(stop); }) {}

ConsortiumService::~ConsortiumService() {
  worker_.request_stop();
  queue_cv_.notify_all();
}

void ConsortiumService::ReplicateLater(std::string report_id, int64_t version, std::string tx_id) {
  if (p_.config->replication_factor < 2) return;
  {
    std::lock_guard lock(queue_mu_);
    if (queue_.size() >= kMaxQueuedReplications) {
      replication_dropped_.fetch_add(1);
      return;
    }
    queue_.push_back({std::move(report_id), version, std::move(tx_id)});
  }
  queue_cv_.notify_one();
}

void ConsortiumService::ReplicationLoop(std::stop_token stop) {
  const size_t wanted = static_cast<size_t>(std::max(0, p_.config->replication_factor - 1));
  while (!stop.stop_requested()) {
    ReplicationJob job;
    {
      std::unique_lock lock(queue_mu_);
      if (!queue_cv_.wait(lock, stop, [this] { return !queue_.empty(); })) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    // A member that is down now may be back soon: three attempts, 1 s and 4 s apart.
    for (int attempt = 0; attempt < 3 && !stop.stop_requested(); ++attempt) {
      if (Replicate(job.report_id, job.version, job.tx_id) >= wanted) break;
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait_for(lock, stop, std::chrono::seconds(attempt == 0 ? 1 : 4), [] { return false; });
    }
  }
}

}  // namespace medledger::service
