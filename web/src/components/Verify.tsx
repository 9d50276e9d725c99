import { useState } from "react";
import { Button } from "@heroui/react";
import { saveBlob } from "../lib/download";
import { useApi } from "../lib/session";
import { receiptFile, verifyReportReceipt, type VerifyOutcome } from "../lib/verify";
import { repin } from "../lib/receipt/trust";
import { Fingerprint, ReceiptChecks } from "./ReceiptChecks";

const browserStorage = (): Pick<Storage, "getItem" | "setItem"> => {
  if (typeof localStorage !== "undefined") return localStorage;
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
};

/** "Verify": fetches the report's receipt and checks every signature, proof and hash in this browser. */
export function VerifyPanel({ reportId, storage = browserStorage() }: { reportId: string; storage?: Pick<Storage, "getItem" | "setItem"> }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<VerifyOutcome | null>(null);
  const run = async () => {
    setBusy(true);
    setResult(null);
    try {
      setResult(await verifyReportReceipt(api, reportId, storage));
    } finally {
      setBusy(false);
    }
  };
  const trustNew = () => {
    if (result?.status !== "done" || result.trust.kind !== "changed") return;
    if (!window.confirm("Trust the organisation's new keys? Only do this if the hospital has confirmed the new fingerprint to you.")) return;
    repin(result.trust.served, storage);
    void run();
  };
  return (
    <div className="flex flex-col gap-3" data-testid="verify">
      <div className="flex flex-wrap items-center gap-3">
        <Button onPress={run} isDisabled={busy} variant="primary" className="bg-teal-700">
          {busy ? "Verifying…" : "Verify"}
        </Button>
        {result?.status === "done" && (
          <Button variant="secondary" onPress={() => { const f = receiptFile(result.receipt, reportId); saveBlob(f.blob, f.name); }}>
            Download receipt
          </Button>
        )}
        <span className="text-sm text-slate-600">Checks the receipt's signatures, log proof, witnesses and time-stamp, and re-hashes the content, in this browser.</span>
      </div>
      <div aria-live="polite" className="flex flex-col gap-2">
        {result?.status === "done" && result.trust.kind === "changed" && (
          <div role="alert" className="rounded-lg border-2 border-red-600 bg-red-50 p-3 text-red-900" data-testid="trust-changed">
            <p className="font-semibold">Warning: the server now presents different keys for this organisation</p>
            <p className="text-sm">
              This check used the keys you trusted before (fingerprint <Fingerprint hex={result.trust.fingerprint} />). The server now serves{" "}
              <Fingerprint hex={result.trust.servedFingerprint} />. Unless the hospital announced a key change, treat this as a possible attack.
            </p>
            <Button size="sm" variant="danger" className="mt-2" onPress={trustNew}>Trust the new keys…</Button>
          </div>
        )}
        {result?.status === "done" && result.trust.kind === "pinned-now" && (
          <p className="text-xs text-slate-600" data-testid="trust-pinned">
            First verification in this browser: the organisation's keys are now remembered (fingerprint <Fingerprint hex={result.trust.fingerprint} />). Compare it with the one the hospital publishes.
          </p>
        )}
        {result?.status === "done" && result.trust.kind === "matches" && (
          <p className="text-xs text-slate-600" data-testid="trust-matches">
            Checked against the organisation's keys remembered in this browser (fingerprint <Fingerprint hex={result.trust.fingerprint} />).
          </p>
        )}
        {result?.status === "done" && result.trust.kind === "served-unusable" && (
          <p role="alert" className="text-sm text-amber-900">The server did not serve usable keys ({result.trust.reason}); the keys remembered in this browser were used.</p>
        )}
        {result?.status === "done" && <ReceiptChecks result={result.verification} />}
        {result?.status === "done" && result.contentNote && <p className="text-sm text-amber-900">{result.contentNote}</p>}
        {result?.status === "error" && (
          <div role="alert" className="rounded-lg border border-amber-400 bg-amber-50 p-3 text-amber-900" data-testid="verify-result">
            <p className="font-semibold">Could not verify</p>
            <p className="text-sm">{result.message}</p>
            {result.retryable && <Button size="sm" variant="secondary" className="mt-2" onPress={run}>Try again</Button>}
          </div>
        )}
      </div>
    </div>
  );
}
