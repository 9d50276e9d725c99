// libFuzzer: CID text and binary parsers and multibase decoding must return values, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "content/cid.h"
#include "content/multibase.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto c = medledger::content::Cid::Parse(in);
  if (c.ok() && !(medledger::content::Cid::Parse(c->ToString()).value() == *c)) __builtin_trap();
  (void)medledger::content::Cid::FromBytes(in);
  (void)medledger::content::MultibaseDecode(in);
  return 0;
}
