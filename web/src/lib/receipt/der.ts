// A strict DER reader: definite lengths only, minimal length encodings, every read bounds-checked, and a
// nesting limit, so a hostile receipt cannot make the verifier read outside its buffer or recurse forever.
// Enough of X.690 for X.509 certificates and CMS SignedData.

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

export const MAX_DEPTH = 32;

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One TLV: `tag` is the identifier byte (low-tag-number form only), `bytes` the whole encoding. */
export interface Der {
  tag: number;
  /** The whole TLV (identifier, length, contents): what signatures cover. */
  bytes: Uint8Array;
  /** The contents octets. */
  value: Uint8Array;
  depth: number;
}

/** Reads exactly one TLV at `offset` of `buf`, returning it and the offset after it. */
export function readTlv(buf: Uint8Array, offset = 0, depth = 0): { node: Der; next: number } {
  if (depth > MAX_DEPTH) throw new DerError("DER nesting too deep");
  if (offset >= buf.length) throw new DerError("DER truncated: no tag");
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError("DER high tag numbers are not supported");
  let p = offset + 1;
  if (p >= buf.length) throw new DerError("DER truncated: no length");
  const first = buf[p++];
  let len: number;
  if (first < 0x80) {
    len = first;
  } else if (first === 0x80) {
    throw new DerError("DER forbids indefinite lengths");
  } else {
    const n = first & 0x7f;
    if (n > 4) throw new DerError("DER length too large");
    if (p + n > buf.length) throw new DerError("DER truncated in length");
    if (buf[p] === 0) throw new DerError("DER length not minimal");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
    if (len < 0x80) throw new DerError("DER length not minimal");
  }
  if (p + len > buf.length) throw new DerError("DER value runs past the end of its container");
  return { node: { tag, bytes: buf.subarray(offset, p + len), value: buf.subarray(p, p + len), depth }, next: p + len };
}

/** Parses a buffer that must hold exactly one TLV. */
export function parseDer(buf: Uint8Array): Der {
  const { node, next } = readTlv(buf, 0, 0);
  if (next !== buf.length) throw new DerError("trailing bytes after DER value");
  return node;
}

export function isConstructed(n: Der): boolean {
  return (n.tag & 0x20) !== 0;
}

/** The children of a constructed value, all of which must exactly fill it. */
export function children(n: Der): Der[] {
  if (!isConstructed(n)) throw new DerError(`DER tag 0x${n.tag.toString(16)} is not constructed`);
  const out: Der[] = [];
  let p = 0;
  while (p < n.value.length) {
    const { node, next } = readTlv(n.value, p, n.depth + 1);
    out.push(node);
    p = next;
    if (out.length > 100_000) throw new DerError("DER has too many elements");
  }
  return out;
}

export function expectTag(n: Der | undefined, tag: number, what: string): Der {
  if (!n) throw new DerError(`${what}: missing`);
  if (n.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${n.tag.toString(16)}`);
  return n;
}

/** Children of a SEQUENCE (or SET) with the given tag. */
export function seq(n: Der | undefined, what: string, tag: number = TAG.SEQUENCE): Der[] {
  return children(expectTag(n, tag, what));
}

/** Parses the content of an EXPLICIT context tag [k]: exactly one inner value. */
export function explicit(n: Der, what: string): Der {
  const c = children(n);
  if (c.length !== 1) throw new DerError(`${what}: explicit tag must hold one value`);
  return c[0];
}

export function decodeOid(n: Der): string {
  expectTag(n, TAG.OID, "OID");
  const v = n.value;
  if (v.length === 0 || v.length > 64) throw new DerError("OID length invalid");
  const parts: number[] = [];
  let acc = 0;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    if (!started && v[i] === 0x80) throw new DerError("OID arc not minimal");
    started = true;
    acc = acc * 128 + (v[i] & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) throw new DerError("OID arc too large");
    if ((v[i] & 0x80) === 0) {
      parts.push(acc);
      acc = 0;
      started = false;
    } else if (i === v.length - 1) {
      throw new DerError("OID truncated");
    }
  }
  const first = parts[0];
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join(".");
}

/** A non-negative INTEGER's magnitude bytes (leading zero stripped); negative values are rejected. */
export function unsignedInteger(n: Der, what = "INTEGER"): Uint8Array {
  expectTag(n, TAG.INTEGER, what);
  const v = n.value;
  if (v.length === 0) throw new DerError(`${what}: empty`);
  if (v.length > 1 && ((v[0] === 0 && (v[1] & 0x80) === 0) || (v[0] === 0xff && (v[1] & 0x80) !== 0)))
    throw new DerError(`${what}: not minimal`);
  if (v[0] & 0x80) throw new DerError(`${what}: negative`);
  return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
}

export function smallInteger(n: Der, what = "INTEGER"): number {
  const m = unsignedInteger(n, what);
  if (m.length > 6) throw new DerError(`${what}: too large`);
  let x = 0;
  for (const b of m) x = x * 256 + b;
  return x;
}

/** BIT STRING contents without unused bits (keys and signatures are whole bytes). */
export function bitStringBytes(n: Der, what = "BIT STRING"): Uint8Array {
  expectTag(n, TAG.BIT_STRING, what);
  if (n.value.length === 0 || n.value[0] !== 0) throw new DerError(`${what}: unused bits not supported`);
  return n.value.subarray(1);
}

export function octetString(n: Der | undefined, what = "OCTET STRING"): Uint8Array {
  return expectTag(n, TAG.OCTET_STRING, what).value;
}

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z) as a Date; DER requires Z. */
export function decodeTime(n: Der): Date {
  const s = latin1(n.value);
  let m: RegExpMatchArray | null;
  let year: number;
  let rest: string;
  if (n.tag === TAG.UTC_TIME) {
    m = s.match(/^(\d{2})(\d{10})Z$/);
    if (!m) throw new DerError("UTCTime malformed");
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = m[2];
  } else if (n.tag === TAG.GENERALIZED_TIME) {
    m = s.match(/^(\d{4})(\d{10})(\.\d*[1-9])?Z$/);
    if (!m) throw new DerError("GeneralizedTime malformed");
    year = Number(m[1]);
    rest = m[2] + (m[3] ?? "");
  } else {
    throw new DerError("expected a time");
  }
  const mo = Number(rest.slice(0, 2));
  const d = Number(rest.slice(2, 4));
  const h = Number(rest.slice(4, 6));
  const mi = Number(rest.slice(6, 8));
  const se = Number(rest.slice(8, 10));
  const frac = rest.length > 10 ? Number("0" + rest.slice(10)) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) throw new DerError("time out of range");
  return new Date(Date.UTC(year, mo - 1, d, h, mi, se) + Math.round(frac * 1000));
}

/** Decodes a string type (UTF8String, PrintableString, IA5String, ...). */
export function decodeString(n: Der): string {
  if (n.tag === TAG.UTF8_STRING) return new TextDecoder("utf-8", { fatal: true }).decode(n.value);
  if ([TAG.PRINTABLE_STRING, TAG.IA5_STRING, 0x14, 0x1a].includes(n.tag as 0x13)) return latin1(n.value);
  if (n.tag === 0x1e) {
    // BMPString: UTF-16BE
    let s = "";
    for (let i = 0; i + 1 < n.value.length; i += 2) s += String.fromCharCode((n.value[i] << 8) | n.value[i + 1]);
    return s;
  }
  throw new DerError(`unsupported string tag 0x${n.tag.toString(16)}`);
}

// --- a minimal writer, for the few values a verifier must re-encode (Fabric's ASN.1 block header) -------

export function encodeLength(len: number): number[] {
  if (len < 0x80) return [len];
  const out: number[] = [];
  while (len > 0) {
    out.unshift(len & 0xff);
    len = Math.floor(len / 256);
  }
  return [0x80 | out.length, ...out];
}

export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  const head = [tag, ...encodeLength(value.length)];
  const out = new Uint8Array(head.length + value.length);
  out.set(head, 0);
  out.set(value, head.length);
  return out;
}

/** INTEGER of a non-negative magnitude given as big-endian bytes (minimal two's complement). */
export function encodeUnsigned(mag: Uint8Array): Uint8Array {
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  let m = mag.subarray(i);
  if (m.length === 0) m = Uint8Array.of(0);
  if (m[0] & 0x80) m = Uint8Array.from([0, ...m]);
  return encodeTlv(TAG.INTEGER, m);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
