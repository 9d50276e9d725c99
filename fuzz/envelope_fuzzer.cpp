// libFuzzer: the envelope, as bytes from the store and as a seal-open round trip. Every input is used twice:
// - parsed as a stored envelope and opened with a fixed key: never a crash, and one that opens (the seeds
//   sealed under that key) must not open under another binding;
// - as plaintext (and its first bytes as the key id and binding) sealed under the fixed key: the envelope must
//   parse, open back to the same plaintext, and refuse to open once any one byte (chosen by the input) is
//   flipped or the binding changes, since the header, the binding and the ciphertext are all authenticated.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "content/envelope.h"
#include "fuzz_check.h"

namespace {

using namespace medledger::content;

const std::string kKey(32, 'k');

void FuzzStored(std::string_view in) {
  auto parsed = ParseEnvelope(in);
  if (parsed.ok()) {
    FUZZ_CHECK(parsed->header.size() + parsed->ciphertext.size() == in.size());  // the header ends with the nonce
    // The seeds sealed under the fixed key open; whatever opens must not open under another binding.
    if (OpenEnvelope(kKey, *parsed, EnvelopeBinding{"report", "patient"}).ok()) {
      FUZZ_CHECK(!OpenEnvelope(kKey, *parsed, EnvelopeBinding{"report", "patient2"}).ok());
    }
  }
}

void FuzzRoundTrip(std::string_view in) {
  // Key ids are 1..255 bytes: take up to 16 input bytes, or a fixed one for short inputs.
  const size_t id_len = in.empty() ? 0 : static_cast<uint8_t>(in[0]) % 17;
  const std::string key_id = id_len == 0 || id_len > in.size() ? std::string("k1") : std::string(in.substr(0, id_len));
  const std::string report_id(in.substr(0, std::min<size_t>(in.size(), 8)));
  const EnvelopeBinding binding{report_id, "patient"};
  auto sealed = SealEnvelope(kKey, key_id, binding, in);
  FUZZ_CHECK(sealed.ok());
  auto parsed = ParseEnvelope(*sealed);
  FUZZ_CHECK(parsed.ok() && parsed->key_id == key_id);
  auto opened = OpenEnvelope(kKey, *parsed, binding);
  FUZZ_CHECK(opened.ok() && *opened == in);
  FUZZ_CHECK(!OpenEnvelope(kKey, *parsed, EnvelopeBinding{report_id, "patient2"}).ok());

  std::string flipped = *sealed;
  const size_t at =
      in.size() < 2
          ? 0
          : (static_cast<uint8_t>(in[in.size() - 1]) * 256u + static_cast<uint8_t>(in[in.size() - 2])) % flipped.size();
  flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
  auto bad = ParseEnvelope(flipped);
  if (bad.ok()) FUZZ_CHECK(!OpenEnvelope(kKey, *bad, binding).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  FuzzStored(in);
  FuzzRoundTrip(in);
  return 0;
}
