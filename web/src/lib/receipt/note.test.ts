// @vitest-environment node
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseCheckpoint, parseNote, parseVkey, verifyCosignature, verifyNoteSignature } from "./note";

function key(name: string, alg: number) {
  const k = crypto.generateKeyPairSync("ed25519");
  const pub = k.publicKey.export({ format: "der", type: "spki" }).subarray(12);
  const id = crypto.createHash("sha256").update(Buffer.concat([Buffer.from(name + "\n"), Buffer.from([alg]), pub])).digest().subarray(0, 4);
  return { name, priv: k.privateKey, id, vkey: `${name}+${id.toString("hex")}+${Buffer.concat([Buffer.from([alg]), pub]).toString("base64")}` };
}
const body = "example.com/log\n5\n" + Buffer.alloc(32, 7).toString("base64") + "\n";
const sign = (k: ReturnType<typeof key>, text: string) => `— ${k.name} ${Buffer.concat([k.id, crypto.sign(null, Buffer.from(text), k.priv)]).toString("base64")}`;
function cosign(k: ReturnType<typeof key>, text: string, t: number) {
  const tb = Buffer.alloc(8);
  tb.writeBigUInt64BE(BigInt(t));
  const sig = crypto.sign(null, Buffer.from(`cosignature/v1\ntime ${t}\n${text}`), k.priv);
  return `— ${k.name} ${Buffer.concat([k.id, tb, sig]).toString("base64")}`;
}

describe("signed notes", () => {
  // The Go sumdb/note example key (golang.org/x/mod/sumdb/note): a published, independent vector.
  it("accepts the Go note package's example verifier key", async () => {
    const v = await parseVkey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    expect(v.name).toBe("PeterNeumann");
    const note = parseNote("If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n");
    expect(await verifyNoteSignature(note, v)).toBe(true);
  });
  it("verifies a log signature and refuses any flipped byte", async () => {
    const k = key("example.com/log", 1);
    const v = await parseVkey(k.vkey);
    const text = `${body}\n${sign(k, body)}\n`;
    expect(await verifyNoteSignature(parseNote(text), v)).toBe(true);
    const cp = parseCheckpoint(parseNote(text).text);
    expect(cp).toMatchObject({ origin: "example.com/log", size: 5 });
    const tampered = text.replace("\n5\n", "\n6\n");
    expect(await verifyNoteSignature(parseNote(tampered), v)).toBe(false);
    const other = await parseVkey(key("example.com/log", 1).vkey);
    expect(await verifyNoteSignature(parseNote(text), other)).toBe(false);
  });
  it("refuses malformed notes, vkeys and checkpoints", async () => {
    expect(() => parseNote(body)).toThrow();
    expect(() => parseNote(`${body}\n- name AAAA\n`)).toThrow(/malformed/);
    await expect(parseVkey(key("a", 1).vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+"))).rejects.toThrow(/key ID/);
    expect(() => parseCheckpoint("o\n05\n" + Buffer.alloc(32).toString("base64") + "\n")).toThrow(/decimal/);
    expect(() => parseCheckpoint("o\n5\n" + Buffer.alloc(31).toString("base64") + "\n")).toThrow(/32 bytes/);
  });
  it("verifies cosignature/v1 and classifies unknown and bad witnesses", async () => {
    const w = key("witness.example/w1", 4);
    const wv = await parseVkey(w.vkey);
    const line = cosign(w, body, 1_700_000_000);
    expect(await verifyCosignature(line, body, [wv])).toEqual({ status: "valid", name: w.name, time: 1_700_000_000 });
    expect((await verifyCosignature(line, body.replace("5", "6"), [wv])).status).toBe("invalid");
    expect((await verifyCosignature(line, body, [])).status).toBe("unknown");
    // a log-style (alg 1) signature under a witness key is not a cosignature
    const asLog = key("witness.example/w1", 1);
    expect((await verifyCosignature(sign(asLog, body), body, [await parseVkey(asLog.vkey)])).status).toBe("invalid");
    // the time is signed: changing it breaks the signature
    const raw = Buffer.from(line.split(" ")[2], "base64");
    raw[11] ^= 1;
    expect((await verifyCosignature(`— ${w.name} ${raw.toString("base64")}`, body, [wv])).status).toBe("invalid");
  });
});
