// A minimal protobuf wire reader and decoders for exactly the Fabric messages a receipt carries (field numbers
// from proto/). Fabric signs the bytes it stored, so decoders keep the original sub-message bytes: a verifier
// must check signatures over those, never over a re-encoding.

export class ProtoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtoError";
  }
}

export type Field = { num: number; wire: 0; varint: bigint } | { num: number; wire: 2; bytes: Uint8Array } | { num: number; wire: 1 | 5; bytes: Uint8Array };

const MAX_FIELDS = 10_000;

function readVarint(b: Uint8Array, p: number): { v: bigint; next: number } {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (p + i >= b.length) throw new ProtoError("truncated varint");
    const byte = b[p + i];
    v |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { v: v & 0xffffffffffffffffn, next: p + i + 1 };
  }
  throw new ProtoError("varint too long");
}

/** Splits a message into its fields; groups (wire types 3/4) are refused. */
export function readFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  while (p < b.length) {
    const { v: key, next } = readVarint(b, p);
    p = next;
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (num < 1 || num > 536870911) throw new ProtoError("bad field number");
    if (wire === 0) {
      const r = readVarint(b, p);
      out.push({ num, wire: 0, varint: r.v });
      p = r.next;
    } else if (wire === 2) {
      const r = readVarint(b, p);
      if (r.v > BigInt(b.length - r.next)) throw new ProtoError("length-delimited field runs past the end");
      const len = Number(r.v);
      out.push({ num, wire: 2, bytes: b.subarray(r.next, r.next + len) });
      p = r.next + len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      if (p + len > b.length) throw new ProtoError("fixed field runs past the end");
      out.push({ num, wire, bytes: b.subarray(p, p + len) });
      p += len;
    } else {
      throw new ProtoError(`unsupported wire type ${wire}`);
    }
    if (out.length > MAX_FIELDS) throw new ProtoError("too many fields");
  }
  return out;
}

class Msg {
  constructor(private readonly fields: Field[], private readonly name: string) {}
  /** The last occurrence wins for a singular field, as protobuf specifies. */
  private last(num: number): Field | undefined {
    for (let i = this.fields.length - 1; i >= 0; i--) if (this.fields[i].num === num) return this.fields[i];
    return undefined;
  }
  bytes(num: number): Uint8Array {
    const f = this.last(num);
    if (!f) return new Uint8Array(0);
    if (f.wire !== 2) throw new ProtoError(`${this.name}.${num}: expected bytes`);
    return f.bytes;
  }
  repeatedBytes(num: number): Uint8Array[] {
    return this.fields.filter((f) => f.num === num).map((f) => {
      if (f.wire !== 2) throw new ProtoError(`${this.name}.${num}: expected bytes`);
      return f.bytes;
    });
  }
  string(num: number): string {
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes(num));
  }
  uint(num: number): bigint {
    const f = this.last(num);
    if (!f) return 0n;
    if (f.wire !== 0) throw new ProtoError(`${this.name}.${num}: expected varint`);
    return f.varint;
  }
  int32(num: number): number {
    return Number(BigInt.asIntN(32, this.uint(num)));
  }
  has(num: number): boolean {
    return this.last(num) !== undefined;
  }
}

const msg = (b: Uint8Array, name: string) => new Msg(readFields(b), name);

export interface Timestamp {
  seconds: bigint;
  nanos: number;
}
export function decodeTimestamp(b: Uint8Array): Timestamp {
  const m = msg(b, "Timestamp");
  return { seconds: BigInt.asIntN(64, m.uint(1)), nanos: m.int32(2) };
}
/** RFC 3339 with milliseconds and Z, as the contract writes ledger times. */
export function timestampToRfc3339(t: Timestamp): string {
  const ms = Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
  return new Date(ms).toISOString();
}

export interface Envelope {
  payload: Uint8Array;
  signature: Uint8Array;
}
export function decodeEnvelope(b: Uint8Array): Envelope {
  const m = msg(b, "Envelope");
  return { payload: m.bytes(1), signature: m.bytes(2) };
}

export interface Payload {
  header: Header;
  data: Uint8Array;
}
export interface Header {
  channelHeader: Uint8Array;
  signatureHeader: Uint8Array;
}
export function decodePayload(b: Uint8Array): Payload {
  const m = msg(b, "Payload");
  const h = msg(m.bytes(1), "Header");
  return { header: { channelHeader: h.bytes(1), signatureHeader: h.bytes(2) }, data: m.bytes(2) };
}

export interface ChannelHeader {
  type: number;
  version: number;
  timestamp: Timestamp | null;
  channelId: string;
  txId: string;
  epoch: bigint;
}
export function decodeChannelHeader(b: Uint8Array): ChannelHeader {
  const m = msg(b, "ChannelHeader");
  return {
    type: m.int32(1), version: m.int32(2), timestamp: m.has(3) ? decodeTimestamp(m.bytes(3)) : null,
    channelId: m.string(4), txId: m.string(5), epoch: m.uint(6),
  };
}

export interface SignatureHeader {
  creator: Uint8Array;
  nonce: Uint8Array;
}
export function decodeSignatureHeader(b: Uint8Array): SignatureHeader {
  const m = msg(b, "SignatureHeader");
  return { creator: m.bytes(1), nonce: m.bytes(2) };
}

export interface SerializedIdentity {
  mspId: string;
  /** PEM certificate text. */
  idBytes: Uint8Array;
}
export function decodeSerializedIdentity(b: Uint8Array): SerializedIdentity {
  const m = msg(b, "SerializedIdentity");
  return { mspId: m.string(1), idBytes: m.bytes(2) };
}

export interface TransactionAction {
  header: Uint8Array;
  payload: Uint8Array;
}
export function decodeTransaction(b: Uint8Array): TransactionAction[] {
  return msg(b, "Transaction").repeatedBytes(1).map((a) => {
    const m = msg(a, "TransactionAction");
    return { header: m.bytes(1), payload: m.bytes(2) };
  });
}

export interface Endorsement {
  endorser: Uint8Array;
  signature: Uint8Array;
}
export interface ChaincodeActionPayload {
  chaincodeProposalPayload: Uint8Array;
  proposalResponsePayload: Uint8Array;
  endorsements: Endorsement[];
}
export function decodeChaincodeActionPayload(b: Uint8Array): ChaincodeActionPayload {
  const m = msg(b, "ChaincodeActionPayload");
  const a = msg(m.bytes(2), "ChaincodeEndorsedAction");
  return {
    chaincodeProposalPayload: m.bytes(1),
    proposalResponsePayload: a.bytes(1),
    endorsements: a.repeatedBytes(2).map((e) => {
      const em = msg(e, "Endorsement");
      return { endorser: em.bytes(1), signature: em.bytes(2) };
    }),
  };
}

export interface ProposalResponsePayload {
  proposalHash: Uint8Array;
  extension: Uint8Array;
}
export function decodeProposalResponsePayload(b: Uint8Array): ProposalResponsePayload {
  const m = msg(b, "ProposalResponsePayload");
  return { proposalHash: m.bytes(1), extension: m.bytes(2) };
}

export interface ChaincodeAction {
  results: Uint8Array;
  events: Uint8Array;
  responseStatus: number;
  /** ChaincodeID.name */
  chaincodeName: string;
}
export function decodeChaincodeAction(b: Uint8Array): ChaincodeAction {
  const m = msg(b, "ChaincodeAction");
  const resp = msg(m.bytes(3), "Response");
  return { results: m.bytes(1), events: m.bytes(2), responseStatus: resp.int32(1), chaincodeName: msg(m.bytes(4), "ChaincodeID").string(2) };
}

export interface ChaincodeEvent {
  chaincodeId: string;
  txId: string;
  eventName: string;
  payload: Uint8Array;
}
export function decodeChaincodeEvent(b: Uint8Array): ChaincodeEvent {
  const m = msg(b, "ChaincodeEvent");
  return { chaincodeId: m.string(1), txId: m.string(2), eventName: m.string(3), payload: m.bytes(4) };
}

export interface BlockHeader {
  number: bigint;
  previousHash: Uint8Array;
  dataHash: Uint8Array;
}
export function decodeBlockHeader(b: Uint8Array): BlockHeader {
  const m = msg(b, "BlockHeader");
  return { number: m.uint(1), previousHash: m.bytes(2), dataHash: m.bytes(3) };
}

export interface MetadataSignature {
  signatureHeader: Uint8Array;
  signature: Uint8Array;
  identifierHeader: Uint8Array;
}
export function decodeMetadataSignature(b: Uint8Array): MetadataSignature {
  const m = msg(b, "MetadataSignature");
  return { signatureHeader: m.bytes(1), signature: m.bytes(2), identifierHeader: m.bytes(3) };
}
