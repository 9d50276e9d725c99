// libFuzzer: the transparency log's text formats from outside (signed notes, checkpoints, tile paths, key
// strings, cosignature lines) must return values, never crash, and every accepted input must have exactly one
// spelling (format(parse(x)) == x). The first byte picks the parser; the rest is its input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tlog/checkpoint.h"
#include "tlog/cosignature.h"
#include "tlog/note.h"
#include "tlog/tile_path.h"

namespace {

using namespace medledger::tlog;  // NOLINT(google-build-using-namespace)

// Fixed keys (seeds 0x01.. and 0x02..), so signed seeds in the corpus verify and mutations reach the checks
// behind the signature. fuzz/corpus/tlog_note_fuzzer was made with these.
const NoteSigner& LogKey() {
  static const NoteSigner key =
      NoteSigner::FromSeed("medledger/Org1MSP/reports", SignatureType::kEd25519, std::string(32, '\x01')).value();
  return key;
}
const NoteSigner& WitnessKey() {
  static const NoteSigner key =
      NoteSigner::FromSeed("witness.example/w1", SignatureType::kCosignatureV1, std::string(32, '\x02')).value();
  return key;
}

void RoundTripCheckpoint(std::string_view text) {
  auto c = ParseCheckpoint(text);
  if (c.ok() && FormatCheckpoint(*c) != text) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 6;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode) {
    case 0: {  // a signed (and maybe cosigned) checkpoint note
      auto opened = OpenNote(in, {LogKey().Verifier(), WitnessKey().Verifier()});
      if (opened.ok()) {
        RoundTripCheckpoint(opened->text);
        for (const auto& sig : opened->verified) {
          if (sig.name == WitnessKey().name())
            (void)VerifyCosignature(WitnessKey().Verifier(), opened->text, sig.Line());
        }
      }
      (void)OpenCheckpoint(in, LogKey().Verifier());
      auto parsed = ParseNote(in);
      if (parsed.ok()) {
        std::string again = parsed->text + "\n";
        for (const auto& sig : parsed->signatures) again += sig.Line();
        if (again != in) __builtin_trap();
      }
      break;
    }
    case 1: RoundTripCheckpoint(in); break;
    case 2: {
      auto t = ParseTilePath(in);
      if (t.ok() && FormatTilePath(*t) != in) __builtin_trap();
      break;
    }
    case 3: {  // key strings
      auto v = NoteVerifier::Parse(in);
      if (v.ok() && v->ToString() != in) __builtin_trap();
      auto s = NoteSigner::Parse(in);
      if (s.ok() && s->ToString() != in) __builtin_trap();
      break;
    }
    case 4: {  // a cosignature line over a fixed checkpoint body
      (void)VerifyCosignature(WitnessKey().Verifier(), "medledger/Org1MSP/reports\n1\n" + std::string(43, 'A') + "=\n",
                              in);
      (void)ParseSignatureLine(in);
      break;
    }
    case 5: {  // any text, validly signed by the log key: reaches checkpoint parsing behind the signature
      auto note = SignNote(in, LogKey());
      if (note.ok()) {
        auto cp = OpenCheckpoint(*note, LogKey().Verifier());
        if (cp.ok() && FormatCheckpoint(cp->checkpoint) != in) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
