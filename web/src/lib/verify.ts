// "Verify": the browser fetches the report's receipt and checks it itself against the organisation's pinned
// keys (signatures, certificate chain, log inclusion, witnesses, time-stamp), then re-hashes the document and
// re-computes the CID of the stored ciphertext. Nothing here trusts the server's own answer.
import { ApiError, humanMessage, isIntegrityProblem } from "./problems";
import { parseTrust, pinTrust, PIN_KEY, trustFingerprint, type TrustBundleJson } from "./receipt/trust";
import { verifyReceipt, type Check, type ReceiptVerification } from "./receipt/verifyReceipt";

export interface ReceiptSource {
  receipt(id: string): Promise<unknown>;
  trustBundle(): Promise<unknown>;
  reportDocument(id: string): Promise<Uint8Array>;
  reportCiphertext(id: string): Promise<Uint8Array>;
}

export type TrustNotice =
  /** First use: the served bundle is now pinned; the user should compare the fingerprint out of band. */
  | { kind: "pinned-now"; fingerprint: string }
  | { kind: "matches"; fingerprint: string }
  /** The server now serves other keys: verification used the pinned ones; the user may re-pin deliberately. */
  | { kind: "changed"; fingerprint: string; servedFingerprint: string; served: TrustBundleJson }
  /** The server did not serve usable keys: verification used the pinned ones. */
  | { kind: "served-unusable"; fingerprint: string; reason: string };

export type VerifyOutcome =
  | { status: "done"; verification: ReceiptVerification; receipt: unknown; trust: TrustNotice; contentNote?: string }
  | { status: "error"; message: string; retryable: boolean };

const RETRYABLE = ["receipt_not_ready", "log_unavailable"];

/** Normalizes a hash written as hex, "sha256:hex", "sha256-base64" or base64 to lower-case hex. */
export function normalizeHash(h: string): string {
  let s = h.trim();
  s = s.replace(/^sha2?-?256[:-]/i, "");
  if (/^[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase();
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    if (bin.length === 32) return Array.from(bin, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  } catch {
    /* not base64 */
  }
  return s.toLowerCase();
}

export async function trustFor(src: Pick<ReceiptSource, "trustBundle">, storage: Pick<Storage, "getItem" | "setItem">): Promise<{ json: TrustBundleJson; notice: TrustNotice } | { error: string }> {
  let served: unknown;
  let fetchError = "";
  try {
    served = await src.trustBundle();
  } catch (e) {
    fetchError = e instanceof Error ? e.message : String(e);
  }
  if (!fetchError) {
    try {
      const p = await pinTrust(served, storage);
      if (p.status === "changed")
        return { json: p.trust.json, notice: { kind: "changed", fingerprint: p.fingerprint, servedFingerprint: p.servedFingerprint, served: p.served.json } };
      return { json: p.trust.json, notice: { kind: p.status === "pinned-now" ? "pinned-now" : "matches", fingerprint: p.fingerprint } };
    } catch (e) {
      fetchError = `the server's trust file is unusable: ${(e as Error).message}`;
    }
  }
  const stored = storage.getItem(PIN_KEY);
  if (stored) {
    try {
      const t = await parseTrust(stored);
      return { json: t.json, notice: { kind: "served-unusable", fingerprint: await trustFingerprint(t.json), reason: fetchError } };
    } catch {
      /* fall through */
    }
  }
  return { error: `Could not get the organisation's published keys (${fetchError}).` };
}

/** Fetches the receipt, the keys and the content, and verifies everything in this browser. */
export async function verifyReportReceipt(src: ReceiptSource, reportId: string, storage: Pick<Storage, "getItem" | "setItem">): Promise<VerifyOutcome> {
  let receipt: unknown;
  try {
    receipt = await src.receipt(reportId);
  } catch (e) {
    if (e instanceof ApiError) return { status: "error", message: humanMessage(e.problem), retryable: RETRYABLE.includes(e.code) };
    return { status: "error", message: `Could not fetch the receipt: ${(e as Error).message}`, retryable: false };
  }
  const trust = await trustFor(src, storage);
  if ("error" in trust) return { status: "error", message: trust.error, retryable: true };

  const extra: Check[] = [];
  const notes: string[] = [];
  const fetchBytes = async (f: () => Promise<Uint8Array>, id: string, what: string) => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ApiError && (isIntegrityProblem(e.problem) || e.status === 500)) {
        extra.push({ id, label: `The stored ${what} fails its integrity check`, ok: false, detail: `the server could not produce the ${what} (${e.problem.code})` });
      } else {
        notes.push(`The ${what} could not be fetched, so it was not compared: ${e instanceof Error ? e.message : String(e)}`);
      }
      return undefined;
    }
  };
  const ciphertext = await fetchBytes(() => src.reportCiphertext(reportId), "ciphertext", "encrypted copy");
  const document = await fetchBytes(() => src.reportDocument(reportId), "document", "document");
  const verification = await verifyReceipt(receipt, trust.json, { document, ciphertext });
  if (extra.length) {
    verification.checks.push(...extra);
    verification.ok = false;
  }
  return { status: "done", verification, receipt, trust: trust.notice, contentNote: notes.join(" ") || undefined };
}

/** The receipt as a file a person can keep and check later with the offline page or the CLI. */
export function receiptFile(receipt: unknown, reportId: string): { name: string; blob: Blob } {
  const safe = reportId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80);
  return { name: `receipt-${safe}.json`, blob: new Blob([JSON.stringify(receipt, null, 2) + "\n"], { type: "application/vnd.medledger.receipt+json" }) };
}
