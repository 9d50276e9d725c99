// Checkpoint anchors: the report log's signed checkpoints (docs/RECEIPTS.md) committed to the ledger, so the
// ledger commits to the log and a log that rewrites history contradicts its own anchors. Only the
// organisation's service identity anchors; anyone enrolled may read an anchor (it holds no patient data).
#include "contract/records_support.h"

namespace medledger::contract::records {
namespace {

constexpr std::string_view kCheckpointType = "logcheckpoint";  // (origin, size) -> the anchored checkpoint
constexpr std::string_view kCheckpointHeadType = "loghead";    // origin -> the newest anchored checkpoint
// 2^53: sizes stay exact in every JSON reader, including the browser's.
constexpr int64_t kMaxTreeSize = int64_t{1} << 53;

std::string SizeKey(int64_t size) {
  std::string digits = std::to_string(size);
  return std::string(20 - digits.size(), '0') + digits;
}

}  // namespace

Result<std::string> AnchorCheckpoint(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"origin", "treeSize", "rootHash"}));
  ML_ASSIGN_OR_RETURN(std::string origin, a.String("origin", 128, Pattern::kLogOrigin));
  ML_ASSIGN_OR_RETURN(auto size, a.OptionalInt("treeSize", 1, kMaxTreeSize));
  if (!size) return Invalid("missing_field", "treeSize is required");
  ML_ASSIGN_OR_RETURN(std::string root, a.String("rootHash", 64, Pattern::kHex64));
  ML_RETURN_IF_ERROR(RequireRole(ctx, {Role::kService}, "anchor log checkpoints"));

  ML_ASSIGN_OR_RETURN(std::string head_key, CreateCompositeKey(kCheckpointHeadType, {origin}));
  ML_ASSIGN_OR_RETURN(auto head, Load(ctx.stub, head_key));
  if (head) {
    const int64_t head_size = head->doc.value("treeSize", int64_t{0});
    const std::string head_root = Str(head->doc, "rootHash");
    // Two roots for one size cannot both be true: that is a forked log, and the ledger keeps the first.
    if (*size == head_size && root == head_root) return std::move(head->raw);
    if (*size == head_size) {
      return Conflict("checkpoint_fork", "a different root is already anchored for tree size " + std::to_string(*size));
    }
    if (*size < head_size) {
      return Conflict("checkpoint_older", "tree size " + std::to_string(*size) + " is older than the anchored " +
                                              std::to_string(head_size));
    }
  }
  json record = {{"origin", origin},
                 {"treeSize", *size},
                 {"rootHash", root},
                 {"anchoredBy", ctx.caller.id},
                 {"anchoredAt", ctx.now.ToRfc3339()},
                 {"txId", ctx.tx_id}};
  const std::string text = record.dump();
  ML_ASSIGN_OR_RETURN(std::string key, CreateCompositeKey(kCheckpointType, {origin, SizeKey(*size)}));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(key, text));
  ML_RETURN_IF_ERROR(ctx.stub.PutState(head_key, text));
  ML_RETURN_IF_ERROR(ctx.stub.SetEvent("CheckpointAnchored", text));
  return text;
}

Result<std::string> GetCheckpointAnchor(Ctx& ctx, std::string_view arg) {
  ML_ASSIGN_OR_RETURN(Args a, Args::Parse(arg, {"origin", "treeSize"}));
  ML_ASSIGN_OR_RETURN(std::string origin, a.String("origin", 128, Pattern::kLogOrigin));
  ML_ASSIGN_OR_RETURN(auto size, a.OptionalInt("treeSize", 1, kMaxTreeSize));
  (void)ctx.caller;  // every enrolled role may read anchors: they carry no patient data
  std::string key;
  if (size) {
    ML_ASSIGN_OR_RETURN(key, CreateCompositeKey(kCheckpointType, {origin, SizeKey(*size)}));
  } else {
    ML_ASSIGN_OR_RETURN(key, CreateCompositeKey(kCheckpointHeadType, {origin}));
  }
  ML_ASSIGN_OR_RETURN(auto stored, Load(ctx.stub, key));
  if (!stored) return NotFound("anchor_not_found", "no checkpoint of this log is anchored at that size");
  return std::move(stored->raw);
}

}  // namespace medledger::contract::records
