// libFuzzer: dag-pb and UnixFS decoders; whatever decodes must re-encode to a decodable node.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "content/dag_pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medledger::content;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto node = DecodePbNode(in);
  if (node.ok()) {
    if (!DecodePbNode(EncodePbNode(*node)).ok()) __builtin_trap();
    if (node->data) (void)DecodeUnixFs(*node->data);
  }
  (void)DecodeUnixFs(in);
  return 0;
}
