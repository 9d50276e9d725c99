// C2SP signed notes (https://c2sp.org/signed-note), tlog checkpoints (c2sp.org/tlog-checkpoint) and
// cosignatures (c2sp.org/tlog-cosignature, cosignature/v1), verified with WebCrypto Ed25519.
import { bytesEqual, fromBase64, sha256, utf8 } from "./bytes";

export const ALG_ED25519 = 0x01;
export const ALG_COSIGNATURE_V1 = 0x04;
const EM_DASH = "\u2014";
const MAX_NOTE = 1 << 16;

export interface Verifier {
  name: string;
  keyId: Uint8Array;
  alg: number;
  publicKey: Uint8Array;
  vkey: string;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** Everything after the key ID (the signature; for cosignature/v1 also the 8-byte time). */
  sig: Uint8Array;
  line: string;
}

export interface Note {
  /** The signed text: every line up to the blank line, each ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions: string[];
}

// A key name is non-empty Unicode without whitespace or "+" (signed-note).
const validName = (n: string) => n.length > 0 && !/[\s+]/u.test(n);

export async function keyId(name: string, alg: number, publicKey: Uint8Array): Promise<Uint8Array> {
  return (await sha256(utf8(name + "\n"), Uint8Array.of(alg), publicKey)).subarray(0, 4);
}

/** Parses `<name>+<8 hex key ID>+<base64(alg || public key)>` and checks the key ID matches the key. */
export async function parseVkey(vkey: string): Promise<Verifier> {
  const s = vkey.trim();
  const m = s.match(/^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/);
  if (!m || !validName(m[1])) throw new Error("not a note verifier key (name+keyid+key)");
  const raw = fromBase64(m[3]);
  if (raw.length !== 33 || (raw[0] !== ALG_ED25519 && raw[0] !== ALG_COSIGNATURE_V1)) throw new Error("verifier key is not an Ed25519 key");
  const publicKey = raw.subarray(1);
  const id = await keyId(m[1], raw[0], publicKey);
  const hex = Array.from(id, (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== m[2]) throw new Error("verifier key's key ID does not match its key");
  return { name: m[1], keyId: id, alg: raw[0], publicKey, vkey: s };
}

/** Splits a signed note into text and signature lines; malformed notes are refused. */
export function parseNote(note: string): Note {
  if (typeof note !== "string" || note.length > MAX_NOTE) throw new Error("note missing or too large");
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Error("note has no signature block");
  const text = note.slice(0, split + 1);
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) throw new Error("note text has control characters");
  const signatures: NoteSignature[] = [];
  for (const line of note.slice(split + 2, -1).split("\n")) signatures.push(parseSignatureLine(line));
  if (signatures.length === 0) throw new Error("note has no signatures");
  return { text, signatures };
}

export function parseSignatureLine(line: string): NoteSignature {
  const m = line.match(/^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/);
  if (!m || !validName(m[1])) throw new Error(`malformed signature line "${line.slice(0, 80)}"`);
  const raw = fromBase64(m[2]);
  if (raw.length < 5) throw new Error("signature too short");
  return { name: m[1], keyId: raw.subarray(0, 4), sig: raw.subarray(4), line };
}

export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "") throw new Error("checkpoint needs origin, size and root lines");
  const [origin, size, root, ...rest] = lines.slice(0, -1);
  if (!origin || !/^(0|[1-9][0-9]{0,15})$/.test(size)) throw new Error("checkpoint size is not a decimal number");
  const r = fromBase64(root);
  if (r.length !== 32) throw new Error("checkpoint root is not 32 bytes");
  const n = Number(size);
  if (!Number.isSafeInteger(n)) throw new Error("checkpoint size too large");
  return { origin, size: n, root: r, extensions: rest };
}

async function ed25519Verify(pub: Uint8Array, sig: Uint8Array, msg: Uint8Array): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey("raw", pub as Uint8Array<ArrayBuffer>, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, sig as Uint8Array<ArrayBuffer>, msg as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}

const matches = (s: NoteSignature, v: Verifier) => s.name === v.name && bytesEqual(s.keyId, v.keyId);

/** Does the note carry a valid Ed25519 signature by `v`? */
export async function verifyNoteSignature(note: Note, v: Verifier): Promise<boolean> {
  if (v.alg !== ALG_ED25519) return false;
  for (const s of note.signatures) {
    if (matches(s, v) && s.sig.length === 64 && (await ed25519Verify(v.publicKey, s.sig, utf8(note.text)))) return true;
  }
  return false;
}

export type CosignatureResult =
  | { status: "valid"; name: string; time: number }
  | { status: "invalid"; name: string; reason: string }
  | { status: "unknown"; name: string };

/** Checks one cosignature line against the checkpoint text and the trusted witness keys. */
export async function verifyCosignature(line: string, checkpointText: string, witnesses: Verifier[]): Promise<CosignatureResult> {
  let s: NoteSignature;
  try {
    s = parseSignatureLine(line.replace(/\n$/, ""));
  } catch (e) {
    return { status: "invalid", name: "?", reason: (e as Error).message };
  }
  const v = witnesses.find((w) => matches(s, w));
  if (!v) return { status: "unknown", name: s.name };
  if (v.alg !== ALG_COSIGNATURE_V1 || s.sig.length !== 72) return { status: "invalid", name: s.name, reason: "not a cosignature/v1 signature" };
  const t = new DataView(s.sig.buffer, s.sig.byteOffset, 8).getBigUint64(0);
  if (t > BigInt(Number.MAX_SAFE_INTEGER)) return { status: "invalid", name: s.name, reason: "time out of range" };
  const msg = utf8(`cosignature/v1\ntime ${t}\n${checkpointText}`);
  if (!(await ed25519Verify(v.publicKey, s.sig.subarray(8), msg))) return { status: "invalid", name: s.name, reason: "signature does not verify" };
  return { status: "valid", name: s.name, time: Number(t) };
}

export { EM_DASH };
