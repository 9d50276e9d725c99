// POST /reports as multipart/form-data through the real server: the same report as JSON, attachments as raw
// file parts, and every malformed or refused form answered precisely with nothing stored.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server_harness.h"

namespace medledger::testing {
namespace {

using json = nlohmann::json;

struct Part {
  std::string name, filename, type, data;
};

std::string Form(const std::string& boundary, const std::vector<Part>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) out += "; filename=\"" + p.filename + "\"";
    out += "\r\n";
    if (!p.type.empty()) out += "Content-Type: " + p.type + "\r\n";
    out += "\r\n" + p.data + "\r\n";
  }
  return out + "--" + boundary + "--\r\n";
}

TEST(ServerMultipartTest, SubmitsReportsWithRawAttachmentsAndRefusesBadForms) {
  ServerProcess server;
  ASSERT_TRUE(server.ok()) << "the server did not start";
  const std::string doctor = server.Login("dr.house");
  const std::string alice = ParseBody(server.Get("/api/v1/me", server.Login("alice"))).value("patientId", "");
  ASSERT_FALSE(alice.empty());
  const std::string auth = "Authorization: Bearer " + doctor;
  const std::string form_type = "Content-Type: multipart/form-data; boundary=----medledgerQ1";
  // A PDF whose bytes include CRLF and dashes, as real files do.
  const std::string pdf =
      std::string("%PDF-1.7\r\n%\xE2\xE3\xCF\xD3\r\n--not-a-boundary--\r\n", 37) + "1 0 obj\n%%EOF\n";
  std::vector<Part> report = {{"patientId", "", "", alice},
                              {"title", "", "", "Cardiology"},
                              {"diagnosis", "", "", "Atrial fibrillation"},
                              {"content", "", "", "ECG shows irregular rhythm; started anticoagulation."},
                              {"attachments", "ecg.pdf", "application/pdf", pdf}};
  auto height = [&] {
    return ParseBody(server.Get("/api/v1/ledger/status", server.Login("admin"))).value("height", uint64_t{0});
  };

  auto created = server.Request("POST", "/api/v1/reports", Form("----medledgerQ1", report), {auth, form_type});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = ParseBody(created).value("reportId", "");
  auto read = server.Get("/api/v1/reports/" + id, doctor);
  ASSERT_EQ(read.status, 200) << read.body;
  json r = ParseBody(read);
  EXPECT_EQ(r.value("title", ""), "Cardiology");
  ASSERT_EQ(r["attachments"].size(), 1u);
  EXPECT_EQ(r["attachments"][0].value("filename", ""), "ecg.pdf");
  auto file = server.Get("/api/v1/reports/" + id + "/attachments/0", doctor);
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.body, pdf);  // byte for byte, CRLFs and dashes included

  const uint64_t before = height();
  struct Case {
    const char* name;
    std::string body;
    std::string content_type;
    int status;
    const char* code;
  };
  auto with = [&](std::vector<Part> parts) { return Form("----medledgerQ1", parts); };
  std::vector<Part> exe = report;
  exe[4] = {"attachments", "run.pdf", "application/pdf",
            "\x7f"
            "ELF\x02\x01\x01"};
  std::vector<Part> twice = report;
  twice.push_back({"title", "", "", "Second title"});
  std::vector<Part> unknown = report;
  unknown.push_back({"role", "", "", "admin"});
  std::vector<Part> no_title(report.begin(), report.end());
  no_title.erase(no_title.begin() + 1);
  std::string truncated = with(report);
  truncated.resize(truncated.size() - 20);
  const std::vector<Case> cases = {
      {"no boundary", with(report), "Content-Type: multipart/form-data", 400, "malformed_multipart"},
      {"truncated", truncated, form_type, 400, "malformed_multipart"},
      {"duplicate field", with(twice), form_type, 400, "duplicate_field"},
      {"unknown field", with(unknown), form_type, 400, "unknown_field"},
      {"missing title", with(no_title), form_type, 422, "validation_failed"},
      {"executable", with(exe), form_type, 415, "unsupported_attachment_type"},
  };
  for (const auto& c : cases) {
    auto res = server.Request("POST", "/api/v1/reports", c.body, {auth, c.content_type});
    EXPECT_EQ(res.status, c.status) << c.name << ": " << res.body;
    EXPECT_EQ(ProblemCode(res), c.code) << c.name;
    EXPECT_EQ(res.Header("content-type"), "application/problem+json") << c.name;
  }
  EXPECT_EQ(height(), before) << "a refused form must not reach the ledger";
}

}  // namespace
}  // namespace medledger::testing
