// libFuzzer: the multipart/form-data parser. The first input byte picks how much of the rest is a Content-Type
// header value; whatever parses must hold parts within the limits, and nothing may crash or hang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medledger::http;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t split = std::min<size_t>(data[0], in.size());
  auto boundary = MultipartBoundary(in.substr(0, split));
  std::string_view body = in.substr(split);
  auto parts = ParseMultipart(body, boundary.ok() ? std::string_view(*boundary) : std::string_view("b"));
  if (parts.ok() && parts->size() > MultipartLimits{}.max_parts) std::abort();
  return 0;
}
