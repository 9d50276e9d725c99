// The auditor's view of the public report log: the newest checkpoint, checked in the browser against the pinned
// log key; its witnesses' cosignatures; its RFC 3161 time-stamp; and whether it is consistent with the last
// checkpoint this browser saw (an RFC 9162 consistency proof), so a log that rewrites history is caught.
import { fromBase64, toBase64, toHex, utf8 } from "./receipt/bytes";
import { verifyConsistency } from "./receipt/merkle";
import { parseCheckpoint, parseNote, verifyCosignature, verifyNoteSignature, type CosignatureResult } from "./receipt/note";
import { parseTrust } from "./receipt/trust";
import { verifyTimestampToken } from "./receipt/tsp";
import { trustFor, type TrustNotice } from "./verify";
import type { ConsistencyProof, LogStatus } from "./types";

export const LAST_SEEN_KEY = "medledger.log.lastSeen";

export interface LogSource {
  logStatus(): Promise<LogStatus>;
  consistencyProof(from: number, to: number): Promise<ConsistencyProof>;
  trustBundle(): Promise<unknown>;
}

export interface SeenCheckpoint {
  origin: string;
  size: number;
  root: string; // base64
}

export type Consistency =
  | { status: "first"; detail: string }
  | { status: "same"; detail: string }
  | { status: "consistent"; detail: string; previous: SeenCheckpoint }
  | { status: "inconsistent"; detail: string; previous: SeenCheckpoint }
  | { status: "unchecked"; detail: string };

export interface LogAudit {
  origin: string;
  size: number;
  root: string;
  rootHex: string;
  checkpoint: string;
  logSignatureOk: boolean;
  cosigners: CosignatureResult[];
  validWitnesses: number;
  minWitnesses: number;
  timestamp: { ok: true; tsa: string; genTime: Date } | { ok: false; error: string };
  consistency: Consistency;
  anchorTxId?: string;
  /** Leaves appended since this checkpoint (covered by the next one). */
  pending: number;
  trust: TrustNotice;
}

function lastSeen(storage: Pick<Storage, "getItem">): SeenCheckpoint | null {
  try {
    const o = JSON.parse(storage.getItem(LAST_SEEN_KEY) ?? "null");
    if (o && typeof o.origin === "string" && Number.isSafeInteger(o.size) && typeof o.root === "string") return o;
  } catch {
    /* treated as never seen */
  }
  return null;
}

/** Fetches and checks the newest checkpoint; remembers it only if it is signed and consistent. */
export async function auditLog(src: LogSource, storage: Pick<Storage, "getItem" | "setItem">): Promise<LogAudit> {
  const t = await trustFor(src, storage);
  if ("error" in t) throw new Error(t.error);
  const trust = await parseTrust(t.json);
  const status = await src.logStatus();
  if (!status.checkpoint) throw new Error("The public log has not published a checkpoint yet.");
  const note = parseNote(status.checkpoint);
  const cp = parseCheckpoint(note.text);
  const logSignatureOk = await verifyNoteSignature(note, trust.logKey);
  const cosigners: CosignatureResult[] = [];
  for (const line of status.cosignatures ?? []) cosigners.push(await verifyCosignature(line, note.text, trust.witnesses));
  const validWitnesses = new Set(cosigners.filter((c) => c.status === "valid").map((c) => c.name)).size;
  let timestamp: LogAudit["timestamp"];
  try {
    if (!status.timestampToken) throw new Error("the log has no time-stamp for this checkpoint");
    const r = await verifyTimestampToken(fromBase64(status.timestampToken), utf8(status.checkpoint), trust.tsaRoots);
    timestamp = { ok: true, tsa: r.tsa, genTime: r.genTime };
  } catch (e) {
    timestamp = { ok: false, error: (e as Error).message };
  }

  const root = toBase64(cp.root);
  const prev = lastSeen(storage);
  let consistency: Consistency;
  if (!logSignatureOk) {
    consistency = { status: "unchecked", detail: "the checkpoint's signature does not verify, so it was not compared or remembered" };
  } else if (!prev || prev.origin !== cp.origin) {
    consistency = { status: "first", detail: "first checkpoint of this log seen in this browser: remembered for next time" };
  } else if (prev.size === cp.size) {
    consistency = prev.root === root
      ? { status: "same", detail: "the same checkpoint as last time" }
      : { status: "inconsistent", detail: `two different trees of size ${cp.size}: the log has been forked or rewritten`, previous: prev };
  } else if (prev.size > cp.size) {
    consistency = { status: "inconsistent", detail: `the log shrank from ${prev.size} to ${cp.size} entries`, previous: prev };
  } else {
    try {
      const p = await src.consistencyProof(prev.size, cp.size);
      if (p.from !== prev.size || p.to !== cp.size || !Array.isArray(p.proof)) throw new Error("the server answered for other sizes");
      const ok = await verifyConsistency(prev.size, cp.size, p.proof.map(fromBase64), fromBase64(prev.root), cp.root);
      consistency = ok
        ? { status: "consistent", detail: `extends the checkpoint of size ${prev.size} you saw before (RFC 9162 consistency proof, ${p.proof.length} hashes)`, previous: prev }
        : { status: "inconsistent", detail: `the consistency proof from size ${prev.size} does not verify: the log may have rewritten history`, previous: prev };
    } catch (e) {
      consistency = { status: "unchecked", detail: `could not get a consistency proof: ${(e as Error).message}` };
    }
  }
  // Remember only what verified: an inconsistent or unchecked checkpoint must not replace the evidence.
  if (consistency.status === "first" || consistency.status === "consistent") {
    storage.setItem(LAST_SEEN_KEY, JSON.stringify({ origin: cp.origin, size: cp.size, root } satisfies SeenCheckpoint));
  }
  return {
    origin: cp.origin, size: cp.size, root, rootHex: toHex(cp.root), checkpoint: status.checkpoint, logSignatureOk, cosigners, validWitnesses,
    minWitnesses: trust.minWitnesses, timestamp, consistency, anchorTxId: status.anchorTxId || undefined,
    pending: Math.max(0, (status.treeSize ?? cp.size) - cp.size), trust: t.notice,
  };
}
