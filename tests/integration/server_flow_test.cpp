// The whole report flow over real HTTP against the real binary: login, submit, read, consent, emergency
// access, access log, audit; bad inputs with their status and code and nothing stored; Idempotency-Key;
// stored-content tampering; a slow client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

// A CIDv1 ("b" + base32 lower, no padding) -> the hex SHA-256 digest inside its multihash.
std::string CidDigestHex(const std::string& cid) {
  std::string bytes;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : cid.substr(1)) {
    int v = c >= 'a' && c <= 'z' ? c - 'a' : c >= '2' && c <= '7' ? c - '2' + 26 : -1;
    if (v < 0) return "";
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (bytes.size() < 36) return "";
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes.substr(bytes.size() - 32)) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

class ServerFlowTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->ok()) << "the server did not start";
    for (const char* u : {"admin", "dr.house", "dr.grey", "alice", "bob", "audrey"}) tokens_[u] = server_->Login(u);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  const std::string& Token(const char* user) { return tokens_[user]; }
  std::string PatientIdOf(const char* user) {
    return ParseBody(server_->Get("/api/v1/me", Token(user))).value("patientId", "");
  }
  uint64_t Height() {
    return ParseBody(server_->Get("/api/v1/ledger/status", Token("admin"))).value("height", uint64_t{0});
  }
  // The height once the report log has anchored its last checkpoint: the log signs a checkpoint and commits its
  // AnchorCheckpoint transaction up to a checkpoint interval (1 s here) after it grew, so an earlier test's
  // reports can still add a block. Quiet means unchanged for three intervals.
  uint64_t QuietHeight() {
    uint64_t h = Height();
    auto since = std::chrono::steady_clock::now();
    const auto deadline = since + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() - since < std::chrono::seconds(3)) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the ledger height kept changing for 30 s";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      if (uint64_t now = Height(); now != h) {
        h = now;
        since = std::chrono::steady_clock::now();
      }
    }
    return h;
  }
  size_t ReportCount(const std::string& patient_id) {
    json page = ParseBody(server_->Get("/api/v1/patients/" + patient_id + "/reports?pageSize=100", Token("dr.house")));
    return page.contains("items") && page["items"].is_array() ? page["items"].size() : 0;
  }
  json ReportBody(const std::string& patient_id, const std::string& content = "Chest X-ray clear. No acute findings.") {
    return {{"patientId", patient_id}, {"title", "Radiology"}, {"diagnosis", "Normal chest"}, {"content", content}};
  }

  static ServerProcess* server_;
  static std::map<std::string, std::string> tokens_;
};

ServerProcess* ServerFlowTest::server_ = nullptr;
std::map<std::string, std::string> ServerFlowTest::tokens_;

TEST_F(ServerFlowTest, PatientSearchPagesWithBookmarks) {
  for (const char* name : {"Pager Echo", "Pager Alpha", "Pager Delta", "Pager Bravo", "Pager Charlie"}) {
    json p = {{"mrn", "PG" + std::to_string(static_cast<unsigned char>(name[6]))},
              {"name", name},
              {"birthDate", "1980-02-03"}};
    ASSERT_EQ(server_->PostJson("/api/v1/patients", p.dump(), Token("admin")).status, 201);
  }
  std::vector<std::string> seen;
  std::string bookmark;
  int pages = 0;
  do {
    auto r = server_->Get("/api/v1/patients?query=pager&pageSize=2" + (bookmark.empty() ? "" : "&bookmark=" + bookmark),
                          Token("dr.house"));
    ASSERT_EQ(r.status, 200) << r.body;
    json page = ParseBody(r);
    EXPECT_LE(page["items"].size(), 2u);
    for (const auto& item : page["items"]) seen.push_back(item.value("name", ""));
    bookmark = page.value("bookmark", "");
    ASSERT_LT(++pages, 10) << "paging does not end";
  } while (!bookmark.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen,
            (std::vector<std::string>{"Pager Alpha", "Pager Bravo", "Pager Charlie", "Pager Delta", "Pager Echo"}));
  auto bad = server_->Get("/api/v1/patients?query=pager&bookmark=nonsense", Token("dr.house"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ProblemCode(bad), "invalid_bookmark");
  EXPECT_EQ(server_->Get("/api/v1/patients?query=pager", Token("alice")).status, 403);
}

TEST_F(ServerFlowTest, OpsEndpointsAndSecurityHeaders) {
  auto h = server_->Get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(server_->Get("/readyz").status, 200);
  EXPECT_EQ(h.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(h.Header("cache-control"), "no-store");
  EXPECT_NE(h.Header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(h.Header("referrer-policy"), "no-referrer");
  EXPECT_FALSE(h.Header("x-request-id").empty());
  EXPECT_TRUE(h.Header("strict-transport-security").empty());  // plain HTTP: no HSTS
  // On the API listener the metrics are for administrators and auditors only (docs/SERVER.md).
  EXPECT_EQ(server_->Get("/metrics").status, 401);
  EXPECT_EQ(server_->Get("/metrics", Token("alice")).status, 403);
  EXPECT_EQ(server_->Get("/metrics", Token("dr.house")).status, 403);
  EXPECT_EQ(server_->Get("/metrics", Token("admin")).status, 200);
  auto m = server_->Get("/metrics", Token("audrey"));
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("medledger_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"),
            std::string::npos);
  EXPECT_NE(m.body.find("medledger_ledger_height"), std::string::npos);
  EXPECT_EQ(ParseBody(server_->Get("/api/v1/openapi.json")).value("openapi", ""), "3.1.0");
  auto jwks = ParseBody(server_->Get("/.well-known/jwks.json"));
  ASSERT_TRUE(jwks["keys"].is_array());
  EXPECT_EQ(jwks["keys"][0].value("alg", ""), "ES256");
  EXPECT_EQ(ParseBody(server_->Get("/.well-known/openid-configuration")).value("issuer", ""), server_->base_url());
}

TEST_F(ServerFlowTest, LoginRefreshLogout) {
  for (const auto& [u, t] : tokens_) EXPECT_FALSE(t.empty()) << u;
  auto bad = server_->PostJson("/api/v1/auth/login", R"({"username":"alice","password":"wrong-password"})");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(ProblemCode(bad), "invalid_credentials");
  EXPECT_EQ(bad.Header("content-type"), "application/problem+json");

  json login = {{"username", "bob"}, {"password", server_->Password("bob")}};
  auto first = ParseBody(server_->PostJson("/api/v1/auth/login", login.dump()));
  std::string refresh = first.value("refreshToken", "");
  ASSERT_FALSE(refresh.empty());
  EXPECT_EQ(first["user"].value("role", ""), "patient");
  EXPECT_EQ(first.value("expiresIn", 0), 900);
  auto rotated = server_->PostJson("/api/v1/auth/refresh", json{{"refreshToken", refresh}}.dump());
  ASSERT_EQ(rotated.status, 200);
  std::string refresh2 = ParseBody(rotated).value("refreshToken", "");
  std::string access = ParseBody(rotated).value("accessToken", "");
  EXPECT_EQ(server_->Get("/api/v1/me", access).status, 200);
  // The spent token is dead, and presenting it again ends the whole session (the chain was copied): the
  // rotated refresh token and the session's access token die with it.
  auto reuse = server_->PostJson("/api/v1/auth/refresh", json{{"refreshToken", refresh}}.dump());
  EXPECT_EQ(reuse.status, 401);
  EXPECT_EQ(ProblemCode(reuse), "refresh_token_invalid");
  auto revoked = server_->Get("/api/v1/me", access);
  EXPECT_EQ(revoked.status, 401);
  EXPECT_EQ(ProblemCode(revoked), "token_revoked");
  EXPECT_EQ(server_->PostJson("/api/v1/auth/refresh", json{{"refreshToken", refresh2}}.dump()).status, 401);
  // Logout ends a fresh session: its refresh token and the access token presented with the logout.
  auto again = ParseBody(server_->PostJson("/api/v1/auth/login", login.dump()));
  std::string access3 = again.value("accessToken", "");
  std::string refresh3 = again.value("refreshToken", "");
  ASSERT_FALSE(access3.empty());
  auto out = server_->PostJson("/api/v1/auth/logout", json{{"refreshToken", refresh3}}.dump(), access3);
  EXPECT_EQ(out.status, 204);
  EXPECT_EQ(server_->PostJson("/api/v1/auth/refresh", json{{"refreshToken", refresh3}}.dump()).status, 401);
  EXPECT_EQ(server_->Get("/api/v1/me", access3).status, 401);
}

TEST_F(ServerFlowTest, LoginIsRateLimitedPerUser) {
  HttpResult last;
  int limited_at = 0;
  for (int i = 1; i <= 8 && limited_at == 0; ++i) {
    last = server_->PostJson("/api/v1/auth/login", R"({"username":"carol-nobody","password":"not-the-password"})");
    if (last.status == 429) limited_at = i;
  }
  EXPECT_EQ(limited_at, 6);  // a burst of 5, then refused
  EXPECT_EQ(ProblemCode(last), "too_many_attempts");
  EXPECT_GE(std::atoi(last.Header("retry-after").c_str()), 1);
}

TEST_F(ServerFlowTest, SubmitReadConsentEmergencyAudit) {
  std::string alice = PatientIdOf("alice");
  ASSERT_EQ(alice.size(), 64u);
  auto submitted = server_->PostJson("/api/v1/reports", ReportBody(alice).dump(), Token("dr.house"));
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  json receipt = ParseBody(submitted);
  std::string id = receipt.value("reportId", "");
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(receipt.value("cid", "").substr(0, 1), "b");
  EXPECT_EQ(receipt.value("contentHash", "").size(), 64u);
  EXPECT_EQ(receipt.value("txId", "").size(), 64u);
  EXPECT_GT(receipt.value("blockNumber", uint64_t{0}), 0u);
  EXPECT_EQ(receipt.value("blockHash", "").size(), 64u);

  auto read = server_->Get("/api/v1/reports/" + id, Token("dr.house"));
  ASSERT_EQ(read.status, 200) << read.body;
  json report = ParseBody(read);
  EXPECT_EQ(report.value("content", ""), "Chest X-ray clear. No acute findings.");
  EXPECT_EQ(report.value("author", ""), "dr.house");
  EXPECT_EQ(report.value("contentHash", ""), receipt.value("contentHash", ""));
  EXPECT_EQ(report.value("blockNumber", uint64_t{0}), receipt.value("blockNumber", uint64_t{0}));
  EXPECT_EQ(server_->Get("/api/v1/reports/" + id, Token("alice")).status, 200);  // the patient herself

  // Deny by default: another doctor, another patient, the auditor and the admin get no content.
  for (const char* who : {"dr.grey", "bob", "audrey", "admin"}) {
    auto denied = server_->Get("/api/v1/reports/" + id, Token(who));
    EXPECT_EQ(denied.status, 403) << who << " " << denied.body;
  }

  // Consent lets dr.grey in; revoking it shuts him out again.
  std::time_t in_30_days = std::time(nullptr) + 30 * 24 * 3600;
  char expires[32];
  std::strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&in_30_days));
  json consent_req = {{"doctor", "dr.grey"}, {"purpose", "second opinion"}, {"expiresAt", expires}};
  EXPECT_EQ(server_->PostJson("/api/v1/patients/" + alice + "/consents", consent_req.dump(), Token("bob")).status, 403);
  auto granted = server_->PostJson("/api/v1/patients/" + alice + "/consents", consent_req.dump(), Token("alice"));
  ASSERT_EQ(granted.status, 201) << granted.body;
  std::string consent_id = ParseBody(granted).value("consentId", "");
  ASSERT_FALSE(consent_id.empty());
  EXPECT_EQ(ParseBody(granted).value("doctor", ""), "dr.grey");
  EXPECT_EQ(server_->Get("/api/v1/reports/" + id, Token("dr.grey")).status, 200);
  auto consents = ParseBody(server_->Get("/api/v1/patients/" + alice + "/consents", Token("alice")));
  EXPECT_GE(consents["items"].size(), 1u);
  auto revoke = server_->Request("DELETE", "/api/v1/patients/" + alice + "/consents/" + consent_id, "",
                                 {"Authorization: Bearer " + Token("alice")});
  EXPECT_EQ(revoke.status, 204) << revoke.body;
  EXPECT_EQ(server_->Get("/api/v1/reports/" + id, Token("dr.grey")).status, 403);

  // Break-glass: a stated reason opens the report, flagged for audit.
  auto no_reason =
      server_->PostJson("/api/v1/reports/" + id + "/emergency-access", R"({"reason":"x"})", Token("dr.grey"));
  EXPECT_EQ(no_reason.status, 422);
  EXPECT_EQ(ProblemCode(no_reason), "reason_required");
  auto grant = server_->PostJson("/api/v1/reports/" + id + "/emergency-access",
                                 R"({"reason":"Unconscious patient in the emergency department"})", Token("dr.grey"));
  ASSERT_EQ(grant.status, 201) << grant.body;
  EXPECT_EQ(server_->Get("/api/v1/reports/" + id, Token("dr.grey")).status, 200);
  EXPECT_EQ(server_
                ->PostJson("/api/v1/reports/" + id + "/emergency-access",
                           R"({"reason":"Unconscious patient in the emergency department"})", Token("alice"))
                .status,
            403);

  // The patient sees who read what; the auditor sees the emergency.
  auto log = server_->Get("/api/v1/patients/" + alice + "/access-log", Token("alice"));
  ASSERT_EQ(log.status, 200) << log.body;
  bool saw_emergency_read = false;
  json log_json = ParseBody(log);  // named: a temporary's member would dangle in the range-for
  for (const auto& e : log_json["items"]) {
    if (e.value("actor", "") == "dr.grey" && e.value("emergency", false)) saw_emergency_read = true;
  }
  EXPECT_TRUE(saw_emergency_read) << log.body;
  EXPECT_EQ(server_->Get("/api/v1/patients/" + alice + "/access-log", Token("bob")).status, 403);
  EXPECT_EQ(server_->Get("/api/v1/patients/" + alice + "/access-log", Token("dr.house")).status, 403);
  auto audit = server_->Get("/api/v1/audit/events?emergencyOnly=true", Token("audrey"));
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_GE(ParseBody(audit)["items"].size(), 1u);
  EXPECT_EQ(server_->Get("/api/v1/audit/events", Token("dr.house")).status, 403);

  // Lists, history and proof.
  auto list = server_->Get("/api/v1/patients/" + alice + "/reports", Token("alice"));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_GE(ParseBody(list)["items"].size(), 1u);
  auto proof = server_->Get("/api/v1/reports/" + id + "/proof", Token("dr.house"));
  ASSERT_EQ(proof.status, 200) << proof.body;
  EXPECT_EQ(ParseBody(proof).value("validationCode", ""), "VALID");
  EXPECT_NE(ParseBody(proof).value("creatorCertificate", "").find("BEGIN CERTIFICATE"), std::string::npos);
  auto fhir = server_->Get("/fhir/r4/DiagnosticReport/" + id, Token("dr.house"));
  ASSERT_EQ(fhir.status, 200);
  EXPECT_EQ(ParseBody(fhir).value("resourceType", ""), "DiagnosticReport");
}

TEST_F(ServerFlowTest, FhirDiagnosticReportAndAuditEvent) {
  std::string alice = PatientIdOf("alice");
  json fhir = {{"resourceType", "DiagnosticReport"},
               {"status", "final"},
               {"subject", {{"reference", "Patient/" + alice}}},
               {"code", {{"text", "FHIR lab panel"}}},
               {"conclusion", "Within normal limits"},
               {"presentedForm", json::array({{{"contentType", "text/plain"}, {"data", "SGVsbG8gRkhJUg=="}}})}};
  auto created =
      server_->Request("POST", "/fhir/r4/DiagnosticReport", fhir.dump(),
                       {"Content-Type: application/fhir+json", "Authorization: Bearer " + Token("dr.house")});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = ParseBody(created).value("id", "");
  auto back = ParseBody(server_->Get("/fhir/r4/DiagnosticReport/" + id, Token("alice")));
  EXPECT_EQ(back.value("conclusion", ""), "Within normal limits");
  EXPECT_EQ(back["code"].value("text", ""), "FHIR lab panel");
  EXPECT_EQ(back["presentedForm"][0].value("data", ""), "SGVsbG8gRkhJUg==");  // "Hello FHIR" round trip
  fhir["subject"]["reference"] = "Group/1";
  auto bad = server_->Request("POST", "/fhir/r4/DiagnosticReport", fhir.dump(),
                              {"Content-Type: application/fhir+json", "Authorization: Bearer " + Token("dr.house")});
  EXPECT_EQ(bad.status, 422);
  auto audit = server_->Get("/fhir/r4/AuditEvent?patient=" + alice, Token("audrey"));
  ASSERT_EQ(audit.status, 200) << audit.body;
  json bundle = ParseBody(audit);
  EXPECT_EQ(bundle.value("resourceType", ""), "Bundle");
  ASSERT_GE(bundle["entry"].size(), 1u);
  EXPECT_EQ(bundle["entry"][0]["resource"].value("resourceType", ""), "AuditEvent");
  EXPECT_EQ(server_->Get("/fhir/r4/AuditEvent", Token("dr.house")).status, 403);
}

TEST_F(ServerFlowTest, BadInputsAreRefusedPreciselyAndStoreNothing) {
  std::string alice = PatientIdOf("alice");
  uint64_t before = QuietHeight();
  ASSERT_GT(before, 0u);
  struct Case {
    std::string name;
    std::string body;
    std::vector<std::string> headers;
    std::string token_user;
    long status;
    std::string code;
  };
  json html = ReportBody(alice, "<script>alert(1)</script>");
  json missing = ReportBody(alice);
  missing.erase("title");
  json unknown = ReportBody(std::string(64, 'a'));
  json bad_utf8 = ReportBody(alice);
  std::string exe = std::string("MZ\x90\x00", 4) + "payload";
  json with_exe = ReportBody(alice);
  with_exe["attachments"] =
      json::array({{{"filename", "x.pdf"}, {"contentType", "application/pdf"}, {"data", "TVqQAHBheWxvYWQ="}}});
  std::vector<Case> cases = {
      {"no token", ReportBody(alice).dump(), {"Content-Type: application/json"}, "", 401, "unauthenticated"},
      {"garbage token",
       ReportBody(alice).dump(),
       {"Content-Type: application/json", "Authorization: Bearer abc.def.ghi"},
       "",
       401,
       "token_invalid"},
      {"patient submits", ReportBody(alice).dump(), {"Content-Type: application/json"}, "alice", 403, "forbidden"},
      {"auditor submits", ReportBody(alice).dump(), {"Content-Type: application/json"}, "audrey", 403, "forbidden"},
      {"not json", "{nope", {"Content-Type: application/json"}, "dr.house", 400, "malformed_json"},
      {"json array", "[1,2]", {"Content-Type: application/json"}, "dr.house", 400, "malformed_json"},
      {"wrong type", ReportBody(alice).dump(), {"Content-Type: text/plain"}, "dr.house", 415, "unsupported_media_type"},
      {"missing title", missing.dump(), {"Content-Type: application/json"}, "dr.house", 422, "validation_failed"},
      {"html", html.dump(), {"Content-Type: application/json"}, "dr.house", 422, "validation_failed"},
      {"unknown patient", unknown.dump(), {"Content-Type: application/json"}, "dr.house", 422, "validation_failed"},
      {"invalid utf8",
       R"({"patientId":")" + alice + "\",\"title\":\"a\xff\",\"diagnosis\":\"d\",\"content\":\"c\"}",
       {"Content-Type: application/json"},
       "dr.house",
       400,
       "malformed_json"},
      {"executable attachment",
       with_exe.dump(),
       {"Content-Type: application/json"},
       "dr.house",
       415,
       "unsupported_attachment_type"},
      {"too large",
       ReportBody(alice, std::string(9 * 1024 * 1024, 'a')).dump(),
       {"Content-Type: application/json"},
       "dr.house",
       413,
       "body_too_large"},
  };
  for (const auto& c : cases) {
    auto headers = c.headers;
    if (!c.token_user.empty()) headers.push_back("Authorization: Bearer " + Token(c.token_user.c_str()));
    auto r = server_->Request("POST", "/api/v1/reports", c.body, headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body.substr(0, 300);
    EXPECT_EQ(ProblemCode(r), c.code) << c.name;
    if (c.status != 413) {
      EXPECT_EQ(r.Header("content-type"), "application/problem+json") << c.name;
    }
  }
  auto html_r = server_->PostJson("/api/v1/reports", html.dump(), Token("dr.house"));
  ASSERT_TRUE(ParseBody(html_r)["errors"].is_array());
  EXPECT_EQ(ParseBody(html_r)["errors"][0].value("field", ""), "content");
  EXPECT_EQ(ParseBody(html_r)["errors"][0].value("code", ""), "active_content");
  EXPECT_EQ(server_->Get("/api/v1/reports/" + std::string(32, 'f'), Token("dr.house")).status, 404);
  EXPECT_EQ(server_->Get("/api/v1/reports/..%2F..%2Fetc", Token("dr.house")).status, 404);
  EXPECT_EQ(server_->Get("/api/v1/nope", Token("dr.house")).status, 404);
  EXPECT_EQ(server_->Request("PUT", "/api/v1/reports", "", {}).status, 405);
  EXPECT_EQ(Height(), before);  // nothing reached the ledger
}

TEST_F(ServerFlowTest, IdempotencyKeyReturnsTheFirstReceipt) {
  std::string bob = PatientIdOf("bob");
  std::string body = ReportBody(bob, "Idempotent submission body").dump();
  const size_t reports_before = ReportCount(bob);
  uint64_t before = QuietHeight();
  auto first = server_->PostJson("/api/v1/reports", body, Token("dr.house"), {"Idempotency-Key: key-123"});
  ASSERT_EQ(first.status, 201) << first.body;
  auto second = server_->PostJson("/api/v1/reports", body, Token("dr.house"), {"Idempotency-Key: key-123"});
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.Header("idempotent-replayed"), "true");
  EXPECT_EQ(ParseBody(first).value("reportId", "a"), ParseBody(second).value("reportId", "b"));
  EXPECT_EQ(ParseBody(first).value("txId", "a"), ParseBody(second).value("txId", "b"));
  // One report, one transaction: the replay stored nothing. The log's own anchor of the new report may add a block
  // of its own, so the report count is the exact check and the height bounds it.
  EXPECT_EQ(ReportCount(bob), reports_before + 1);
  const uint64_t after = QuietHeight();
  EXPECT_GE(after, before + 1);
  EXPECT_LE(after, before + 2);
  auto other = server_->PostJson("/api/v1/reports", ReportBody(bob, "different").dump(), Token("dr.house"),
                                 {"Idempotency-Key: key-123"});
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(ProblemCode(other), "idempotency_key_reused");
  // Keys are per user: the same key from another doctor is a new request.
  auto grey = server_->PostJson("/api/v1/reports", body, Token("dr.grey"), {"Idempotency-Key: key-123"});
  EXPECT_EQ(grey.status, 201);
  EXPECT_NE(ParseBody(grey).value("reportId", ""), ParseBody(first).value("reportId", ""));
}

TEST_F(ServerFlowTest, TamperedStoredContentIsDetected) {
  std::string alice = PatientIdOf("alice");
  auto submitted = server_->PostJson("/api/v1/reports", ReportBody(alice, "to be tampered").dump(), Token("dr.house"));
  ASSERT_EQ(submitted.status, 201);
  std::string id = ParseBody(submitted).value("reportId", "");
  std::string digest = CidDigestHex(ParseBody(submitted).value("cid", ""));
  ASSERT_EQ(digest.size(), 64u);
  namespace fs = std::filesystem;
  bool corrupted = false;
  // docs/CONTENT.md: a small report is one raw block; pack records carry the block's SHA-256 (the CID's
  // digest) right before its bytes.
  std::string raw;
  for (size_t i = 0; i < digest.size(); i += 2)
    raw.push_back(static_cast<char>(std::stoi(digest.substr(i, 2), nullptr, 16)));
  for (const auto& e : fs::directory_iterator(server_->data_dir() + "/data/content/blocks")) {
    if (e.path().extension() != ".dat") continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string pack((std::istreambuf_iterator<char>(in)), {});
    const size_t at = pack.find(raw);
    if (at == std::string::npos) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at + raw.size() + 10));
    f.put(static_cast<char>(pack[at + raw.size() + 10] ^ 0x42));
    corrupted = true;
  }
  ASSERT_TRUE(corrupted);
  auto read = server_->Get("/api/v1/reports/" + id, Token("dr.house"));
  EXPECT_EQ(read.status, 500);
  EXPECT_EQ(ProblemCode(read), "content_corrupted");
  EXPECT_EQ(read.body.find("to be tampered"), std::string::npos);
}

TEST(ServerTimeoutTest, SlowClientIsCutOff) {
  ServerProcess server({"--read-timeout-ms", "800"});
  ASSERT_TRUE(server.ok());
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string partial = "GET /healthz HTTP/1.1\r\nHost: x\r\n";  // never finished
  ASSERT_EQ(write(fd, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  auto start = std::chrono::steady_clock::now();
  char buf[256];
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ssize_t n = read(fd, buf, sizeof(buf));
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(n, 0);  // closed without an answer
  EXPECT_GE(waited, 0.5);
  EXPECT_LT(waited, 3.0);
  close(fd);
  EXPECT_EQ(server.Get("/healthz").status, 200);  // and the server is fine
}

}  // namespace
}  // namespace medledger::testing
