// @vitest-environment node
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { ecdsaDerToRaw, parseCertificate, verifyChain } from "./x509";
import { fixtureText } from "./testdata";

const cert = (n: string) => parseCertificate(fixtureText(`${n}.pem`));
const now = new Date();

describe("x509", () => {
  it("parses names, validity, key and CA flag", () => {
    const c = cert("creator");
    expect(c.subjectCN).toBe("Dr Gregory House");
    expect(c.subjectO).toBe("Org1");
    expect(c.issuerCN).toBe("ca.org1.example.com");
    expect(c.keyAlg).toBe("ec-p256");
    expect(c.isCA).toBe(false);
    expect(cert("org-root").isCA).toBe(true);
    expect(cert("tsa").keyAlg).toBe("rsa");
    expect(cert("tsa").extKeyUsage).toEqual(["1.3.6.1.5.5.7.3.8"]);
    expect(cert("tsa").extKeyUsageCritical).toBe(true);
    expect(c.subjectOUs).toEqual(["client"]);
    expect(cert("orderer").subjectOUs).toEqual(["orderer"]);
    const x = new crypto.X509Certificate(fixtureText("creator.pem"));
    expect(c.notAfter.getTime()).toBe(new Date(x.validTo).getTime());
  });
  it("verifies an ECDSA chain to the pinned root", async () => {
    const r = await verifyChain(cert("creator"), [], [cert("org-root")], now);
    expect(r.ok).toBe(true);
  });
  it("verifies an RSA chain (TSA)", async () => {
    expect((await verifyChain(cert("tsa"), [], [cert("tsa-root")], now)).ok).toBe(true);
  });
  it("refuses a chain to another root", async () => {
    const r = await verifyChain(cert("creator"), [], [cert("orderer-root")], now);
    expect(r).toMatchObject({ ok: false });
  });
  it("refuses a certificate issued by a non-CA", async () => {
    const r = await verifyChain(cert("rogue"), [cert("creator")], [cert("org-root")], now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not a certificate authority/);
  });
  it("refuses a certificate outside its validity", async () => {
    const r = await verifyChain(cert("creator"), [], [cert("org-root")], new Date(Date.UTC(2000, 0, 1)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not valid at/);
  });
  it("refuses a certificate whose signature was altered", async () => {
    const c = cert("creator");
    const der = Uint8Array.from(c.der);
    der[der.length - 5] ^= 1;
    const r = await verifyChain(parseCertificate(der), [], [cert("org-root")], now);
    expect(r.ok).toBe(false);
  });
  it("refuses a certificate whose contents were altered", async () => {
    const c = cert("creator");
    const der = Uint8Array.from(c.der);
    const at = der.indexOf(0x47); // 'G' of "Gregory" in the subject
    der[at] = 0x48;
    const r = await verifyChain(parseCertificate(der), [], [cert("org-root")], now);
    expect(r.ok).toBe(false);
  });
  it("converts DER ECDSA signatures and enforces low-S when asked", () => {
    const k = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    for (let i = 0; i < 8; i++) {
      const der = crypto.sign("sha256", Buffer.from("m" + i), { key: k.privateKey, dsaEncoding: "der" });
      const raw = crypto.sign("sha256", Buffer.from("m" + i), { key: k.privateKey, dsaEncoding: "ieee-p1363" });
      expect(ecdsaDerToRaw(der).length).toBe(64);
      expect(raw.length).toBe(64);
    }
    // s = n - 1 is high
    const n1 = Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550", "hex");
    const der = Buffer.concat([Buffer.from([0x30, 0x26, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00]), n1]);
    expect(() => ecdsaDerToRaw(der, true)).toThrow(/low-S/);
    expect(ecdsaDerToRaw(der, false).length).toBe(64);
  });
});
