// @vitest-environment node
import { describe, expect, it } from "vitest";
import { computeCid, sha256Hex } from "./cid";
import { ApiError } from "./problems";
import { normalizeHash, verifyReport } from "./verify";
import type { Proof } from "./types";

const enc = (s: string) => new TextEncoder().encode(s);

async function source(doc: Uint8Array, cipher: Uint8Array, over: Partial<Proof> = {}) {
  const proof = { reportId: "r1", version: 1, cid: await computeCid(cipher), contentHash: await sha256Hex(doc), txId: "tx", blockNumber: 7, ...over } as Proof;
  return { proof: async () => proof, reportDocument: async () => doc, reportCiphertext: async () => cipher };
}

describe("verifyReport", () => {
  it("says intact when hash and CID match the proof", async () => {
    const r = await verifyReport(await source(enc("{\"a\":1}"), enc("ciphertext")), "r1");
    expect(r).toMatchObject({ status: "intact", blockNumber: 7 });
  });
  it("says tampered when the stored ciphertext changed", async () => {
    const src = await source(enc("doc"), enc("ciphertext"));
    src.reportCiphertext = async () => enc("ciphertexT");
    const r = await verifyReport(src, "r1");
    expect(r.status).toBe("tampered");
    if (r.status === "tampered") expect(r.reasons[0]).toMatch(/CID/);
  });
  it("says tampered when the document hash differs", async () => {
    const src = await source(enc("doc"), enc("c"), { contentHash: "00".repeat(32) });
    const r = await verifyReport(src, "r1");
    expect(r.status).toBe("tampered");
  });
  it("treats a server integrity failure as tampering", async () => {
    const src = await source(enc("doc"), enc("c"));
    src.reportDocument = async () => { throw new ApiError({ status: 500, code: "corruption" }); };
    const r = await verifyReport(src, "r1");
    expect(r.status).toBe("tampered");
  });
  it("reports access errors as errors, not tampering", async () => {
    const src = await source(enc("doc"), enc("c"));
    src.reportCiphertext = async () => { throw new ApiError({ status: 403, code: "forbidden" }); };
    expect((await verifyReport(src, "r1")).status).toBe("error");
  });
  it("normalizes hash notations", () => {
    const hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(normalizeHash(hex.toUpperCase())).toBe(hex);
    expect(normalizeHash("sha256:" + hex)).toBe(hex);
    expect(normalizeHash(Buffer.from(hex, "hex").toString("base64"))).toBe(hex);
  });
});
