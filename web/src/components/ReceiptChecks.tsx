// The result of a receipt verification, one line per check in plain language, with the technical detail
// underneath for an auditor. Plain elements only: the offline verifier page renders it too.
import type { ReceiptVerification } from "../lib/receipt/verifyReceipt";
import { formatFingerprint } from "../lib/receipt/trust";

export function ReceiptChecks({ result }: { result: ReceiptVerification }) {
  const failed = result.checks.filter((c) => !c.ok).length;
  return (
    <div data-testid="verify-result" className="flex flex-col gap-2">
      {result.ok ? (
        <div role="status" className="rounded-lg border border-emerald-400 bg-emerald-50 p-3 text-emerald-900">
          <p className="text-base font-semibold">Verified: every check passed</p>
          <p className="text-sm">This receipt was checked in this browser against the organisation's published keys; no server was trusted.</p>
        </div>
      ) : (
        <div role="alert" className="rounded-lg border-2 border-red-600 bg-red-50 p-3 text-red-900">
          <p className="text-base font-semibold">
            {result.usable ? `NOT verified: ${failed} check${failed > 1 ? "s" : ""} failed` : "NOT verified: the file could not be checked"}
          </p>
        </div>
      )}
      <ul aria-label="Receipt checks" className="flex flex-col gap-1">
        {result.checks.map((c) => (
          <li key={c.id} data-check={c.id} data-ok={c.ok ? "true" : "false"} className={`rounded border px-3 py-2 ${c.ok ? "border-slate-200 bg-white" : "border-red-300 bg-red-50"}`}>
            <p className={`text-sm font-medium ${c.ok ? "text-slate-900" : "text-red-900"}`}>
              <span aria-hidden className={c.ok ? "text-emerald-700" : "text-red-700"}>{c.ok ? "✓ " : "✗ "}</span>
              <span className="sr-only">{c.ok ? "Passed: " : "Failed: "}</span>
              {c.label}
            </p>
            <p className="break-all text-xs text-slate-600">{c.detail}</p>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Fingerprint({ hex }: { hex: string }) {
  return <code className="break-all font-mono text-xs">{formatFingerprint(hex)}</code>;
}
