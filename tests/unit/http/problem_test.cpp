#include "http/problem.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/errno_text.h"
#include "http/handler_util.h"

namespace medledger::http {
namespace {

TEST(ProblemTest, KindsMapToStatuses) {
  const std::pair<ErrorKind, int> cases[] = {
      {ErrorKind::kInvalidArgument, 400}, {ErrorKind::kUnauthenticated, 401}, {ErrorKind::kPermissionDenied, 403},
      {ErrorKind::kNotFound, 404},        {ErrorKind::kAlreadyExists, 409},   {ErrorKind::kConflict, 409},
      {ErrorKind::kTooLarge, 413},        {ErrorKind::kUnsupportedType, 415}, {ErrorKind::kResourceExhausted, 429},
      {ErrorKind::kUnavailable, 503},     {ErrorKind::kTimeout, 504},         {ErrorKind::kCorruption, 500},
      {ErrorKind::kIoError, 503},         {ErrorKind::kNoSpace, 507},         {ErrorKind::kInternal, 500}};
  for (auto [kind, status] : cases) EXPECT_EQ(StatusForKind(kind), status) << ErrorKindName(kind);
}

TEST(ProblemTest, BodyIsRfc9457WithStableCode) {
  auto r = ProblemResponse(MakeError(ErrorKind::kNotFound, "report_not_found", "no such report"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Header("Content-Type"), "application/problem+json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["code"], "report_not_found");
  EXPECT_EQ(j["title"], "Not Found");
  EXPECT_EQ(j["detail"], "no such report");
  EXPECT_EQ(j["type"], "https://medledger.dev/problems/report_not_found");
  EXPECT_FALSE(j.contains("errors"));
}

// A failing disk is 503 (with Retry-After) and a full one 507: both clean problems, neither a bare 500.
TEST(ProblemTest, DiskFaultsAre503And507) {
  auto eio = FromError(MakeError(ErrorKind::kIoError, "io_error", "sync /srv/data/x: input/output error"));
  EXPECT_EQ(eio.status, 503);
  EXPECT_EQ(eio.Header("Retry-After"), "5");
  EXPECT_EQ(nlohmann::json::parse(eio.body)["title"], "Service Unavailable");
  auto full = FromError(ErrnoError("write /srv/data/x", ENOSPC));
  EXPECT_EQ(full.status, 507);
  EXPECT_EQ(full.Header("Content-Type"), "application/problem+json");
  auto j = nlohmann::json::parse(full.body);
  EXPECT_EQ(j["title"], "Insufficient Storage");
  EXPECT_EQ(j["code"], "no_space");
  EXPECT_EQ(j["detail"], "the server could not complete the request");  // no paths
  // A store that names its own failure keeps the kind, and with it the 507 (it used to say 503).
  auto journal =
      FromError(MakeError(ErrorKind::kNoSpace, "erasure_journal_failed", "the journal could not be written"));
  EXPECT_EQ(journal.status, 507);
  EXPECT_EQ(nlohmann::json::parse(journal.body)["code"], "erasure_journal_failed");
  EXPECT_EQ(ErrnoError("append x", EIO).kind, ErrorKind::kIoError);
  EXPECT_EQ(ErrnoError("append x", EDQUOT).code, "no_space");
}

TEST(ProblemTest, InternalDetailsAreHidden) {
  auto r = ProblemResponse(MakeError(ErrorKind::kIoError, "io_error", "cannot write /srv/data/secret/path"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body.find("/srv/data"), std::string::npos);
  EXPECT_NE(r.body.find("io_error"), std::string::npos);
}

TEST(ProblemTest, ValidationFailuresAre422WithFieldErrors) {
  auto r = FromError(MakeError(ErrorKind::kInvalidArgument, "validation_failed", "bad"),
                     {{"title", "required", "this field is required"}});
  EXPECT_EQ(r.status, 422);
  auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["field"], "title");
  EXPECT_EQ(j["errors"][0]["code"], "required");
  // Syntax errors stay 400.
  EXPECT_EQ(FromError(MakeError(ErrorKind::kInvalidArgument, "malformed_json", "x")).status, 400);
}

TEST(JsonBodyTest, RequiresJsonObjects) {
  Request req;
  req.body = R"({"a":1})";
  EXPECT_EQ(JsonBody(req).error().code, "unsupported_media_type");
  req.headers["content-type"] = "application/json; charset=utf-8";
  EXPECT_TRUE(JsonBody(req).ok());
  req.body = "[1]";
  EXPECT_EQ(JsonBody(req).error().code, "malformed_json");
  req.body = "{\"a\":";
  EXPECT_EQ(JsonBody(req).error().code, "malformed_json");
  req.body = "{\"a\":\"\xff\"}";
  EXPECT_EQ(JsonBody(req).error().code, "malformed_json");
  // Strict: a repeated key is refused (it was "the last wins"), and nesting past 32 stops the parse.
  req.body = R"({"role":"patient","role":"admin"})";
  EXPECT_EQ(JsonBody(req).error().code, "duplicate_json_key");
  req.body = R"({"a":)" + std::string(40, '[') + std::string(40, ']') + "}";
  EXPECT_EQ(JsonBody(req).error().code, "json_too_deep");
  req.body = std::string(8u << 20, '[');
  EXPECT_EQ(JsonBody(req).error().code, "json_too_deep");
  EXPECT_EQ(StatusForKind(JsonBody(req).error().kind), 400);
  auto ok = nlohmann::json::parse(R"({"s":"x","n":1})");
  EXPECT_EQ(*StringField(ok, "s", true), "x");
  EXPECT_EQ(StringField(ok, "n", true).error().code, "invalid_field");
  EXPECT_EQ(StringField(ok, "m", true).error().code, "missing_field");
  EXPECT_EQ(*StringField(ok, "m", false), "");
}

}  // namespace
}  // namespace medledger::http
