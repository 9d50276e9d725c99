#include "reportlog/log_audit.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/encoding.h"
#include "common/json_strict.h"
#include "reportlog/block_leaves.h"
#include "reportlog/log_files.h"
#include "tlog/checkpoint.h"
#include "tlog/cosignature.h"
#include "tlog/merkle.h"

namespace medledger::reportlog {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr size_t kTileHeight = 8;
constexpr uint64_t kTileWidth = uint64_t{1} << kTileHeight;

// The re-derived tree. Like the store it keeps one level in eight (32 bytes a leaf and 1/255 more), so an
// audit of a log of ten million leaves fits in memory; nodes between those levels are recomputed.
class DerivedTree final : public tlog::HashReader {
 public:
  void AppendLeafHash(std::string_view hash) {
    for (size_t k = 0;; ++k) {
      if (levels_.size() <= k) levels_.emplace_back();
      levels_[k].append(hash);
      const uint64_t count = levels_[k].size() / tlog::kHashSize;
      if (count % kTileWidth != 0) return;
      carry_ = Reduce(levels_[k].substr((count - kTileWidth) * tlog::kHashSize));
      hash = carry_;
    }
  }
  uint64_t Size() const { return levels_.empty() ? 0 : levels_[0].size() / tlog::kHashSize; }
  uint64_t StoredCount(size_t k) const { return k < levels_.size() ? levels_[k].size() / tlog::kHashSize : 0; }
  size_t Levels() const { return levels_.size(); }

  Result<std::string> StoredHash(int level, uint64_t index) const override {
    if (level < 0 || level >= 64) return MakeError(ErrorKind::kNotFound, "hash_not_found", "no such level");
    const size_t k = static_cast<size_t>(level) / kTileHeight;
    const int r = level % static_cast<int>(kTileHeight);
    const uint64_t width = uint64_t{1} << r;
    if (index > (UINT64_MAX >> r) || (index << r) + width > StoredCount(k)) {
      return MakeError(ErrorKind::kNotFound, "hash_not_found", "beyond the derived tree");
    }
    return Reduce(levels_[k].substr((index << r) * tlog::kHashSize, width * tlog::kHashSize));
  }

 private:
  // The root of a power-of-two run of hashes, concatenated.
  static std::string Reduce(std::string hashes) {
    while (hashes.size() > tlog::kHashSize) {
      std::string up;
      up.reserve(hashes.size() / 2);
      for (size_t i = 0; i < hashes.size(); i += 2 * tlog::kHashSize) {
        up += tlog::NodeHash(std::string_view(hashes).substr(i, tlog::kHashSize),
                             std::string_view(hashes).substr(i + tlog::kHashSize, tlog::kHashSize));
      }
      hashes = std::move(up);
    }
    return hashes;
  }

  std::vector<std::string> levels_;  // levels_[k]: the hashes of tree level 8k, concatenated
  std::string carry_;
};

LogAuditReport& Fail(LogAuditReport& r, std::string code, std::optional<uint64_t> at, std::string detail) {
  r.ok = false;
  r.problem = std::move(code);
  r.at = at;
  r.detail = std::move(detail);
  return r;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Result<std::optional<std::string>> ReadIfExists(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::optional<std::string>();
  std::ifstream in(file, std::ios::binary);
  if (!in) return MakeError(ErrorKind::kIoError, "io_error", "cannot read " + file.string());
  std::ostringstream out;
  out << in.rdbuf();
  return std::optional<std::string>(out.str());
}

Error Corrupt(const std::string& what) {
  return MakeError(ErrorKind::kCorruption, "log_corrupt", what);
}

}  // namespace

Result<LogAuditReport> AuditLog(const BlockSource& blocks, uint64_t height, const StoredLog& stored,
                                const LogAuditOptions& options) {
  LogAuditReport r;
  r.ok = true;
  const tlog::TreeStore* tree = stored.tree;
  if (tree != nullptr) {
    r.stored = true;
    r.stored_size = tree->CommittedSize();
    r.stored_cursor = tree->CommittedCursor();
    if (r.stored_cursor > height) {
      return Fail(r, "log_ahead_of_chain", r.stored_cursor,
                  "the stored log has folded in " + std::to_string(r.stored_cursor) + " blocks but the chain has " +
                      std::to_string(height));
    }
    if (stored.block_ends.size() < r.stored_cursor) {
      return Fail(r, "log_block_index_mismatch", stored.block_ends.size(),
                  "the log's block index ends before its committed cursor (" + std::to_string(r.stored_cursor) + ")");
    }
  }
  DerivedTree derived;
  struct PendingAnchor {
    Anchor anchor;
    uint64_t leaves_before = 0;  // leaves in the blocks before the anchor's block
  };
  for (uint64_t b = 0; b < height; ++b) {
    ML_ASSIGN_OR_RETURN(std::string bytes, blocks(b));
    ML_ASSIGN_OR_RETURN(BlockEvents events, EventsFromBlock(bytes, options.chaincode));
    if (events.number != b) {
      return MakeError(ErrorKind::kCorruption, "block_out_of_order",
                       "block " + std::to_string(b) + " says it is block " + std::to_string(events.number));
    }
    const uint64_t leaves_before = derived.Size();
    // An anchor commits to a checkpoint of the log as it was before its own block.
    for (const auto& a : events.anchors) {
      ++r.anchors;
      if (stored.log_key && a.origin != stored.log_key->name()) {
        return Fail(r, "anchor_origin_mismatch", b,
                    "block " + std::to_string(b) + " anchors a checkpoint of '" + a.origin + "', not of this log ('" +
                        stored.log_key->name() + "')");
      }
      if (a.tree_size > leaves_before) {
        return Fail(r, "anchor_ahead_of_log", a.tree_size,
                    "block " + std::to_string(b) + " anchors tree size " + std::to_string(a.tree_size) +
                        " but the blocks before it hold only " + std::to_string(leaves_before) + " leaves");
      }
      ML_ASSIGN_OR_RETURN(std::string root, tlog::RootHash(derived, a.tree_size));
      if (Lower(a.root_hash) != HexEncode(root)) {
        return Fail(r, "anchor_root_mismatch", a.tree_size,
                    "the anchor in block " + std::to_string(b) + " (tx " + a.tx_id + ") names root " + a.root_hash +
                        " for tree size " + std::to_string(a.tree_size) + "; the blocks give " + HexEncode(root));
      }
    }
    for (const auto& leaf : events.leaves) {
      ML_ASSIGN_OR_RETURN(std::string encoded, EncodeLeaf(leaf));
      const uint64_t i = derived.Size();
      const std::string hash = tlog::LeafHash(encoded);
      if (tree != nullptr && i < r.stored_size) {
        ML_ASSIGN_OR_RETURN(std::string stored_leaf, tree->Leaf(i));
        if (stored_leaf != encoded) {
          return Fail(r, "log_leaf_mismatch", i,
                      "leaf " + std::to_string(i) + " of the stored log is not the event of tx " + leaf.tx_id +
                          " in block " + std::to_string(b));
        }
        ML_ASSIGN_OR_RETURN(std::string stored_hash, tree->StoredHash(0, i));
        if (stored_hash != hash) {
          return Fail(r, "log_hash_mismatch", i,
                      "the stored hash of leaf " + std::to_string(i) + " is not the hash of its bytes");
        }
      }
      derived.AppendLeafHash(hash);
    }
    if (tree != nullptr && b < r.stored_cursor && stored.block_ends[b] != derived.Size()) {
      return Fail(r, "log_block_index_mismatch", b,
                  "the log's block index says block " + std::to_string(b) + " ends at leaf " +
                      std::to_string(stored.block_ends[b]) + "; the blocks give " + std::to_string(derived.Size()));
    }
    if (tree != nullptr && b + 1 == r.stored_cursor && derived.Size() != r.stored_size) {
      return Fail(r, derived.Size() < r.stored_size ? "log_ahead_of_chain" : "log_size_mismatch", r.stored_size,
                  "the stored log holds " + std::to_string(r.stored_size) + " leaves for its first " +
                      std::to_string(r.stored_cursor) + " blocks; the blocks give " + std::to_string(derived.Size()));
    }
    ++r.blocks;
    if (options.progress && options.progress_every != 0 && r.blocks % options.progress_every == 0) {
      options.progress(r.blocks, height);
    }
  }
  r.leaves = derived.Size();
  if (tree != nullptr) {
    if (r.stored_size > r.leaves || (r.stored_cursor == 0 && r.stored_size != 0)) {
      return Fail(r, "log_ahead_of_chain", r.stored_size,
                  "the stored log holds " + std::to_string(r.stored_size) + " leaves; the chain gives " +
                      std::to_string(r.leaves));
    }
    // Level 0 was compared leaf by leaf; the stored tile levels above it must be the derived ones too (they
    // are what tiles and proofs are served from).
    for (size_t k = 1; k < derived.Levels(); ++k) {
      const int level = static_cast<int>(k * kTileHeight);
      const uint64_t count = r.stored_size >> (k * kTileHeight);
      for (uint64_t j = 0; j < count; ++j) {
        ML_ASSIGN_OR_RETURN(std::string want, derived.StoredHash(level, j));
        ML_ASSIGN_OR_RETURN(std::string have, tree->StoredHash(level, j));
        if (have != want) {
          return Fail(r, "log_hash_mismatch", j << (k * kTileHeight),
                      "the stored hash of the subtree of " + std::to_string(uint64_t{1} << (k * kTileHeight)) +
                          " leaves at leaf " + std::to_string(j << (k * kTileHeight)) + " is not the derived one");
        }
      }
    }
    if (r.stored_size > 0) {
      ML_ASSIGN_OR_RETURN(std::string have, tree->RootHash(r.stored_size));
      ML_ASSIGN_OR_RETURN(std::string want, tlog::RootHash(derived, r.stored_size));
      if (have != want) {
        return Fail(r, "log_root_mismatch", r.stored_size,
                    "the stored tree's root at size " + std::to_string(r.stored_size) + " is not the derived one");
      }
    }
  }
  if (!stored.checkpoints.empty() && !stored.log_key) {
    return Fail(r, "log_key_missing", std::nullopt,
                "there are saved checkpoints but no log key to check them (DATA/log/trust.json)");
  }
  for (const auto& saved : stored.checkpoints) {
    ++r.checkpoints;
    auto opened = tlog::OpenCheckpoint(saved.note, *stored.log_key);
    if (!opened.ok()) {
      return Fail(r, "checkpoint_signature_invalid", std::nullopt,
                  "a saved checkpoint does not verify with the log key: " + opened.error().message);
    }
    const tlog::Checkpoint& c = opened->checkpoint;
    if (c.size > r.leaves) {
      return Fail(r, "checkpoint_ahead_of_chain", c.size,
                  "a saved checkpoint of size " + std::to_string(c.size) + " is larger than the chain's " +
                      std::to_string(r.leaves) + " leaves");
    }
    ML_ASSIGN_OR_RETURN(std::string root, tlog::RootHash(derived, c.size));
    if (c.root_hash != root) {
      return Fail(r, "checkpoint_root_mismatch", c.size,
                  "the saved checkpoint of size " + std::to_string(c.size) + " signs root " + HexEncode(c.root_hash) +
                      "; the blocks give " + HexEncode(root));
    }
    // The server keeps only cosignatures that verified with a listed witness key, so one that does not
    // verify now was altered on disk.
    for (const auto& line : saved.cosignatures) {
      auto sig = tlog::ParseSignatureLine(line);
      const tlog::NoteVerifier* witness = nullptr;
      if (sig.ok()) {
        for (const auto& w : stored.witnesses) {
          if (w.name() == sig->name && w.key_id() == sig->key_id) witness = &w;
        }
      }
      if (sig.ok() && witness == nullptr) {
        ++r.unknown_cosignatures;
        continue;
      }
      if (!sig.ok() || !tlog::VerifyCosignature(*witness, opened->note.text, line).ok()) {
        return Fail(
            r, "cosignature_invalid", c.size,
            "a saved cosignature of the checkpoint of size " + std::to_string(c.size) + " does not verify: " + line);
      }
      ++r.cosignatures;
    }
  }
  return r;
}

Result<OpenedLog> OpenStoredLog(const fs::path& log_dir) {
  OpenedLog out;
  std::error_code ec;
  if (fs::exists(log_dir / files::kTree / "meta", ec)) {
    auto tree = tlog::TreeStore::Open(log_dir / files::kTree);
    if (!tree.ok()) {
      if (tree.error().code == "tlog_locked") {
        return MakeError(ErrorKind::kUnavailable, "log_in_use",
                         "the report log (" + (log_dir / files::kTree).string() +
                             ") is open in another process, probably a running `medledger serve`: stop it to "
                             "verify the log");
      }
      return tree.error();
    }
    out.tree = std::move(*tree);
    out.stored.tree = out.tree.get();
  }
  ML_ASSIGN_OR_RETURN(auto ends, ReadIfExists(log_dir / files::kBlockEnds));
  if (ends) {
    if (ends->size() % 8 != 0) {
      // A torn append past the cursor is normal after a crash; only whole entries count.
      ends->resize(ends->size() - ends->size() % 8);
    }
    for (size_t off = 0; off < ends->size(); off += 8)
      out.stored.block_ends.push_back(DecodeFixed64(ends->data() + off));
  }
  ML_ASSIGN_OR_RETURN(auto trust, ReadIfExists(log_dir / files::kTrust));
  if (trust) {
    auto doc = ParseStrictJson(*trust);
    if (!doc.ok() || !doc->is_object() || !doc->contains("logVkey") || !(*doc)["logVkey"].is_string()) {
      return Corrupt("trust.json has no logVkey string");
    }
    auto key = tlog::NoteVerifier::Parse((*doc)["logVkey"].get<std::string>());
    if (!key.ok()) return Corrupt("trust.json's logVkey does not parse: " + key.error().message);
    out.stored.log_key = std::move(*key);
    if (doc->contains("witnessVkeys")) {
      if (!(*doc)["witnessVkeys"].is_array()) return Corrupt("trust.json's witnessVkeys is not an array");
      for (const auto& v : (*doc)["witnessVkeys"]) {
        if (!v.is_string()) return Corrupt("trust.json lists a witness key that is not a string");
        auto w = tlog::NoteVerifier::Parse(v.get<std::string>());
        if (!w.ok()) return Corrupt("trust.json lists a witness key that does not parse: " + w.error().message);
        out.stored.witnesses.push_back(std::move(*w));
      }
    }
  }
  ML_ASSIGN_OR_RETURN(auto saved, ReadIfExists(log_dir / files::kCheckpoints));
  if (saved) {
    auto doc = ParseStrictJson(*saved);
    if (!doc.ok() || !doc->is_array()) return Corrupt("checkpoints.json is not a JSON array");
    for (const auto& item : *doc) {
      if (!item.is_object() || !item.contains("note") || !item["note"].is_string()) {
        return Corrupt("checkpoints.json holds an entry without a note");
      }
      SavedCheckpoint saved_checkpoint;
      saved_checkpoint.note = item["note"].get<std::string>();
      if (item.contains("cosignatures")) {
        if (!item["cosignatures"].is_array()) return Corrupt("checkpoints.json: cosignatures is not an array");
        for (const auto& c : item["cosignatures"]) {
          if (!c.is_string()) return Corrupt("checkpoints.json: a cosignature is not a string");
          saved_checkpoint.cosignatures.push_back(c.get<std::string>());
        }
      }
      out.stored.checkpoints.push_back(std::move(saved_checkpoint));
    }
  }
  return out;
}

}  // namespace medledger::reportlog
