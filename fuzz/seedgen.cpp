// Writes the seeds that cannot be typed by hand, from the real code paths with the fixed identities of
// test_identities.h: blocks cut by an embedded ledger (fabric_block_fuzzer), TRANSACTION messages built from
// those blocks' proposals (chaincode_fuzzer), and tokens signed by the JWT test key (jwt_fuzzer).
//   seedgen OUT_DIR   -> OUT_DIR/<target>/<name>
// Run by hand when a format changes (docs/FUZZING.md); its output is checked in under fuzz/corpus/.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "common/encoding.h"
#include "common/time.h"
#include "consortium/key_release.h"
#include "content/cid.h"
#include "content/dag_pb.h"
#include "content/envelope.h"
#include "content/key_log.h"
#include "content/multibase.h"
#include "contract/records_contract.h"
#include "contract/stub.h"
#include "crypto/hash.h"
#include "crypto/hpke.h"
#include "fabric_org.h"
#include "ledger/embedded/embedded_ledger.h"
#include "ledger/storage/block_store.h"
#include "pb/common/common.pb.h"
#include "pb/ledger/queryresult/kv_query_result.pb.h"
#include "pb/peer/chaincode.pb.h"
#include "pb/peer/chaincode_event.pb.h"
#include "pb/peer/chaincode_shim.pb.h"
#include "pb/peer/proposal.pb.h"
#include "receipt/ledger_evidence.h"
#include "test_identities.h"

namespace {

namespace fs = std::filesystem;
using namespace medledger;

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

// put k v | get k | del k | scan a b | page a b n | deny
class KvContract final : public contract::Contract {
 public:
  contract::Response Invoke(contract::ChaincodeStub& stub, std::string_view fn,
                            const std::vector<std::string>& args) override {
    if (fn == "put" && args.size() == 2 && stub.PutState(args[0], args[1]).ok()) return {200, "", "ok"};
    if (fn == "get" && args.size() == 1) {
      auto v = stub.GetState(args[0]);
      if (v.ok() && v->has_value()) return {200, "", **v};
      return {404, "not_found: " + args[0], ""};
    }
    if (fn == "incr" && args.size() == 1) {
      auto v = stub.GetState(args[0]);
      if (v.ok() && stub.PutState(args[0], v->value_or("0") + "1").ok()) return {200, "", "ok"};
    }
    if (fn == "del" && args.size() == 1 && stub.DelState(args[0]).ok()) return {200, "", "ok"};
    if (fn == "scan" && args.size() == 2) {
      auto page = stub.GetStateByRange(args[0], args[1], 0, "");
      if (page.ok() && stub.PutState("scan", std::to_string(page->items.size())).ok()) return {200, "", "ok"};
    }
    if (fn == "page" && args.size() == 3) {
      auto page = stub.GetStateByRange(args[0], args[1], 1, "");
      if (page.ok() && stub.PutState("page", page->bookmark).ok()) return {200, "", "ok"};
    }
    if (fn == "event" && args.size() == 2 && stub.PutState(args[0], "e").ok() && stub.SetEvent(args[0], args[1]).ok()) {
      return {200, "", "ok"};
    }
    return {403, "not_allowed: " + std::string(fn), ""};
  }
};

// ledger_evidence_fuzzer: each endorser transaction of a real block as a receipt's ledger evidence
// (fields as the fuzzer reads them: 4-byte big-endian length, bytes).
void LedgerEvidenceSeeds(const fs::path& out, const common::Block& block) {
  if (block.metadata().metadata_size() == 0) return;
  auto parts = receipt::SplitSignaturesMetadata(block.metadata().metadata(0));
  if (!parts.ok()) return;
  auto field = [](std::string_view bytes) {
    std::string f;
    for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>((bytes.size() >> shift) & 0xff));
    return f.append(bytes);
  };
  for (int i = 0; i < block.data().data_size(); ++i) {
    common::Envelope env;
    common::Payload payload;
    common::ChannelHeader ch;
    if (!env.ParseFromString(block.data().data(i)) || !payload.ParseFromString(env.payload()) ||
        !ch.ParseFromString(payload.header().channel_header()) || ch.type() != common::ENDORSER_TRANSACTION) {
      continue;
    }
    std::string number;
    for (int shift = 56; shift >= 0; shift -= 8) {
      number.push_back(static_cast<char>((block.header().number() >> shift) & 0xff));
    }
    Write(out / "ledger_evidence_fuzzer",
          "evidence_" + std::to_string(block.header().number()) + "_" + std::to_string(i),
          field(ch.channel_id()) + field(ch.tx_id()) + field(number) + field(block.data().data(i)) +
              field(block.header().SerializeAsString()) + field(parts->metadata_signature) +
              field(parts->metadata_value));
  }
}

int FabricSeeds(const fs::path& out, const fuzz::FabricOrg& org, std::vector<std::string>* headers) {
  fs::path dir = fs::temp_directory_path() / ("medledger_seedgen_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    ledger::embedded::EmbeddedLedgerOptions o;
    o.dir = dir.string();
    o.msp_id = "Org1MSP";
    o.ca_cert = org.ca;
    o.peer = org.peer;
    o.orderer = org.orderer;
    o.contract = std::make_shared<KvContract>();
    o.batch.timeout_ms = 1;
    o.execute_threads = 1;
    o.verify_threads = 1;
    auto l = ledger::embedded::EmbeddedLedger::Open(o);
    if (!l.ok()) {
      std::fprintf(stderr, "ledger: %s\n", l.error().ToString().c_str());
      return 1;
    }
    std::vector<ledger::Invocation> calls = {{"put", {"a", "1"}},
                                             {"put", {"b", "2"}},
                                             {"incr", {"a"}},
                                             {"scan", {"a", "z"}},
                                             {"page", {"a", "z", "1"}},
                                             {"del", {"b"}},
                                             {"event", {"c", "payload"}},
                                             {"put", {"composite\x00k", "v"}}};
    for (const auto& call : calls) {
      auto r = (*l)->Submit(*org.alice, call);
      if (!r.ok()) std::fprintf(stderr, "submit %s: %s\n", call.function.c_str(), r.error().ToString().c_str());
    }
  }
  auto store = ledger::storage::BlockStore::Open((dir / "blocks").string());
  if (!store.ok()) return 1;
  for (uint64_t n = 0; n < (*store)->Height(); ++n) {
    auto bytes = (*store)->Read(n);
    if (!bytes.ok()) return 1;
    Write(out / "fabric_block_fuzzer", "block_" + std::to_string(n), *bytes);
    common::Block block;
    if (!block.ParseFromString(*bytes)) return 1;
    LedgerEvidenceSeeds(out, block);
    for (const auto& env_bytes : block.data().data()) {
      common::Envelope env;
      common::Payload payload;
      if (env.ParseFromString(env_bytes) && payload.ParseFromString(env.payload())) {
        headers->push_back(payload.header().SerializeAsString());
      }
    }
  }
  fs::remove_all(dir);
  return 0;
}

void ChaincodeSeeds(const fs::path& out, const std::vector<std::string>& headers) {
  queryresult::KV kv;
  kv.set_namespace_("records");
  kv.set_key("a");
  kv.set_value("1");
  protos::QueryResponse range;
  range.add_results()->set_resultbytes(kv.SerializeAsString());
  range.set_has_more(true);
  range.set_id("q1");
  protos::QueryResponse range_end;
  range_end.add_results()->set_resultbytes(kv.SerializeAsString());
  queryresult::KeyModification mod;
  mod.set_tx_id("tx1");
  mod.set_value("1");
  mod.mutable_timestamp()->set_seconds(1'800'000'000);
  protos::QueryResponse history;
  history.add_results()->set_resultbytes(mod.SerializeAsString());
  protos::QueryResponseMetadata meta;
  meta.set_bookmark("b");
  meta.set_fetched_records_count(1);
  range.set_metadata(meta.SerializeAsString());

  struct Seed {
    std::string name;
    std::vector<std::string> args;
    std::vector<std::string> replies;
  };
  std::vector<Seed> seeds = {
      {"get", {"fn", "ga"}, {"value"}},
      {"put_del", {"fn", "pa,1", "da"}, {"", ""}},
      {"range", {"fn", "ra,z"}, {range.SerializeAsString(), range_end.SerializeAsString(), ""}},
      {"paged", {"fn", "Pa,z"}, {range.SerializeAsString()}},
      {"history", {"fn", "ha"}, {history.SerializeAsString()}},
      {"event_creator", {"fn", "ename,payload", "c"}, {}},
      {"missing_reply", {"fn", "ga", "gb"}, {"only one"}},
  };
  int i = 0;
  for (const auto& s : seeds) {
    protos::ChaincodeMessage m;
    m.set_type(protos::ChaincodeMessage::TRANSACTION);
    m.set_txid("tx" + std::to_string(i));
    m.set_channel_id("medledger");
    protos::ChaincodeInput input;
    for (const auto& a : s.args) input.add_args(a);
    m.set_payload(input.SerializeAsString());
    if (!headers.empty()) {
      protos::Proposal proposal;
      proposal.set_header(headers[static_cast<size_t>(i) % headers.size()]);
      m.mutable_proposal()->set_proposal_bytes(proposal.SerializeAsString());
      m.mutable_proposal()->set_signature("sig");
    }
    protos::QueryResponse replies;
    for (const auto& r : s.replies) replies.add_results()->set_resultbytes(r);
    m.mutable_chaincode_event()->set_payload(replies.SerializeAsString());
    Write(out / "chaincode_fuzzer", s.name, m.SerializeAsString());
    ++i;
  }
  protos::ChaincodeMessage keepalive;
  keepalive.set_type(protos::ChaincodeMessage::KEEPALIVE);
  Write(out / "chaincode_fuzzer", "keepalive", keepalive.SerializeAsString());
  protos::ChaincodeMessage stray;
  stray.set_type(protos::ChaincodeMessage::RESPONSE);
  stray.set_txid("nobody");
  Write(out / "chaincode_fuzzer", "stray_response", stray.SerializeAsString());
}

void JwtSeeds(const fs::path& out) {
  auth::JwtSigner signer(crypto::EcPrivateKey::FromPem(fuzz::kJwtKeyPem).value());
  auth::JwtClaims c;
  c.iss = "https://issuer";
  c.sub = "alice";
  c.aud = "client";
  c.jti = "j1";
  c.role = "doctor";
  c.name = "Alice";
  c.iat = 1'799'999'000;
  c.nbf = 1'799'999'000;
  c.exp = 1'800'000'900;
  auto dir = out / "jwt_fuzzer";
  Write(dir, "valid_token", std::string(1, '\0') + signer.Sign(c).value());
  c.exp = 1'700'000'000;
  Write(dir, "expired_token", std::string(1, '\0') + signer.Sign(c).value());
  Write(dir, "jwks", std::string(1, '\0') + signer.JwksJson());
  const std::string payload =
      R"({"iss":"https://issuer","sub":"alice","aud":"client","jti":"j1","role":"doctor","name":"Alice","iat":1799999000,"nbf":1799999000,"exp":1800000900})";
  Write(dir, "payload", std::string(1, '\1') + payload);
  Write(dir, "payload_aud_array",
        std::string(1, '\1') +
            R"({"iss":"https://issuer","sub":"bob","aud":["other","client"],"exp":1800000900,"iat":1799999000})");
  Write(dir, "payload_types",
        std::string(1, '\1') + R"({"iss":"https://issuer","sub":5,"aud":"client","exp":"soon","nbf":1.5e300})");
  Write(dir, "header_payload",
        std::string(1, '\2') + R"({"alg":"ES256","typ":"JWT","kid":"k1","crit":["b64"]})" + "\n" + payload);
  Write(dir, "header_none", std::string(1, '\2') + R"({"alg":"none","kid":"k1"})" + "\n" + payload);
  Write(dir, "header_jwk",
        std::string(1, '\2') + R"({"alg":"ES256","kid":"k1","jwk":{"kty":"EC"},"jku":"https://x"})" + "\n" + payload);
}

// The content formats, as the tests build them (tests/unit/content): sealed envelopes the envelope target
// can open (its fixed key and binding), dag-pb nodes with links and UnixFS data, key-log records, CIDs.
void ContentSeeds(const fs::path& out) {
  using namespace content;
  const std::string key(32, 'k');
  auto env = SealEnvelope(key, "key-1", EnvelopeBinding{"report", "patient"}, "report text").value();
  Write(out / "envelope_fuzzer", "sealed", env);
  Write(out / "envelope_fuzzer", "sealed_empty",
        SealEnvelope(key, "k", EnvelopeBinding{"report", "patient"}, "").value());
  Write(out / "envelope_fuzzer", "other_binding", SealEnvelope(key, "key-2", EnvelopeBinding{"r2", "p2"}, "x").value());

  Cid raw = Cid::Of(1, kCodecRaw, "chunk");
  Cid pb = Cid::Of(1, kCodecDagPb, "node");
  UnixFsData file;
  file.type = UnixFsType::kFile;
  file.filesize = 10;
  file.blocksizes = {5, 5};
  PbNode root;
  root.links = {PbLink{raw, "", 5}, PbLink{pb, "a.txt", 7}};
  root.data = EncodeUnixFs(file);
  Write(out / "dagpb_fuzzer", "file_root", EncodePbNode(root));
  UnixFsData leaf;
  leaf.type = UnixFsType::kFile;
  leaf.data = "hello";
  leaf.filesize = 5;
  Write(out / "dagpb_fuzzer", "leaf", EncodePbNode(PbNode{{}, EncodeUnixFs(leaf)}));
  UnixFsData dir;
  dir.type = UnixFsType::kDirectory;
  Write(out / "dagpb_fuzzer", "directory", EncodePbNode(PbNode{{PbLink{pb, "sub", 100}}, EncodeUnixFs(dir)}));
  Write(out / "dagpb_fuzzer", "empty", EncodePbNode(PbNode{}));
  Write(out / "dagpb_fuzzer", "unixfs_only", EncodeUnixFs(leaf));

  KeyRecord rec{std::string(32, 'b'), "key-1", "kek-1", std::string(40, 'w')};
  KeyRecord rec2{std::string(32, 'c'), "key-2", "kek-1", std::string(40, 'v')};
  Write(out / "keylog_fuzzer", "one", EncodeKeyRecord(rec));
  Write(out / "keylog_fuzzer", "two", EncodeKeyRecord(rec) + EncodeKeyRecord(rec2));
  // The files a crash or an erasure leaves: a zeroed (erased) record between live ones, a torn last append,
  // and a damaged record before the tail (which an owner's open must refuse).
  const std::string second = EncodeKeyRecord(rec2);
  Write(out / "keylog_fuzzer", "erased_middle",
        EncodeKeyRecord(rec) + second.substr(0, 4) + std::string(second.size() - 4, '\0') + EncodeKeyRecord(rec));
  Write(out / "keylog_fuzzer", "torn_tail", EncodeKeyRecord(rec) + second.substr(0, second.size() / 2));
  std::string damaged = second;
  damaged[damaged.size() - 1] ^= 0x01;
  Write(out / "keylog_fuzzer", "damaged_middle", EncodeKeyRecord(rec) + damaged + EncodeKeyRecord(rec));

  Write(out / "cid_fuzzer", "v0", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
  Write(out / "cid_fuzzer", "v1_raw", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  Write(out / "cid_fuzzer", "v1_dagpb", pb.ToString());
  Write(out / "cid_fuzzer", "base58_v1", "z" + Base58BtcEncode(raw.Bytes()));
  Write(out / "cid_fuzzer", "binary_v1", raw.Bytes());
  Write(out / "cid_fuzzer", "binary_v0", Cid::Parse("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")->Bytes());
}

// key_release_fuzzer: release requests and answers, and RecordAccess transactions the records contract
// committed on an embedded ledger (a consented read and a break-glass read), as envelopes and as the
// ProcessedTransaction qscc returns.
int KeyReleaseSeeds(const fs::path& out, const fuzz::FabricOrg& org) {
  const fs::path dir_out = out / "key_release_fuzzer";
  auto recipient = crypto::hpke::PrivateKey::Derive("key release seed").value();
  consortium::ReleaseRequest request{std::string(64, 'a'), "r1", 1, recipient.public_key().bytes()};
  Write(dir_out, "request", std::string(1, '\0') + consortium::SerializeReleaseRequest(request));
  auto sealed = consortium::SealDataKey(std::string(32, 'k'), request, std::string(64, 'b')).value();
  Write(dir_out, "answer",
        std::string(1, '\1') +
            consortium::SerializeReleaseResponse({std::string(64, 'b'), "key-1", sealed.enc, sealed.ciphertext}));

  // An organisation of its own (the fixed CA of test_identities.h has no subject key identifier, which
  // IssueCertificate needs): the seeds' bytes are what matters, not which keys signed them.
  (void)org;
  const auto ca_key = crypto::EcPrivateKey::Generate().value();
  crypto::CertificateRequest ca_req;
  ca_req.common_name = "ca.Org1MSP";
  ca_req.organization = "Org1MSP";
  ca_req.is_ca = true;
  const auto ca = crypto::IssueCertificate(ca_req, ca_key.PublicKey(), ca_key, nullptr).value();
  auto issue = [&](const std::string& cn, const std::string& ou, const std::string& role) {
    auto key = crypto::EcPrivateKey::Generate().value();
    crypto::CertificateRequest req;
    req.common_name = cn;
    req.organization = "Org1MSP";
    req.organizational_units = {ou};
    if (!role.empty()) req.attributes = {{"role", role}};
    auto cert = crypto::IssueCertificate(req, key.PublicKey(), ca_key, &ca).value();
    return std::make_shared<identity::SigningIdentity>("Org1MSP", cert, key);
  };
  auto admin = issue("admin1", "client", "admin");
  auto author = issue("drhouse", "client", "doctor");
  auto reader = issue("carol", "client", "doctor");
  auto patient = issue("bob", "client", "patient");
  fs::path dir = fs::temp_directory_path() / ("medledger_seedgen_kr_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    ledger::embedded::EmbeddedLedgerOptions o;
    o.dir = dir.string();
    o.msp_id = "Org1MSP";
    o.chaincode = "records";
    o.ca_cert = ca;
    o.peer = issue("peer0", "peer", "");
    o.orderer = issue("orderer0", "orderer", "");
    o.contract = contract::NewRecordsContract();
    o.batch.timeout_ms = 1;
    o.execute_threads = 1;
    o.verify_threads = 1;
    auto l = ledger::embedded::EmbeddedLedger::Open(o);
    if (!l.ok()) return 1;
    const std::string p1 = HexEncode(crypto::Sha256("p1")), p2 = HexEncode(crypto::Sha256("p2"));
    const std::string cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    const std::string hash = HexEncode(crypto::Sha256("v1"));
    auto submit = [&](const identity::SigningIdentity& who, const std::string& fn, const std::string& arg) {
      auto r = (*l)->Submit(who, {fn, {arg}});
      if (!r.ok()) std::fprintf(stderr, "submit %s: %s\n", fn.c_str(), r.error().ToString().c_str());
      return r;
    };
    (void)submit(*admin, "RegisterPatient", R"({"patientRef":")" + p1 + R"(","login":"bob"})");
    (void)submit(*admin, "RegisterPatient", R"({"patientRef":")" + p2 + R"("})");
    // The setup's failures surface as failed reads below.
    for (const auto& [id, ref] : {std::pair{"r1", p1}, std::pair{"r2", p2}}) {
      (void)submit(*author, "CreateReport",
                   std::string(R"({"reportId":")") + id + R"(","patientRef":")" + ref + R"(","cid":")" + cid +
                       R"(","contentHash":")" + hash + R"("})");
    }
    const std::string expires = Timestamp{Timestamp::Now().seconds + 3600, 0}.ToRfc3339();
    (void)submit(
        *patient, "GrantAccess",
        R"({"patientRef":")" + p1 + R"(","doctor":"carol","purpose":"treatment","expiresAt":")" + expires + "\"}");
    (void)submit(*reader, "EmergencyAccess", R"({"reportId":"r2","reasonNote":")" + cid + "\"}");
    std::vector<std::pair<std::string, Result<ledger::TxReceipt>>> reads;
    reads.emplace_back("consent", submit(*reader, "RecordAccess", R"({"reportId":"r1","purpose":"treatment"})"));
    reads.emplace_back("emergency", submit(*reader, "RecordAccess", R"({"reportId":"r2","purpose":"treatment"})"));
    reads.emplace_back("author", submit(*author, "RecordAccess", R"({"reportId":"r1","purpose":"treatment"})"));
    for (const auto& [name, receipt] : reads) {
      if (!receipt.ok()) return 1;
      auto proof = (*l)->GetTransactionProof(receipt->tx_id);
      if (!proof.ok()) return 1;
      Write(dir_out, "envelope_" + name, std::string(1, '\2') + proof->envelope);
      // ProcessedTransaction{transactionEnvelope = 1, validationCode = 2}.
      std::string processed = "\x0a";
      uint64_t n = proof->envelope.size();
      for (; n >= 0x80; n >>= 7) processed.push_back(static_cast<char>((n & 0x7f) | 0x80));
      processed.push_back(static_cast<char>(n));
      processed += proof->envelope;
      Write(dir_out, "processed_" + name, std::string(1, '\3') + processed);
      Write(dir_out, "processed_invalid_" + name, std::string(1, '\3') + processed + "\x10\x0b");
    }
  }
  fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: seedgen OUT_DIR\n");
    return 2;
  }
  fs::path out = argv[1];
  fuzz::FabricOrg org;
  std::vector<std::string> headers;
  if (FabricSeeds(out, org, &headers) != 0) return 1;
  ChaincodeSeeds(out, headers);
  JwtSeeds(out);
  ContentSeeds(out);
  if (KeyReleaseSeeds(out, org) != 0) return 1;
  return 0;
}
