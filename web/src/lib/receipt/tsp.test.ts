// @vitest-environment node
import { describe, expect, it } from "vitest";
import { verifyTimestampToken } from "./tsp";
import { parseCertificate } from "./x509";
import { fixtureBytes, fixtureText } from "./testdata";

// token.tsr was made by `openssl ts -reply` over checkpoint.txt and checked with `openssl ts -verify`
// (scripts/make-receipt-fixtures.mjs).
const token = fixtureBytes("token.tsr");
const data = new TextEncoder().encode(fixtureText("checkpoint.txt"));
const roots = [parseCertificate(fixtureText("tsa-root.pem"))];

describe("RFC 3161 time-stamp tokens", () => {
  it("verifies an openssl ts token and returns its genTime and TSA", async () => {
    const r = await verifyTimestampToken(token, data, roots);
    expect(r.tsa).toBe("Test TSA Signer");
    expect(Math.abs(r.genTime.getTime() - Date.now())).toBeLessThan(10 * 365 * 86400e3);
    expect(r.policy).toBe("1.3.6.1.4.1.99999.1");
  });
  it("refuses other data", async () => {
    const other = Uint8Array.from(data);
    other[0] ^= 1;
    await expect(verifyTimestampToken(token, other, roots)).rejects.toThrow(/message imprint/);
  });
  it("refuses a token from an untrusted TSA root", async () => {
    await expect(verifyTimestampToken(token, data, [parseCertificate(fixtureText("org-root.pem"))])).rejects.toThrow(/trusted TSA root/);
  });
  it("fails on every flipped byte (never accepts, never crashes)", async () => {
    let accepted = 0;
    for (let i = 0; i < token.length; i += 3) {
      const t = Uint8Array.from(token);
      t[i] ^= 0x01;
      try {
        await verifyTimestampToken(t, data, roots);
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }
    // Including the fields outside the signed attributes (digest algorithm list, versions): held to RFC 3161.
    expect(accepted).toBe(0);
  });
});
