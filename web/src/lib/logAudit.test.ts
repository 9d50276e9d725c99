// @vitest-environment node
import { describe, expect, it } from "vitest";
import { auditLog, LAST_SEEN_KEY, type LogSource } from "./logAudit";
import { fixtureText } from "./receipt/testdata";
import { parseCheckpoint, parseNote } from "./receipt/note";
import { toBase64 } from "./receipt/bytes";

const log = JSON.parse(fixtureText("log.json"));
const trust = JSON.parse(fixtureText("trust.json"));
function mem() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}
const seen = (note: string) => {
  const cp = parseCheckpoint(parseNote(note).text);
  return JSON.stringify({ origin: cp.origin, size: cp.size, root: toBase64(cp.root) });
};
function source(over: Partial<LogSource> = {}): LogSource & { asked: Array<[number, number]> } {
  const asked: Array<[number, number]> = [];
  return {
    asked, logStatus: async () => log.status, trustBundle: async () => trust,
    consistencyProof: async (from, to) => (asked.push([from, to]), log.consistency), ...over,
  };
}

describe("auditLog", () => {
  it("checks the checkpoint, witnesses and time-stamp, and remembers it on first sight", async () => {
    const s = mem();
    const a = await auditLog(source(), s);
    expect(a).toMatchObject({ origin: "medledger/Org1MSP/reports", size: 7, logSignatureOk: true, validWitnesses: 1, minWitnesses: 1 });
    expect(a.timestamp).toMatchObject({ ok: true, tsa: "Test TSA Signer" });
    expect(a.consistency.status).toBe("first");
    expect(JSON.parse(s.m.get(LAST_SEEN_KEY)!).size).toBe(7);
  });
  it("verifies consistency with the last checkpoint seen", async () => {
    const s = mem();
    s.setItem(LAST_SEEN_KEY, seen(log.earlier));
    const src = source();
    const a = await auditLog(src, s);
    expect(src.asked).toEqual([[4, 7]]);
    expect(a.consistency.status).toBe("consistent");
    expect(JSON.parse(s.m.get(LAST_SEEN_KEY)!).size).toBe(7);
  });
  it("catches a forked history and keeps the earlier checkpoint as evidence", async () => {
    const s = mem();
    s.setItem(LAST_SEEN_KEY, seen(log.forked));
    const a = await auditLog(source(), s);
    expect(a.consistency.status).toBe("inconsistent");
    expect(JSON.parse(s.m.get(LAST_SEEN_KEY)!).root).toBe(JSON.parse(seen(log.forked)).root);
  });
  it("catches a tampered consistency proof, a shrunk log and a different tree of the same size", async () => {
    const s = mem();
    s.setItem(LAST_SEEN_KEY, seen(log.earlier));
    const bad = { ...log.consistency, proof: [...log.consistency.proof] };
    bad.proof[0] = toBase64(new Uint8Array(32));
    expect((await auditLog(source({ consistencyProof: async () => bad }), s)).consistency.status).toBe("inconsistent");
    const big = mem();
    big.setItem(LAST_SEEN_KEY, JSON.stringify({ ...JSON.parse(seen(log.status.checkpoint)), size: 9 }));
    expect((await auditLog(source(), big)).consistency.status).toBe("inconsistent");
    const same = mem();
    same.setItem(LAST_SEEN_KEY, JSON.stringify({ ...JSON.parse(seen(log.status.checkpoint)), root: toBase64(new Uint8Array(32)) }));
    expect((await auditLog(source(), same)).consistency).toMatchObject({ status: "inconsistent", detail: /forked/ });
  });
  it("does not remember a checkpoint whose signature fails", async () => {
    const s = mem();
    const forged = { ...log.status, checkpoint: log.status.checkpoint.replace("\n7\n", "\n8\n") };
    const a = await auditLog(source({ logStatus: async () => forged }), s);
    expect(a.logSignatureOk).toBe(false);
    expect(a.consistency.status).toBe("unchecked");
    expect(s.m.has(LAST_SEEN_KEY)).toBe(false);
    expect(a.timestamp.ok).toBe(false);
  });
  it("says plainly when the log has no checkpoint yet, and counts leaves awaiting the next one", async () => {
    await expect(auditLog(source({ logStatus: async () => ({ treeSize: 0 }) }), mem())).rejects.toThrow(/not published a checkpoint yet/);
    const a = await auditLog(source({ logStatus: async () => ({ ...log.status, treeSize: 9 }) }), mem());
    expect(a.pending).toBe(2);
  });
});
