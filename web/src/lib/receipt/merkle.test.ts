// @vitest-environment node
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { leafHash, rootOf, verifyConsistency, verifyInclusion } from "./merkle";
import { toHex } from "./bytes";

// Certificate Transparency's reference tree (RFC 6962 test vectors, certificate-transparency-go merkle tests).
const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(hex);
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

// Reference proofs straight from RFC 9162 §2.1.3.1 / §2.1.4.1, with Node's hash (independent of merkle.ts).
const h = (...b: Uint8Array[]) => Uint8Array.from(crypto.createHash("sha256").update(Buffer.concat(b)).digest());
const mth = (d: Uint8Array[]): Uint8Array => {
  if (d.length === 0) return h();
  if (d.length === 1) return h(Uint8Array.of(0), d[0]);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return h(Uint8Array.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
};
const path = (m: number, d: Uint8Array[]): Uint8Array[] => {
  if (d.length <= 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
};
const subproof = (m: number, d: Uint8Array[], b: boolean): Uint8Array[] => {
  const n = d.length;
  if (m === n) return b ? [] : [mth(d)];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
};

describe("merkle (RFC 9162)", () => {
  it("matches CT's known roots for the 8-leaf tree", async () => {
    for (let n = 1; n <= 8; n++) expect(toHex(await rootOf(LEAVES.slice(0, n)))).toBe(ROOTS[n - 1]);
    expect(toHex(await rootOf([]))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
  it("verifies every inclusion proof in trees of 1..8 leaves and refuses tampered ones", async () => {
    for (let n = 1; n <= 8; n++) {
      const d = LEAVES.slice(0, n);
      const root = hex(ROOTS[n - 1]);
      for (let m = 0; m < n; m++) {
        const p = path(m, d);
        const lh = await leafHash(d[m]);
        expect(await verifyInclusion(m, n, lh, p, root)).toBe(true);
        if (n > 1) expect(await verifyInclusion(m === 0 ? 1 : m - 1, n, lh, p, root)).toBe(false);
        if (p.length) expect(await verifyInclusion(m, n, lh, p.slice(0, -1), root)).toBe(false);
        expect(await verifyInclusion(m, n, lh, [...p, new Uint8Array(32)], root)).toBe(false);
        for (let i = 0; i < p.length; i++) {
          const bad = p.map((x) => Uint8Array.from(x));
          bad[i][0] ^= 1;
          expect(await verifyInclusion(m, n, lh, bad, root)).toBe(false);
        }
        expect(await verifyInclusion(m, n, h(d[m]), p, root)).toBe(false);
      }
    }
    expect(await verifyInclusion(8, 8, new Uint8Array(32), [], new Uint8Array(32))).toBe(false);
  });
  it("verifies every consistency proof between trees of 1..8 leaves and refuses tampered ones", async () => {
    for (let n = 1; n <= 8; n++) {
      for (let m = 1; m <= n; m++) {
        const d = LEAVES.slice(0, n);
        const p = m === n ? [] : subproof(m, d, true);
        const r1 = hex(ROOTS[m - 1]);
        const r2 = hex(ROOTS[n - 1]);
        expect(await verifyConsistency(m, n, p, r1, r2)).toBe(true);
        if (m < n) {
          expect(await verifyConsistency(m, n, p, r2, r1)).toBe(false);
          for (let i = 0; i < p.length; i++) {
            const bad = p.map((x) => Uint8Array.from(x));
            bad[i][31] ^= 0x80;
            expect(await verifyConsistency(m, n, bad, r1, r2)).toBe(false);
          }
          expect(await verifyConsistency(m, n, [], r1, r2)).toBe(false);
        }
      }
    }
    expect(await verifyConsistency(5, 4, [], new Uint8Array(32), new Uint8Array(32))).toBe(false);
  });
});
