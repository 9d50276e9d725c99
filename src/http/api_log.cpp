// The report log over HTTP (docs/RECEIPTS.md): the checkpoint, keys and trust bundle, C2SP tlog-tiles under
// /log/, proofs and status under /api/v1/log/, and the witnesses' cosignature drop. Hash tiles, checkpoints
// and proofs are public: they reveal hashes only. Entry bundles hold every leaf (patient pseudonyms, report
// IDs), so only administrators and auditors read them.

#include "common/encoding.h"
#include "http/app.h"
#include "http/handler_util.h"
#include "http/problem.h"
#include "service/receipt_builder.h"
#include "service/report_log.h"
#include "tlog/proof_json.h"
#include "tlog/tile_path.h"

namespace medledger::http {
namespace {

constexpr char kImmutable[] = "public, max-age=31536000, immutable";

Error LogUnavailable() {
  return MakeError(ErrorKind::kUnavailable, "log_unavailable", "this server keeps no report log");
}

Result<uint64_t> QueryNumber(const Request& req, const char* name) {
  auto v = req.QueryParam(name);
  if (!v || v->empty() || v->size() > 19) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_parameter",
                     std::string(name) + " is required: a decimal integer");
  }
  auto n = DecimalNumber(*v);
  if (!n) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_parameter",
                     std::string(name) + " must be a decimal integer");
  }
  return *n;
}

Response Text(int status, std::string body, const char* type, const char* cache) {
  Response r;
  r.status = status;
  r.SetHeader("Content-Type", type);
  r.SetHeader("Cache-Control", cache);
  r.body = std::move(body);
  return r;
}

// The checkpoint as served: the log's signed note with the cosignatures gathered so far as further signature
// lines (a reader that knows a witness checks its line; others are ignored, as the signed-note spec says).
std::string CheckpointWithCosignatures(const service::PublishedCheckpoint& p) {
  std::string out = p.note;
  for (const auto& c : p.cosignatures) out += c + "\n";
  return out;
}

}  // namespace

void AddLogRoutes(Router& router, const AppDeps& deps) {
  service::ReportLog* log = deps.log;
  router.Add("GET", "/log/checkpoint", RouteAuth::kPublic, [log](RequestContext&) {
    if (!log) return ProblemResponse(LogUnavailable());
    auto latest = log->Latest();
    if (!latest) {
      return ProblemResponse(MakeError(ErrorKind::kNotFound, "no_checkpoint", "the log has no checkpoint yet"));
    }
    // A checkpoint changes every second while the log grows.
    return Text(200, CheckpointWithCosignatures(*latest), "text/plain; charset=utf-8", "no-cache");
  });
  router.Add("GET", "/log/vkey", RouteAuth::kPublic, [log](RequestContext&) {
    if (!log) return ProblemResponse(LogUnavailable());
    return Text(200, log->verifier().ToString() + "\n", "text/plain; charset=utf-8", "no-cache");
  });
  std::string trust = deps.trust_bundle;
  router.Add("GET", "/log/trust.json", RouteAuth::kPublic, [trust](RequestContext&) {
    if (trust.empty()) return ProblemResponse(LogUnavailable());
    return Text(200, trust, "application/json", "no-cache");
  });
  router.Add("GET", "/api/v1/log/status", RouteAuth::kAuthenticated, [log](RequestContext&) {
    if (!log) return ProblemResponse(LogUnavailable());
    auto latest = log->Latest();
    json out = {{"origin", log->origin()}, {"treeSize", log->Size()}};
    if (latest) {
      out["checkpoint"] = latest->note;
      out["checkpointSize"] = latest->checkpoint.size;
      out["cosignatures"] = latest->cosignatures;
      out["timestampToken"] = Base64Encode(latest->timestamp_token);
      out["anchorTxId"] = latest->anchor_tx_id;
      out["published"] = latest->published_unix;
    }
    return Json(200, out);
  });
  router.Add("GET", "/api/v1/log/proof/inclusion", RouteAuth::kPublic, [log](RequestContext& ctx) {
    if (!log) return ProblemResponse(LogUnavailable());
    auto index = QueryNumber(ctx.request, "leafIndex");
    auto size = QueryNumber(ctx.request, "treeSize");
    if (!index.ok()) return ProblemResponse(index.error());
    if (!size.ok()) return ProblemResponse(size.error());
    auto proof = log->InclusionProof(*index, *size);
    if (!proof.ok()) return FromError(proof.error());
    return Json(200, {{"leafIndex", *index}, {"treeSize", *size}, {"proof", tlog::ProofToJson(*proof)}});
  });
  router.Add("GET", "/api/v1/log/proof/consistency", RouteAuth::kPublic, [log](RequestContext& ctx) {
    if (!log) return ProblemResponse(LogUnavailable());
    auto from = QueryNumber(ctx.request, "from");
    auto to = QueryNumber(ctx.request, "to");
    if (!from.ok()) return ProblemResponse(from.error());
    if (!to.ok()) return ProblemResponse(to.error());
    auto proof = log->ConsistencyProof(*from, *to);
    if (!proof.ok()) return FromError(proof.error());
    return Json(200, {{"from", *from}, {"to", *to}, {"proof", tlog::ProofToJson(*proof)}});
  });
  // Witnesses authenticate by their signature: only a configured witness's valid cosignature of a checkpoint
  // this log published is kept.
  router.Add("POST", "/api/v1/log/cosignatures", RouteAuth::kPublic, [log](RequestContext& ctx) {
    if (!log) return ProblemResponse(LogUnavailable());
    auto body = JsonBody(ctx.request);
    if (!body.ok()) return FromError(body.error());
    auto note = StringField(*body, "checkpoint", true);
    auto line = StringField(*body, "cosignature", true);
    if (!note.ok()) return FromError(note.error());
    if (!line.ok()) return FromError(line.error());
    Status added = log->AddCosignature(*note, *line);
    if (!added.ok()) {
      const std::string& code = added.error().code;
      int status = code == "checkpoint_unknown" ? 404 : code == "cosignature_unknown_key" ? 403 : 400;
      return ProblemResponse(added.error(), status);
    }
    return NoContent();
  });
}

std::optional<Response> ServeLogTile(const service::ReportLog* log, const Request& req,
                                     const std::optional<auth::Principal>& principal) {
  constexpr std::string_view kPrefix = "/log/";
  if (req.path.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  auto tile = tlog::ParseTilePath(std::string_view(req.path).substr(kPrefix.size()));
  if (!tile.ok()) return std::nullopt;
  if (!log) return ProblemResponse(LogUnavailable());
  if (tile->entries) {
    if (!principal) {
      Response r = ProblemResponse(
          MakeError(ErrorKind::kUnauthenticated, "unauthenticated", "entry bundles need an auditor's bearer token"));
      r.SetHeader("WWW-Authenticate", "Bearer");
      return r;
    }
    if (principal->role != identity::Role::kAuditor && principal->role != identity::Role::kAdmin) {
      return ProblemResponse(
          MakeError(ErrorKind::kPermissionDenied, "forbidden",
                    "entry bundles name every patient's pseudonym: auditors and administrators only"));
    }
  }
  auto bytes =
      tile->entries ? log->EntryBundle(tile->index, tile->width) : log->Tile(tile->level, tile->index, tile->width);
  if (!bytes.ok()) {
    if (bytes.error().code == "tile_not_found" || bytes.error().code == "index_out_of_range") {
      return ProblemResponse(MakeError(ErrorKind::kNotFound, "tile_not_found", "the log has no such tile yet"));
    }
    return FromError(bytes.error());
  }
  // A full tile never changes; a partial one is replaced by a wider one, under another name.
  return Text(200, std::move(*bytes), "application/octet-stream", tile->entries ? "private, no-store" : kImmutable);
}

}  // namespace medledger::http
