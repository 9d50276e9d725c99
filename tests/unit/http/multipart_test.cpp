#include "http/multipart.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace medledger::http {
namespace {

std::string Body(const std::string& boundary, const std::vector<MultipartPart>& parts, bool close = true) {
  std::string out;
  for (const auto& p : parts) {
    out += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) out += "; filename=\"" + p.filename + "\"";
    out += "\r\n";
    if (!p.content_type.empty()) out += "Content-Type: " + p.content_type + "\r\n";
    out += "\r\n" + p.data + "\r\n";
  }
  if (close) out += "--" + boundary + "--\r\n";
  return out;
}

std::string CodeOf(const Result<std::vector<MultipartPart>>& r) {
  return r.ok() ? "ok" : r.error().code;
}

TEST(Multipart, BoundaryFromContentType) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=abc123").value(), "abc123");
  EXPECT_EQ(MultipartBoundary("Multipart/Form-Data;boundary=\"a b:c\"").error().code, "malformed_multipart");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=\"----WebKitFormBoundary7MA4YWxk\"").value(),
            "----WebKitFormBoundary7MA4YWxk");
  EXPECT_EQ(MultipartBoundary("application/json").error().code, "unsupported_media_type");
  EXPECT_EQ(MultipartBoundary("multipart/form-data").error().code, "malformed_multipart");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; charset=utf-8").error().code, "malformed_multipart");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')).error().code,
            "malformed_multipart");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=a; boundary=b").error().code, "malformed_multipart");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=\"unterminated").error().code, "malformed_multipart");
}

TEST(Multipart, ParsesFieldsAndFilesWithBinaryData) {
  static constexpr char kBinary[] = "\x00\r\n--not-the-boundary\r\n\xff";
  const std::string binary(kBinary, sizeof(kBinary) - 1);  // keeps the leading NUL
  std::vector<MultipartPart> parts = {
      {"title", "", "", "Chest X-ray"}, {"attachments", "scan.png", "image/png", binary}, {"content", "", "", ""}};
  auto parsed = ParseMultipart("preamble to ignore\r\n" + Body("XyZ", parts) + "epilogue", "XyZ");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].name, "title");
  EXPECT_EQ((*parsed)[0].data, "Chest X-ray");
  EXPECT_EQ((*parsed)[1].filename, "scan.png");
  EXPECT_EQ((*parsed)[1].content_type, "image/png");
  EXPECT_EQ((*parsed)[1].data, binary);
  EXPECT_EQ((*parsed)[2].data, "");
}

TEST(Multipart, QuotedParametersAndIgnoredHeaders) {
  std::string body =
      "--b\r\ncontent-disposition: form-data; filename=\"a \\\"quoted\\\" name.pdf\"; name=attachments\r\n"
      "X-Ignored: yes\r\nContent-Transfer-Encoding: binary\r\n\r\n%PDF\r\n--b--";
  auto parsed = ParseMultipart(body, "b");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)[0].filename, "a \"quoted\" name.pdf");
  EXPECT_EQ((*parsed)[0].name, "attachments");
}

TEST(Multipart, RefusesWhatIsAmbiguousOrIncomplete) {
  auto ok_part = Body("b", {{"title", "", "", "x"}});
  EXPECT_EQ(CodeOf(ParseMultipart(ok_part, "b")), "ok");
  // Truncated: no closing delimiter, or the body ends in the headers.
  EXPECT_EQ(CodeOf(ParseMultipart(Body("b", {{"title", "", "", "x"}}, false), "b")), "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("--b\r\nContent-Disposition: form-data; name=t\r\n", "b")), "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("no boundary here", "b")), "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("", "b")), "malformed_multipart");
  // Headers: none, no name, two dispositions, not form-data, control characters, base64 transfer encoding.
  EXPECT_EQ(CodeOf(ParseMultipart("--b\r\n\r\nx\r\n--b--", "b")), "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "b")),
            "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("--b\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: "
                                  "form-data; name=b\r\n\r\nx\r\n--b--",
                                  "b")),
            "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", "b")),
            "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("--b\r\nContent-Disposition: form-data; name=\"a\x01\"\r\n\r\nx\r\n--b--", "b")),
            "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("--b\r\nContent-Disposition: form-data; name=a\r\nContent-Transfer-Encoding: "
                                  "base64\r\n\r\nx\r\n--b--",
                                  "b")),
            "malformed_multipart");
  EXPECT_EQ(CodeOf(ParseMultipart("--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--b--", "b")),
            "malformed_multipart");
  // Something other than CRLF after a boundary.
  EXPECT_EQ(CodeOf(ParseMultipart("--bX\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--", "b")),
            "malformed_multipart");
}

TEST(Multipart, EnforcesLimits) {
  std::vector<MultipartPart> many(17, MultipartPart{"attachments", "f.txt", "text/plain", "x"});
  EXPECT_EQ(CodeOf(ParseMultipart(Body("b", many), "b")), "too_many_parts");
  many.resize(16);
  EXPECT_EQ(CodeOf(ParseMultipart(Body("b", many), "b")), "ok");
  std::string big_header =
      "--b\r\nContent-Disposition: form-data; name=a\r\nX-Pad: " + std::string(5000, 'p') + "\r\n\r\nx\r\n--b--";
  EXPECT_EQ(CodeOf(ParseMultipart(big_header, "b")), "malformed_multipart");
}

// Property: random parts (random bytes, which may contain CR, LF and dashes) survive encode -> parse exactly.
TEST(Multipart, RoundTripsRandomParts) {
  std::mt19937 rng(7);
  const std::string boundary = "medledger-boundary-Q7";
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<MultipartPart> parts(rng() % 6 + 1);
    for (size_t i = 0; i < parts.size(); ++i) {
      parts[i].name = "f" + std::to_string(i);
      if (rng() % 2) parts[i].filename = "file" + std::to_string(i) + ".bin";
      if (rng() % 2) parts[i].content_type = "application/octet-stream";
      std::string data(rng() % 300, '\0');
      for (auto& c : data) c = "ab\r\n-\0\xff"[rng() % 7];
      parts[i].data = data;
    }
    auto parsed = ParseMultipart(Body(boundary, parts), boundary);
    ASSERT_TRUE(parsed.ok()) << iter << ": " << parsed.error().message;
    ASSERT_EQ(parsed->size(), parts.size());
    for (size_t i = 0; i < parts.size(); ++i) {
      EXPECT_EQ((*parsed)[i].name, parts[i].name);
      EXPECT_EQ((*parsed)[i].filename, parts[i].filename);
      EXPECT_EQ((*parsed)[i].content_type, parts[i].content_type);
      EXPECT_EQ((*parsed)[i].data, parts[i].data);
    }
  }
}

// Property (the fuzz target's, deterministically): truncations and byte flips of a valid body never crash,
// and any success stays within the limits.
TEST(Multipart, MutatedBodiesNeverCrash) {
  std::mt19937 rng(11);
  std::string valid = Body("b", {{"title", "", "", "x"}, {"attachments", "a.pdf", "application/pdf", "%PDF-1.7"}});
  for (size_t cut = 0; cut <= valid.size(); ++cut) (void)ParseMultipart(valid.substr(0, cut), "b");
  for (int iter = 0; iter < 5000; ++iter) {
    std::string m = valid;
    for (int k = rng() % 4 + 1; k > 0; --k) m[rng() % m.size()] = static_cast<char>(rng());
    auto r = ParseMultipart(m, "b");
    if (r.ok()) {
      EXPECT_LE(r->size(), MultipartLimits{}.max_parts);
    }
  }
}

}  // namespace
}  // namespace medledger::http
