import { useState } from "react";
import { Button } from "@heroui/react";
import type { ApiClient } from "../lib/api";
import { useApi } from "../lib/session";
import type { Proof, Receipt } from "../lib/types";
import { DefList, Mono, ProblemAlert } from "./ui";
import { saveBlob } from "../lib/download";
import { formatDate } from "../lib/format";

/**
 * The downloadable archival proof: the receipt plus what an outsider needs to check it without trusting this
 * server: the block header, the signed transaction envelope, the orderer's signature, and the creator,
 * endorser, orderer and CA certificates (PEM); the fields are described under `proof` in docs/API.md.
 */
export function proofDocument(r: Receipt, ledger: Proof) {
  return {
    kind: "medledger-archival-proof",
    formatVersion: 2,
    reportId: r.reportId,
    version: r.version,
    cid: r.cid,
    contentHash: r.contentHash,
    txId: r.txId,
    blockNumber: r.blockNumber,
    blockHash: r.blockHash,
    timestamp: r.timestamp,
    ledgerProof: ledger,
  };
}

/** Fetches the ledger proof of the receipt's report; refuses to mix a proof of another transaction in. */
export async function buildProofFile(api: ApiClient, r: Receipt) {
  const ledger = await api.proof(r.reportId);
  if (ledger.txId !== r.txId) {
    throw new Error("The ledger's latest proof is for a newer version of this report; open the report to download it.");
  }
  return proofDocument(r, ledger);
}

/** The archival proof of a submitted (or amended) report: every identifier with a copy button. */
export function ReceiptPanel({ receipt, title = "Report recorded on the ledger", onOpen }: { receipt: Receipt; title?: string; onOpen?: () => void }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const proof = await buildProofFile(api, receipt);
      saveBlob(new Blob([JSON.stringify(proof, null, 2)], { type: "application/json" }), `medledger-proof-${receipt.reportId}-v${receipt.version}.json`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
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
          <Button size="sm" variant="secondary" onPress={download} isDisabled={busy}>
            {busy ? "Preparing proof…" : "Download proof"}
          </Button>
        </div>
      </div>
      <ProblemAlert error={error} title="Could not prepare the proof" />
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
