#include "content/importer.h"

#include <algorithm>
#include <thread>

#include "content/dag_pb.h"

namespace medledger::content {
namespace {

struct Sub {
  Cid cid;
  uint64_t filesize = 0;  // file bytes under this node
  uint64_t tsize = 0;     // encoded bytes of the whole sub-DAG (PBLink.Tsize)
};

Block MakeLeaf(std::string_view chunk, const ImportOptions& o, Sub* sub) {
  Block b;
  if (o.raw_leaves) {
    b.cid = Cid::Of(1, kCodecRaw, chunk);
    b.view = chunk;
    b.is_view = true;
    sub->tsize = chunk.size();
  } else {
    UnixFsData fs;
    fs.type = UnixFsType::kFile;
    // An empty file's leaf has no Data field at all (go-ipfs leaves it unset); QmbFMke1... depends on it.
    if (!chunk.empty()) fs.data = std::string(chunk);
    fs.filesize = chunk.size();
    PbNode node;
    node.data = EncodeUnixFs(fs);
    b.owned = EncodePbNode(node);
    b.cid = Cid::Of(o.cid_version, kCodecDagPb, b.owned);
    sub->tsize = b.owned.size();
  }
  sub->cid = b.cid;
  sub->filesize = chunk.size();
  return b;
}

// Mirrors go-unixfs importer/balanced: grow the root one level at a time, filling each new level
// depth-first with up to max_links children.
class BalancedBuilder {
 public:
  BalancedBuilder(const ImportOptions& o, std::vector<Sub> leaves, std::vector<Block>* out)
      : o_(o), leaves_(std::move(leaves)), out_(out) {}

  Sub Layout() {
    Sub root = leaves_[next_++];
    for (int depth = 1; !Done(); ++depth) root = Fill({root}, depth);
    return root;
  }

 private:
  bool Done() const { return next_ == leaves_.size(); }

  Sub Fill(std::vector<Sub> children, int depth) {
    while (children.size() < o_.max_links && !Done()) {
      children.push_back(depth == 1 ? leaves_[next_++] : Fill({}, depth - 1));
    }
    return Commit(children);
  }

  Sub Commit(const std::vector<Sub>& children) {
    UnixFsData fs;
    fs.type = UnixFsType::kFile;
    PbNode node;
    Sub sub;
    uint64_t filesize = 0;
    uint64_t tsize = 0;
    for (const auto& c : children) {
      filesize += c.filesize;
      tsize += c.tsize;
      fs.blocksizes.push_back(c.filesize);
      node.links.push_back(PbLink{c.cid, "", c.tsize});
    }
    fs.filesize = filesize;
    node.data = EncodeUnixFs(fs);
    Block b;
    b.owned = EncodePbNode(node);
    b.cid = Cid::Of(o_.cid_version, kCodecDagPb, b.owned);
    sub.cid = b.cid;
    sub.filesize = filesize;
    sub.tsize = tsize + b.owned.size();
    out_->push_back(std::move(b));
    return sub;
  }

  const ImportOptions& o_;
  std::vector<Sub> leaves_;
  size_t next_ = 0;
  std::vector<Block>* out_;
};

}  // namespace

ImportOptions ImportOptions::Ipfs(int cid_version, std::optional<bool> raw_leaves) {
  ImportOptions o;
  o.cid_version = cid_version;
  o.raw_leaves = raw_leaves.value_or(cid_version == 1);
  return o;
}

Result<ImportedDag> ImportFile(std::string_view bytes, const ImportOptions& o) {
  if (o.cid_version != 0 && o.cid_version != 1) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_cid_version", "CID version must be 0 or 1");
  }
  if (o.chunk_size == 0 || o.chunk_size > (1u << 20) || o.max_links < 2) {
    return MakeError(ErrorKind::kInvalidArgument, "invalid_import_options", "chunk size or link limit out of range");
  }
  size_t n = bytes.empty() ? 1 : (bytes.size() + o.chunk_size - 1) / o.chunk_size;
  ImportedDag dag;
  dag.blocks.resize(n);
  std::vector<Sub> leaves(n);
  std::vector<Status> sink_errors(std::max(1u, o.threads));
  auto work = [&](unsigned worker, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      std::string_view chunk = bytes.substr(std::min(bytes.size(), i * o.chunk_size), o.chunk_size);
      dag.blocks[i] = MakeLeaf(chunk, o, &leaves[i]);
      if (o.leaf_sink && sink_errors[worker].ok())
        sink_errors[worker] = o.leaf_sink(worker, dag.blocks[i].cid, dag.blocks[i].data());
    }
  };
  unsigned threads = std::max(1u, std::min<unsigned>(o.threads, static_cast<unsigned>(n / 2)));
  if (threads <= 1) {
    work(0, 0, n);
  } else {
    std::vector<std::jthread> pool;
    size_t per = (n + threads - 1) / threads;
    for (unsigned t = 1; t < threads; ++t) {
      pool.emplace_back(work, t, std::min(n, t * per), std::min(n, (t + 1) * per));
    }
    work(0, 0, std::min(n, per));
  }  // the jthreads join here
  for (const auto& e : sink_errors) ML_RETURN_IF_ERROR(e);
  BalancedBuilder builder(o, std::move(leaves), &dag.blocks);
  dag.root = builder.Layout().cid;
  return dag;
}

Result<Cid> ComputeCid(std::string_view bytes, const ImportOptions& options) {
  ML_ASSIGN_OR_RETURN(auto dag, ImportFile(bytes, options));
  return dag.root;
}

}  // namespace medledger::content
