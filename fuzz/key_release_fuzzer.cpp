// libFuzzer: what a key holder parses from outside before it releases a data key (docs/CONSORTIUM.md): the
// release request another member's server sends, the release answer a requester reads back, and the access
// transaction read from the holder's own peer (a common.Envelope, or a ProcessedTransaction as qscc returns
// it), with the summary and the release checks run on whatever parses. The first byte picks the parser:
// 0 request, 1 answer, 2 envelope, 3 processed transaction. Nothing may crash; what parses must round-trip,
// and a release check that passes must agree with the summary it rests on. Seeds: fuzz/seedgen.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "consortium/key_release.h"

namespace {

using namespace medledger::consortium;

void Request(std::string_view in) {
  auto r = ParseReleaseRequest(in);
  if (!r.ok()) return;
  auto again = ParseReleaseRequest(SerializeReleaseRequest(*r));
  if (!again.ok() || again->access_tx_id != r->access_tx_id || again->report_id != r->report_id ||
      again->version != r->version || again->recipient_key != r->recipient_key) {
    std::abort();
  }
}

void Answer(std::string_view in) {
  auto r = ParseReleaseResponse(in);
  if (!r.ok()) return;
  auto again = ParseReleaseResponse(SerializeReleaseResponse(*r));
  if (!again.ok() || again->release_tx_id != r->release_tx_id || again->key_id != r->key_id || again->enc != r->enc ||
      again->ciphertext != r->ciphertext) {
    std::abort();
  }
}

void Transaction(const medledger::Result<AccessTransaction>& tx) {
  if (!tx.ok()) return;
  auto summary = SummarizeAccess(*tx);
  if (!summary.ok()) return;
  // The facts a holder would look up for this summary, covering the transaction's time.
  const medledger::Timestamp at = tx->timestamp;
  const medledger::Timestamp until{at.seconds + 3600, 0};
  ConsentFacts facts{{ConsentFact{summary->patient_ref, summary->doctor, at, until, std::nullopt}},
                     {EmergencyFact{summary->doctor, summary->report_id, at, until}}};
  ReleaseRequest request{tx->tx_id, summary->report_id, 1, std::string()};
  auto st = CheckAccessForRelease(*tx, request, tx->creator_msp, at, facts);
  if (st.ok() && (summary->role != "doctor" || tx->function != kRecordAccessFunction ||
                  (summary->basis != "consent" && summary->basis != "emergency"))) {
    std::abort();
  }
  // Nobody else's caller ID passes.
  if (CheckAccessForRelease(*tx, request, tx->creator_msp + "x", at, facts).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: Request(in); break;
    case 1: Answer(in); break;
    case 2: Transaction(ParseAccessTransaction(in, 0)); break;
    default: Transaction(ParseProcessedTransaction(in)); break;
  }
  return 0;
}
