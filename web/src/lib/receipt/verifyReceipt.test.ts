// @vitest-environment node
import { describe, expect, it } from "vitest";
import { verifyReceipt } from "./verifyReceipt";
import { fromBase64, toBase64 } from "./bytes";
import { fixtureBytes, fixtureText } from "./testdata";

const receiptText = fixtureText("receipt.json");
const trust = JSON.parse(fixtureText("trust.json"));
const document = fixtureBytes("document.json");
const ciphertext = fixtureBytes("ciphertext.bin");
const fresh = () => JSON.parse(receiptText);

const failed = (r: Awaited<ReturnType<typeof verifyReceipt>>) => r.checks.filter((c) => !c.ok).map((c) => c.id);

/** Flips one bit of a base64 field at byte `i` (default: the middle). */
function flip(b64: string, i?: number): string {
  const b = fromBase64(b64);
  b[i ?? b.length >> 1] ^= 0x01;
  return toBase64(b);
}

describe("verifyReceipt", () => {
  it("passes every check on a good receipt, with the document and ciphertext", async () => {
    const r = await verifyReceipt(fresh(), trust, { document, ciphertext });
    expect(failed(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual([
      "leaf", "ledger.envelope", "ledger.event", "ledger.endorsements", "ledger.block", "log.inclusion", "log.checkpoint", "log.witnesses", "timestamp", "document", "ciphertext",
    ]);
    const label = (id: string) => r.checks.find((c) => c.id === id)!.label;
    expect(label("ledger.envelope")).toBe("Signed by Dr Gregory House at Org1MSP");
    expect(label("log.inclusion")).toBe("Included in the hospital's public log at position 5 of 7");
    expect(label("log.witnesses")).toBe("Witnessed by witness.example/w1");
    expect(label("timestamp")).toMatch(/^Time-stamped by Test TSA Signer at \d{4}-/);
    expect(label("ledger.block")).toBe("Recorded in block 7, sealed by orderer.example.com (OrdererMSP)");
    expect(label("ledger.endorsements")).toBe("Approved by peer0.org1.example.com (Org1MSP)");
    expect(label("document")).toBe("Document matches");
  });
  it("accepts the receipt as JSON text and the trust bundle as text", async () => {
    expect((await verifyReceipt(receiptText, JSON.stringify(trust))).ok).toBe(true);
  });

  // Tamper tests: one flipped byte of each input makes the named check fail.
  const cases: Array<[string, (r: ReturnType<typeof fresh>) => void, string]> = [
    ["leaf bytes", (r) => (r.leaf.data = flip(r.leaf.data, 20)), "leaf"],
    ["leaf fields", (r) => (r.leaf.fields.version = 2), "leaf"],
    ["leaf index", (r) => (r.leaf.index = 3), "log.inclusion"],
    ["content hash", (r) => (r.content.contentHash = "0" + r.content.contentHash.slice(1)), "leaf"],
    ["envelope", (r) => (r.ledger.envelope = flip(r.ledger.envelope)), "ledger.envelope"],
    ["envelope signature", (r) => (r.ledger.envelope = flip(r.ledger.envelope, fromBase64(r.ledger.envelope).length - 3)), "ledger.envelope"],
    ["block header", (r) => (r.ledger.blockHeader = flip(r.ledger.blockHeader, 10)), "ledger.block"],
    ["block signature", (r) => (r.ledger.blockSignature = flip(r.ledger.blockSignature, fromBase64(r.ledger.blockSignature).length - 3)), "ledger.block"],
    ["block metadata", (r) => (r.ledger.blockMetadataValue = flip(r.ledger.blockMetadataValue, 0)), "ledger.block"],
    ["inclusion proof", (r) => (r.log.inclusionProof[1] = flip(r.log.inclusionProof[1])), "log.inclusion"],
    ["checkpoint size", (r) => (r.log.checkpoint = r.log.checkpoint.replace("\n7\n", "\n8\n")), "log.checkpoint"],
    ["checkpoint signature", (r) => (r.log.checkpoint = r.log.checkpoint.replace(/ (\S+)\n$/, (_m: string, s: string) => ` ${flip(s, 30)}\n`)), "log.checkpoint"],
    ["cosignature", (r) => (r.log.cosignatures[0] = r.log.cosignatures[0].replace(/ (\S+)$/, (_m: string, s: string) => ` ${flip(s, 40)}`)), "log.witnesses"],
    ["time-stamp token", (r) => (r.log.timestampToken = flip(r.log.timestampToken, 70)), "timestamp"],
    ["tx ID", (r) => (r.ledger.txId = "f".repeat(64)), "leaf"],
  ];
  for (const [what, mutate, id] of cases) {
    it(`fails "${id}" when the ${what} is altered`, async () => {
      const r = fresh();
      mutate(r);
      const v = await verifyReceipt(r, trust, { document, ciphertext });
      expect(v.ok).toBe(false);
      expect(failed(v)).toContain(id);
    });
  }
  // Correctly signed evidence that is wrong in one respect (scripts/make-receipt-fixtures.mjs "variants").
  it("fails endorsements made by a non-peer or for another proposal, though every signature verifies", async () => {
    const variants = JSON.parse(fixtureText("variants.json"));
    const byClient = fresh();
    byClient.ledger.envelope = variants["endorsed-by-client"];
    const a = await verifyReceipt(byClient, trust);
    expect(failed(a)).toEqual(["ledger.endorsements"]);
    expect(a.checks.find((c) => c.id === "ledger.endorsements")!.label).toMatch(/is not a peer/);
    const other = fresh();
    other.ledger.envelope = variants["other-proposal"];
    const b = await verifyReceipt(other, trust);
    expect(failed(b)).toEqual(["ledger.endorsements"]);
    expect(b.checks.find((c) => c.id === "ledger.endorsements")!.label).toBe("The endorsements were made for another proposal");
  });
  it("fails the document and ciphertext checks on altered bytes", async () => {
    const d = Uint8Array.from(document);
    d[3] ^= 1;
    const c = Uint8Array.from(ciphertext);
    c[500] ^= 1;
    const v = await verifyReceipt(fresh(), trust, { document: d, ciphertext: c });
    expect(failed(v)).toEqual(["document", "ciphertext"]);
  });
  it("fails when the keys are not the organisation's", async () => {
    const other = { ...trust, orgRoots: [fixtureText("tsa-root.pem")] };
    expect(failed(await verifyReceipt(fresh(), other))).toEqual(["ledger.envelope", "ledger.endorsements", "ledger.block"]);
    const noWitness = { ...trust, witnessVkeys: [] };
    const v = await verifyReceipt(fresh(), noWitness);
    expect(failed(v)).toEqual(["log.witnesses"]);
    expect(v.checks.find((c) => c.id === "log.witnesses")!.detail).toMatch(/unknown witnesses \(not counted\): witness.example\/w1/);
    const otherTsa = { ...trust, tsaRoots: [fixtureText("org-root.pem")] };
    expect(failed(await verifyReceipt(fresh(), otherTsa))).toEqual(["timestamp"]);
    // a server with no TSA configured publishes no TSA root: only the time-stamp check fails
    expect(failed(await verifyReceipt(fresh(), { ...trust, tsaRoots: [] }))).toEqual(["timestamp"]);
    const otherLog = { ...trust, logVkey: trust.witnessVkeys[0] };
    expect(failed(await verifyReceipt(fresh(), otherLog))).toContain("log.checkpoint");
  });
  it("never throws: unusable input gives one clear failed check", async () => {
    for (const bad of [null, 42, "not json", {}, { format: "medledger-receipt/1" }, { ...fresh(), leaf: { data: 1 } }]) {
      const v = await verifyReceipt(bad, trust);
      expect(v).toMatchObject({ ok: false, usable: false });
      expect(v.checks).toHaveLength(1);
      expect(v.checks[0].id).toBe("receipt");
    }
    const v = await verifyReceipt(fresh(), { format: "x" });
    expect(v.checks[0]).toMatchObject({ id: "trust", ok: false });
    const junk = fresh();
    junk.ledger.envelope = "!!!";
    junk.log.timestampToken = "AAAA";
    const j = await verifyReceipt(junk, trust);
    expect(j.usable).toBe(true);
    expect(failed(j)).toEqual(expect.arrayContaining(["ledger.envelope", "timestamp"]));
  });
  it("never throws on random binary evidence (a cheap fuzz of every parser behind it)", async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const fields = [["ledger", "envelope"], ["ledger", "blockHeader"], ["ledger", "blockSignature"], ["log", "timestampToken"], ["leaf", "data"]] as const;
    for (let i = 0; i < 150; i++) {
      const r = fresh();
      const [sec, f] = fields[i % fields.length];
      const orig = fromBase64(r[sec][f]);
      // change a run of 1-8 bytes of the real value (each to a different byte), so parsers get deep before failing
      const at = Math.floor(rnd() * orig.length);
      const mutated = Uint8Array.from(orig);
      for (let j = at; j < Math.min(orig.length, at + 1 + Math.floor(rnd() * 8)); j++) mutated[j] ^= 1 + Math.floor(rnd() * 255);
      r[sec][f] = toBase64(mutated);
      const v = await verifyReceipt(r, trust);
      expect(v.usable).toBe(true);
      expect(v.ok, `${sec}.${f} at ${at}`).toBe(false);
    }
  });
  it("no single flipped bit anywhere in the binary evidence goes unnoticed", async () => {
    for (const field of ["envelope", "blockHeader", "blockSignature"] as const) {
      const len = fromBase64(fresh().ledger[field]).length;
      for (let i = 0; i < len; i += Math.max(1, Math.floor(len / 40))) {
        const r = fresh();
        r.ledger[field] = flip(r.ledger[field], i);
        expect((await verifyReceipt(r, trust)).ok, `${field} byte ${i}`).toBe(false);
      }
    }
  });
});
