#include "content/dag_reader.h"

#include "content/dag_pb.h"

namespace medledger::content {
namespace {

Error Corrupted(const std::string& what) {
  return MakeError(ErrorKind::kCorruption, "content_corrupted", what);
}

Status FetchVerified(const BlockFetcher& fetch, const Cid& cid, std::string* block) {
  ML_RETURN_IF_ERROR(fetch(cid, block));
  if (!cid.Matches(*block)) return Corrupted("block " + cid.ToString() + " does not match its hash");
  return OkStatus();
}

class Assembler {
 public:
  Assembler(const BlockFetcher& fetch, const ReadLimits& limits) : fetch_(fetch), limits_(limits) {}

  // Appends the bytes under `cid` to out_ and returns how many were appended.
  Result<uint64_t> Append(const Cid& cid, int depth) {
    if (depth > limits_.max_depth) return Corrupted("DAG deeper than " + std::to_string(limits_.max_depth));
    ML_RETURN_IF_ERROR(FetchVerified(fetch_, cid, &scratch_));
    if (cid.codec() == kCodecRaw) return AppendBytes(scratch_);
    std::string block = scratch_;  // small (a dag-pb node); scratch_ is reused by the children
    ML_ASSIGN_OR_RETURN(auto node, DecodePbNode(block));
    if (!node.data) return Corrupted("dag-pb node without UnixFS data");
    ML_ASSIGN_OR_RETURN(auto fs, DecodeUnixFs(*node.data));
    if (fs.type != UnixFsType::kFile && fs.type != UnixFsType::kRaw) {
      return MakeError(ErrorKind::kUnsupportedType, "unixfs_unsupported", "only UnixFS files can be read");
    }
    if (!fs.blocksizes.empty() && fs.blocksizes.size() != node.links.size()) {
      return Corrupted("UnixFS blocksizes do not match the links");
    }
    if (fs.filesize && *fs.filesize > limits_.max_file_size) {
      return MakeError(ErrorKind::kTooLarge, "content_too_large", "file exceeds the read limit");
    }
    // The root announces the file size: one allocation instead of doubling through a multi-GB string.
    if (depth == 0 && fs.filesize) out_.reserve(*fs.filesize);
    uint64_t total = 0;
    if (fs.data) {
      ML_ASSIGN_OR_RETURN(total, AppendBytes(*fs.data));
    }
    for (size_t i = 0; i < node.links.size(); ++i) {
      ML_ASSIGN_OR_RETURN(uint64_t n, Append(node.links[i].hash, depth + 1));
      if (!fs.blocksizes.empty() && n != fs.blocksizes[i]) return Corrupted("child size differs from blocksizes");
      total += n;
    }
    if (fs.filesize && *fs.filesize != total) return Corrupted("UnixFS filesize differs from the data");
    return total;
  }

  std::string Take() && { return std::move(out_); }

 private:
  Result<uint64_t> AppendBytes(std::string_view bytes) {
    if (out_.size() + bytes.size() > limits_.max_file_size) {
      return MakeError(ErrorKind::kTooLarge, "content_too_large", "file exceeds the read limit");
    }
    out_.append(bytes);
    return bytes.size();
  }

  const BlockFetcher& fetch_;
  const ReadLimits& limits_;
  std::string out_;
  std::string scratch_;
};

Status Walk(const BlockFetcher& fetch, const Cid& cid, const std::function<Status(const Cid&, std::string_view)>& visit,
            int depth, int max_depth) {
  if (depth > max_depth) return Corrupted("DAG deeper than " + std::to_string(max_depth));
  std::string block;
  ML_RETURN_IF_ERROR(FetchVerified(fetch, cid, &block));
  ML_RETURN_IF_ERROR(visit(cid, block));
  if (cid.codec() != kCodecDagPb) return OkStatus();
  ML_ASSIGN_OR_RETURN(auto node, DecodePbNode(block));
  for (const auto& link : node.links) ML_RETURN_IF_ERROR(Walk(fetch, link.hash, visit, depth + 1, max_depth));
  return OkStatus();
}

}  // namespace

Result<std::string> ReadUnixFsFile(const BlockFetcher& fetch, const Cid& root, const ReadLimits& limits) {
  Assembler a(fetch, limits);
  ML_RETURN_IF_ERROR(a.Append(root, 0));
  return std::move(a).Take();
}

Status WalkDag(const BlockFetcher& fetch, const Cid& root,
               const std::function<Status(const Cid&, std::string_view)>& visit, int max_depth) {
  return Walk(fetch, root, visit, 0, max_depth);
}

}  // namespace medledger::content
