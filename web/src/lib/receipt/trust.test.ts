// @vitest-environment node
import { describe, expect, it } from "vitest";
import { parseTrust, pinTrust, PIN_KEY, repin, trustFingerprint, trustFromDirectory } from "./trust";
import { fixtureText } from "./testdata";

const trust = JSON.parse(fixtureText("trust.json"));
function mem() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

describe("trust bundle", () => {
  it("parses the bundle and refuses malformed ones", async () => {
    const t = await parseTrust(trust);
    expect(t.orgRoots.map((c) => c.subjectCN)).toEqual(["ca.org1.example.com", "ca.orderer.example.com"]);
    expect(t.witnesses).toHaveLength(1);
    await expect(parseTrust({ ...trust, format: "x" })).rejects.toThrow(/format/);
    await expect(parseTrust({ ...trust, orgRoots: [fixtureText("creator.pem")] })).rejects.toThrow(/not a CA/);
    await expect(parseTrust({ ...trust, logVkey: "nope" })).rejects.toThrow(/verifier key/);
    await expect(parseTrust({ ...trust, minWitnesses: -1 })).rejects.toThrow(/minWitnesses/);
    await expect(parseTrust("{")).rejects.toThrow(/not JSON/);
  });
  it("fingerprints the content, not the whitespace", async () => {
    const a = await trustFingerprint((await parseTrust(JSON.stringify(trust, null, 4))).json);
    expect(a).toBe(await trustFingerprint((await parseTrust(JSON.stringify(trust))).json));
    expect(a).not.toBe(await trustFingerprint((await parseTrust({ ...trust, minWitnesses: 2 })).json));
  });
  it("pins on first use, then flags a different bundle and keeps using the pinned one until re-pinned", async () => {
    const s = mem();
    expect((await pinTrust(trust, s)).status).toBe("pinned-now");
    expect(s.m.has(PIN_KEY)).toBe(true);
    expect((await pinTrust(trust, s)).status).toBe("matches");
    const changed = await pinTrust({ ...trust, minWitnesses: 0 }, s);
    expect(changed.status).toBe("changed");
    expect(changed.trust.minWitnesses).toBe(1);
    if (changed.status === "changed") repin(changed.served.json, s);
    expect((await pinTrust({ ...trust, minWitnesses: 0 }, s)).status).toBe("matches");
  });
  it("builds the same bundle from the CLI's trust directory", async () => {
    const files = {
      "org-root.pem": fixtureText("org-root.pem"), "orderer-root.pem": fixtureText("orderer-root.pem"), "log.vkey": trust.logVkey + "\n",
      "witnesses.vkeys": trust.witnessVkeys.join("\n") + "\n", "tsa-roots.pem": fixtureText("tsa-root.pem"),
    };
    const fromDir = trustFromDirectory(files);
    expect(await trustFingerprint((await parseTrust(fromDir)).json)).toBe(await trustFingerprint((await parseTrust(trust)).json));
    expect(() => trustFromDirectory({ "log.vkey": "x" })).toThrow(/lacks org-root.pem, tsa-roots.pem/);
  });
});
