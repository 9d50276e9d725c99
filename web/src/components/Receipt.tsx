import { Button } from "@heroui/react";
import type { Receipt } from "../lib/types";
import { DefList, formatDate, Mono } from "./ui";

export function proofDocument(r: Receipt) {
  return {
    kind: "medledger-archival-proof",
    reportId: r.reportId,
    version: r.version,
    cid: r.cid,
    contentHash: r.contentHash,
    txId: r.txId,
    blockNumber: r.blockNumber,
    blockHash: r.blockHash,
    timestamp: r.timestamp,
  };
}

export function downloadProof(r: Receipt) {
  const blob = new Blob([JSON.stringify(proofDocument(r), null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `medledger-proof-${r.reportId}-v${r.version}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The archival proof of a submitted (or amended) report: every identifier with a copy button. */
export function ReceiptPanel({ receipt, title = "Report recorded on the ledger", onOpen }: { receipt: Receipt; title?: string; onOpen?: () => void }) {
  return (
    <section aria-labelledby="receipt-title" className="receipt-print rounded-xl border border-emerald-300 bg-emerald-50/60 p-5" data-testid="receipt">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id="receipt-title" className="text-base font-semibold text-emerald-900">
          <span aria-hidden>✓ </span>
          {title}
        </h2>
        <div className="flex gap-2 print:hidden">
          {onOpen && (
            <Button size="sm" variant="secondary" onPress={onOpen}>
              Open report
            </Button>
          )}
          <Button size="sm" variant="secondary" onPress={() => window.print()}>
            Print proof
          </Button>
          <Button size="sm" variant="secondary" onPress={() => downloadProof(receipt)}>
            Download proof
          </Button>
        </div>
      </div>
      <DefList
        rows={[
          ["Report ID", <Mono>{receipt.reportId}</Mono>, receipt.reportId],
          ["Version", String(receipt.version)],
          ["Content ID (CID)", <Mono>{receipt.cid}</Mono>, receipt.cid],
          ["Content hash (SHA-256)", <Mono>{receipt.contentHash}</Mono>, receipt.contentHash],
          ["Transaction ID", <Mono>{receipt.txId}</Mono>, receipt.txId],
          ["Block number", <Mono>{String(receipt.blockNumber)}</Mono>, String(receipt.blockNumber)],
          ["Block hash", <Mono>{receipt.blockHash}</Mono>, receipt.blockHash],
          ["Recorded at", formatDate(receipt.timestamp), receipt.timestamp],
        ]}
      />
    </section>
  );
}
