// CIDv1 of a byte string exactly as `ipfs add --cid-version=1` computes it:
// 256 KiB fixed-size chunks, raw leaves (codec 0x55), a balanced DAG of dag-pb (0x70) nodes holding
// UnixFS File data with at most 174 links each, SHA-256 multihashes, base32 multibase ("b...").
// Written from the specifications (multiformats, dag-pb, UnixFS): no IPFS library at run time.

export const CHUNK_SIZE = 256 * 1024;
export const MAX_LINKS = 174;
const CODEC_RAW = 0x55;
const CODEC_DAG_PB = 0x70;
const MH_SHA2_256 = 0x12;

export type Sha256 = (data: Uint8Array) => Promise<Uint8Array>;

export const webCryptoSha256: Sha256 = async (data) => {
  const digest = await crypto.subtle.digest("SHA-256", data as BufferSource);
  return new Uint8Array(digest);
};

export function varint(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError("varint out of range");
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

const B32 = "abcdefghijklmnopqrstuvwxyz234567";

/** RFC 4648 base32, lower case, no padding (multibase "b" without the prefix). */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Binary CIDv1: version, codec, multihash(sha2-256, 32 bytes, digest). */
export function cidV1Bytes(codec: number, digest: Uint8Array): Uint8Array {
  return Uint8Array.from([0x01, ...varint(codec), MH_SHA2_256, 0x20, ...digest]);
}

export function cidToString(cid: Uint8Array): string {
  return "b" + base32(cid);
}

class Writer {
  private parts: number[] = [];
  bytes(field: number, data: Uint8Array) {
    this.parts.push(...varint((field << 3) | 2), ...varint(data.length));
    for (const b of data) this.parts.push(b);
  }
  uint(field: number, n: number) {
    this.parts.push(...varint(field << 3), ...varint(n));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** UnixFS Data message of an internal File node: Type=File, filesize, blocksizes (proto2, not packed). */
export function unixfsFileData(fileSize: number, blockSizes: number[]): Uint8Array {
  const w = new Writer();
  w.uint(1, 2); // Type = File
  w.uint(3, fileSize);
  for (const s of blockSizes) w.uint(4, s);
  return w.finish();
}

export interface DagLink {
  cid: Uint8Array;
  tsize: number; // cumulative size of the linked block and everything below it
}

/** dag-pb PBNode: Links (field 2) first on the wire, then Data (field 1). Link: Hash, Name "", Tsize. */
export function encodeDagPbNode(links: DagLink[], data: Uint8Array): Uint8Array {
  const w = new Writer();
  for (const l of links) {
    const lw = new Writer();
    lw.bytes(1, l.cid);
    lw.bytes(2, new Uint8Array(0));
    lw.uint(3, l.tsize);
    w.bytes(2, lw.finish());
  }
  w.bytes(1, data);
  return w.finish();
}

interface Node {
  cid: Uint8Array;
  fileSize: number; // bytes of file content below this node
  tsize: number; // cumulative encoded size
}

/** Computes the CIDv1 (base32 string) of `data`. `onProgress` gets the fraction of leaves hashed. */
export async function computeCid(
  data: Uint8Array,
  sha256: Sha256 = webCryptoSha256,
  onProgress?: (fraction: number) => void,
): Promise<string> {
  const leaves: Node[] = [];
  const count = Math.max(1, Math.ceil(data.length / CHUNK_SIZE));
  for (let i = 0; i < count; i++) {
    const chunk = data.subarray(i * CHUNK_SIZE, Math.min(data.length, (i + 1) * CHUNK_SIZE));
    const digest = await sha256(chunk);
    leaves.push({ cid: cidV1Bytes(CODEC_RAW, digest), fileSize: chunk.length, tsize: chunk.length });
    onProgress?.((i + 1) / count);
  }
  // A balanced layout fills each subtree completely, left to right, so grouping bottom-up in runs of
  // MAX_LINKS (wrapping a lone trailing node too) yields exactly the same tree.
  let level = leaves;
  while (level.length > 1) {
    const next: Node[] = [];
    for (let i = 0; i < level.length; i += MAX_LINKS) {
      const group = level.slice(i, i + MAX_LINKS);
      const fileSize = group.reduce((s, n) => s + n.fileSize, 0);
      const block = encodeDagPbNode(
        group.map((n) => ({ cid: n.cid, tsize: n.tsize })),
        unixfsFileData(
          fileSize,
          group.map((n) => n.fileSize),
        ),
      );
      const digest = await sha256(block);
      next.push({
        cid: cidV1Bytes(CODEC_DAG_PB, digest),
        fileSize,
        tsize: block.length + group.reduce((s, n) => s + n.tsize, 0),
      });
    }
    level = next;
  }
  return cidToString(level[0].cid);
}

export async function sha256Hex(data: Uint8Array, sha256: Sha256 = webCryptoSha256): Promise<string> {
  return toHex(await sha256(data));
}
