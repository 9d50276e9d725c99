// "Verify": the browser recomputes the SHA-256 of the canonical document and the CID of the stored
// ciphertext, and compares both with the ledger proof. Nothing here trusts the server's own checks.
import { computeCid, sha256Hex, type Sha256, webCryptoSha256 } from "./cid";
import { ApiError, isIntegrityProblem } from "./problems";
import type { Proof } from "./types";

export type VerifyResult =
  | { status: "intact"; cid: string; contentHash: string; blockNumber: number; txId: string }
  | { status: "tampered"; reasons: string[] }
  | { status: "error"; message: string };

export interface VerifySource {
  proof(id: string): Promise<Proof>;
  reportDocument(id: string): Promise<Uint8Array>;
  reportCiphertext(id: string): Promise<Uint8Array>;
}

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

export async function verifyReport(src: VerifySource, reportId: string, sha256: Sha256 = webCryptoSha256): Promise<VerifyResult> {
  let proof: Proof;
  try {
    proof = await src.proof(reportId);
  } catch (e) {
    return { status: "error", message: `Could not fetch the ledger proof: ${(e as Error).message}` };
  }
  const reasons: string[] = [];
  let doc: Uint8Array | null = null;
  let cipher: Uint8Array | null = null;
  const fetchBytes = async (f: () => Promise<Uint8Array>, what: string) => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ApiError && (isIntegrityProblem(e.problem) || e.status === 500)) {
        reasons.push(`the server could not produce the ${what} (${e.problem.code}): the stored content fails its integrity check`);
        return null;
      }
      throw e;
    }
  };
  let cid = "";
  let hash = "";
  try {
    cipher = await fetchBytes(() => src.reportCiphertext(reportId), "stored ciphertext");
    if (cipher) {
      cid = await computeCid(cipher, sha256);
      if (cid !== proof.cid) reasons.push(`the stored ciphertext's CID is ${cid}, but the ledger records ${proof.cid}`);
    }
    doc = await fetchBytes(() => src.reportDocument(reportId), "document");
  } catch (e) {
    return { status: "error", message: `Could not fetch the record: ${(e as Error).message}` };
  }
  if (doc) {
    hash = await sha256Hex(doc, sha256);
    const expected = normalizeHash(proof.contentHash);
    if (hash !== expected) reasons.push(`the document's SHA-256 is ${hash}, but the ledger records ${expected}`);
  }
  if (reasons.length) return { status: "tampered", reasons };
  return { status: "intact", cid, contentHash: hash, blockNumber: proof.blockNumber, txId: proof.txId };
}
