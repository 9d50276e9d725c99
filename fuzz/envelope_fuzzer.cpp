// libFuzzer: the envelope parser, and opening whatever parses with a fixed key (must fail, never crash).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "content/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medledger::content;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseEnvelope(in);
  if (parsed.ok()) {
    static const std::string kKey(32, 'k');
    (void)OpenEnvelope(kKey, *parsed, EnvelopeBinding{"report", "patient"});
  }
  return 0;
}
