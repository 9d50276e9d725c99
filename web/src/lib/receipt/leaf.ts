// The log leaf: canonical JSON exactly as docs/RECEIPTS.md fixes it (keys sorted by byte value, no whitespace,
// non-negative decimal integers, strings with only \" and \\ escaped, printable ASCII only).

export const LEAF_FORMAT = "medledger-leaf/1";
export const LEAF_KINDS = ["created", "amended", "accessed", "erased"] as const;
export type LeafKind = (typeof LEAF_KINDS)[number];

export interface LeafFields {
  blockNumber: number;
  cid: string;
  contentHash: string;
  format: string;
  kind: LeafKind;
  ledgerTime: string;
  patient: string;
  reportId: string;
  txId: string;
  version: number;
}

const INT_KEYS = ["blockNumber", "version"];
const STRING_KEYS = ["cid", "contentHash", "format", "kind", "ledgerTime", "patient", "reportId", "txId"];
const ALL_KEYS = [...INT_KEYS, ...STRING_KEYS].sort();
const MAX_STRING = 512;

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0); // ASCII keys: UTF-16 order is byte order

function encodeString(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error("leaf strings must be printable ASCII");
  return '"' + s.replace(/[\\"]/g, (c) => "\\" + c) + '"';
}

/** Validates the fields and returns their one canonical encoding. */
export function encodeLeaf(fields: Record<string, unknown>): string {
  if (!fields || typeof fields !== "object" || Array.isArray(fields)) throw new Error("leaf fields must be an object");
  const keys = Object.keys(fields).sort(byteOrder);
  if (keys.join(",") !== ALL_KEYS.join(",")) throw new Error(`leaf must have exactly the keys ${ALL_KEYS.join(", ")}`);
  const parts = keys.map((k) => {
    const v = fields[k];
    if (INT_KEYS.includes(k)) {
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new Error(`leaf ${k} must be a non-negative integer`);
      return `"${k}":${v}`;
    }
    if (typeof v !== "string" || v.length > MAX_STRING) throw new Error(`leaf ${k} must be a string`);
    return `"${k}":${encodeString(v)}`;
  });
  if (fields.format !== LEAF_FORMAT) throw new Error(`leaf format must be ${LEAF_FORMAT}`);
  if (!LEAF_KINDS.includes(fields.kind as LeafKind)) throw new Error(`leaf kind must be one of ${LEAF_KINDS.join(", ")}`);
  if (!/^[0-9a-f]{64}$/.test(String(fields.contentHash)) && fields.kind !== "erased") throw new Error("leaf contentHash must be 64 lower-case hex digits");
  if (!/^[0-9a-f]{64}$/.test(String(fields.txId))) throw new Error("leaf txId must be 64 lower-case hex digits");
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(String(fields.ledgerTime))) throw new Error("leaf ledgerTime must be RFC 3339 with milliseconds and Z");
  return "{" + parts.join(",") + "}";
}

/**
 * Decodes leaf bytes and checks they are the canonical encoding of themselves and of `fields` (the receipt's
 * parsed copy, which a reader sees: it must say the same as the hashed bytes).
 */
export function checkLeaf(data: Uint8Array, fields: unknown): { ok: true; leaf: LeafFields } | { ok: false; reason: string } {
  let text: string;
  let parsed: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the leaf bytes are not JSON" };
  }
  let canon: string;
  try {
    canon = encodeLeaf(parsed as Record<string, unknown>);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (canon !== text) return { ok: false, reason: "the leaf bytes are not in canonical form" };
  let shown: string;
  try {
    shown = encodeLeaf(fields as Record<string, unknown>);
  } catch (e) {
    return { ok: false, reason: `the receipt's leaf fields: ${(e as Error).message}` };
  }
  if (shown !== canon) return { ok: false, reason: "the receipt's leaf fields differ from the hashed leaf bytes" };
  return { ok: true, leaf: parsed as LeafFields };
}
