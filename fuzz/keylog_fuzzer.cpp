// libFuzzer: the key log's record decoder, record after record as a log is read (must stop or fail, never
// crash, never read past the input); whatever decodes must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "content/key_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medledger::content;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    size_t used = 0;
    auto record = DecodeKeyRecord(in, &used);
    if (used == 0 || used > in.size()) std::abort();
    if (record.ok() && EncodeKeyRecord(*record) != in.substr(0, used)) std::abort();
    if (!record.ok() && record.error().code != "record_erased") break;
    in.remove_prefix(used);
  }
  return 0;
}
