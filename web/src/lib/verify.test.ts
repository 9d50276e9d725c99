// @vitest-environment node
import { describe, expect, it } from "vitest";
import { ApiError } from "./problems";
import { normalizeHash, verifyReportReceipt, type ReceiptSource } from "./verify";
import { PIN_KEY } from "./receipt/trust";
import { fixtureBytes, fixtureText } from "./receipt/testdata";

const receipt = () => JSON.parse(fixtureText("receipt.json"));
const trust = () => JSON.parse(fixtureText("trust.json"));
function mem() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}
function source(over: Partial<ReceiptSource> = {}): ReceiptSource {
  return {
    receipt: async () => receipt(), trustBundle: async () => trust(),
    reportDocument: async () => fixtureBytes("document.json"), reportCiphertext: async () => fixtureBytes("ciphertext.bin"), ...over,
  };
}
const failedIds = (o: Awaited<ReturnType<typeof verifyReportReceipt>>) => (o.status === "done" ? o.verification.checks.filter((c) => !c.ok).map((c) => c.id) : ["error"]);

describe("verifyReportReceipt", () => {
  it("verifies the receipt, the document and the ciphertext, pinning the keys on first use", async () => {
    const s = mem();
    const o = await verifyReportReceipt(source(), "r-fixture-1", s);
    expect(failedIds(o)).toEqual([]);
    expect(o.status === "done" && o.trust.kind).toBe("pinned-now");
    expect(s.m.has(PIN_KEY)).toBe(true);
    const again = await verifyReportReceipt(source(), "r-fixture-1", s);
    expect(again.status === "done" && again.trust.kind).toBe("matches");
    const ids = again.status === "done" ? again.verification.checks.map((c) => c.id) : [];
    expect(ids).toContain("document");
    expect(ids).toContain("ciphertext");
  });
  it("uses the pinned keys, not the server's new ones, and says so", async () => {
    const s = mem();
    await verifyReportReceipt(source(), "r", s);
    // A server that swaps in its own witness key set (here: none) is flagged; the pinned bundle still decides.
    const o = await verifyReportReceipt(source({ trustBundle: async () => ({ ...trust(), minWitnesses: 0, witnessVkeys: [] }) }), "r", s);
    expect(o.status === "done" && o.trust.kind).toBe("changed");
    expect(failedIds(o)).toEqual([]);
  });
  it("fails the document check when the content was altered", async () => {
    const d = fixtureBytes("document.json");
    d[0] ^= 1;
    expect(failedIds(await verifyReportReceipt(source({ reportDocument: async () => d }), "r", mem()))).toEqual(["document"]);
  });
  it("treats a server integrity failure as a failed check", async () => {
    const o = await verifyReportReceipt(source({ reportCiphertext: async () => { throw new ApiError({ status: 500, code: "corruption" }); } }), "r", mem());
    expect(failedIds(o)).toEqual(["ciphertext"]);
  });
  it("says a not-yet-checkpointed receipt can be retried", async () => {
    const o = await verifyReportReceipt(source({ receipt: async () => { throw new ApiError({ status: 409, code: "receipt_not_ready" }); } }), "r", mem());
    expect(o).toMatchObject({ status: "error", retryable: true, message: expect.stringMatching(/not ready/) });
  });
  it("falls back to the pinned keys when the server serves none, and errors without any", async () => {
    const s = mem();
    await verifyReportReceipt(source(), "r", s);
    const down = source({ trustBundle: async () => { throw new ApiError({ status: 503, code: "log_unavailable" }); } });
    const o = await verifyReportReceipt(down, "r", s);
    expect(o.status === "done" && o.trust.kind).toBe("served-unusable");
    expect((await verifyReportReceipt(down, "r", mem())).status).toBe("error");
  });
  it("normalizes hash notations", () => {
    const hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(normalizeHash(hex.toUpperCase())).toBe(hex);
    expect(normalizeHash("sha256:" + hex)).toBe(hex);
    expect(normalizeHash(Buffer.from(hex, "hex").toString("base64"))).toBe(hex);
  });
});
