import { useState } from "react";
import { Button } from "@heroui/react";
import { useApi } from "../lib/session";
import { verifyReport, type VerifyResult } from "../lib/verify";
import { Mono } from "./ui";

/** "Verify": recomputes the hash and CID in the browser and compares them with the ledger proof. */
export function VerifyPanel({ reportId }: { reportId: string }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<VerifyResult | null>(null);
  const run = async () => {
    setBusy(true);
    setResult(null);
    try {
      setResult(await verifyReport(api, reportId));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-col gap-3" data-testid="verify">
      <div className="flex flex-wrap items-center gap-3">
        <Button onPress={run} isDisabled={busy} variant="primary" className="bg-teal-700">
          {busy ? "Verifying…" : "Verify"}
        </Button>
        <span className="text-sm text-slate-600">Recomputes the SHA-256 and CID in this browser and compares them with the ledger.</span>
      </div>
      <div aria-live="polite">
        {result?.status === "intact" && (
          <div role="status" className="rounded-lg border border-emerald-400 bg-emerald-50 p-3 text-emerald-900" data-testid="verify-result">
            <p className="text-base font-semibold">Intact</p>
            <p className="text-sm">
              The document hash and the CID of the stored content match the ledger record (block {result.blockNumber}).
            </p>
            <p className="mt-1 text-xs">
              CID <Mono>{result.cid}</Mono>
            </p>
          </div>
        )}
        {result?.status === "tampered" && (
          <div role="alert" className="rounded-lg border-2 border-red-600 bg-red-50 p-3 text-red-900" data-testid="verify-result">
            <p className="text-base font-semibold">Tampered: the stored record does not match the ledger</p>
            <ul className="mt-1 list-disc pl-5 text-sm">
              {result.reasons.map((r) => (
                <li key={r} className="break-all">
                  {r}
                </li>
              ))}
            </ul>
          </div>
        )}
        {result?.status === "error" && (
          <div role="alert" className="rounded-lg border border-amber-400 bg-amber-50 p-3 text-amber-900" data-testid="verify-result">
            <p className="font-semibold">Could not verify</p>
            <p className="text-sm">{result.message}</p>
          </div>
        )}
      </div>
    </div>
  );
}
