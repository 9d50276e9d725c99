// Verifies a medledger receipt offline, running the checks of docs/RECEIPTS.md ("Checks") in order. Each check
// is a named result in plain language; nothing here trusts the server, and bad input never throws: an unusable
// receipt gives one clear failed check.
import { computeCid } from "../cid";
import { bytesEqual, fromBase64, sha256, toHex, utf8 } from "./bytes";
import { concat, encodeTlv, encodeUnsigned, TAG } from "./der";
import { checkLeaf, type LeafFields } from "./leaf";
import { leafHash, verifyInclusion } from "./merkle";
import { parseCheckpoint, parseNote, verifyCosignature, verifyNoteSignature } from "./note";
import * as pb from "./protobuf";
import { parseTrust, type Trust } from "./trust";
import { verifyTimestampToken } from "./tsp";
import { OID, parseCertificate, pemToDer, verifyChain, verifyWithKey, type Certificate } from "./x509";

export const RECEIPT_FORMAT = "medledger-receipt/1";
export const RECEIPT_MEDIA_TYPE = "application/vnd.medledger.receipt+json";

export interface Check {
  id: string;
  /** Plain English for a clinician: what this check established (or failed to). */
  label: string;
  ok: boolean;
  /** The technical detail, for an auditor. */
  detail: string;
}

export interface ReceiptVerification {
  ok: boolean;
  /** False when the receipt or trust file could not be read at all (the CLI's exit code 2). */
  usable: boolean;
  checks: Check[];
  leaf?: LeafFields;
  genTime?: Date;
}

export interface VerifyOptions {
  /** The plaintext document: its SHA-256 must equal the receipt's contentHash. */
  document?: Uint8Array;
  /** The stored ciphertext: its UnixFS CID must equal the receipt's cid. */
  ciphertext?: Uint8Array;
}

interface Receipt {
  leaf: { data: string; index: number; fields: unknown };
  log: { origin: string; treeSize: number; inclusionProof: string[]; checkpoint: string; cosignatures: string[]; timestampToken: string };
  ledger: {
    channel: string; txId: string; blockNumber: number; envelope: string; blockHeader: string; blockSignature: string;
    blockMetadataValue: string; certificates: string[];
  };
  content: { cid: string; contentHash: string };
}

const MAX_LIST = 256;
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const isStr = (v: unknown, max = 1 << 20): v is string => typeof v === "string" && v.length <= max;
const isStrList = (v: unknown) => Array.isArray(v) && v.length <= MAX_LIST && v.every((x) => isStr(x));
const isIdx = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Shape check only: values are checked by the checks themselves. */
function shapeError(r: unknown): string | null {
  if (!isObj(r)) return "the file is not a JSON object";
  if (r.format !== RECEIPT_FORMAT) return `the file's format is not ${RECEIPT_FORMAT}`;
  const { leaf, log, ledger, content } = r;
  if (!isObj(leaf) || !isStr(leaf.data) || !isIdx(leaf.index) || !isObj(leaf.fields)) return "the receipt's leaf is missing or malformed";
  if (!isObj(log) || !isStr(log.origin) || !isIdx(log.treeSize) || !isStrList(log.inclusionProof) || !isStr(log.checkpoint) ||
    !isStrList(log.cosignatures ?? []) || !isStr(log.timestampToken ?? ""))
    return "the receipt's log section is missing or malformed";
  if (!isObj(ledger) || !isStr(ledger.channel) || !isStr(ledger.txId) || !isIdx(ledger.blockNumber) || !isStr(ledger.envelope) ||
    !isStr(ledger.blockHeader) || !isStr(ledger.blockSignature) || !isStr(ledger.blockMetadataValue ?? "") || !isStrList(ledger.certificates))
    return "the receipt's ledger section is missing or malformed";
  if (!isObj(content) || !isStr(content.cid) || !isStr(content.contentHash)) return "the receipt's content section is missing or malformed";
  return null;
}

const EVENT_KIND: Record<string, string> = { ReportCreated: "created", ReportAmended: "amended", ReportAccessed: "accessed", ReportErased: "erased" };
const KIND_WORD: Record<string, string> = { created: "creation", amended: "amendment", accessed: "access", erased: "erasure" };

class Ctx {
  checks: Check[] = [];
  add(id: string, label: string, ok: boolean, detail: string) {
    this.checks.push({ id, label, ok, detail });
  }
  /** Runs one check; an exception becomes a failed check with its message. */
  async run(id: string, failLabel: string, f: () => Promise<{ label: string; ok: boolean; detail: string }>) {
    try {
      const r = await f();
      this.add(id, r.label, r.ok, r.detail);
    } catch (e) {
      this.add(id, failLabel, false, e instanceof Error ? e.message : String(e));
    }
  }
}

function certOfIdentity(serialized: Uint8Array): { mspId: string; cert: Certificate } {
  const id = pb.decodeSerializedIdentity(serialized);
  const pem = new TextDecoder("utf-8", { fatal: true }).decode(id.idBytes);
  return { mspId: id.mspId, cert: parseCertificate(pem.includes("BEGIN CERTIFICATE") ? pem : id.idBytes) };
}

/** Fabric NodeOUs: the role a certificate was issued for. */
const hasOu = (c: Certificate, ous: string[]) => c.subjectOUs.some((o) => ous.includes(o));

const pass = (label: string, detail: string) => ({ label, ok: true, detail });
const fail = (label: string, detail: string) => ({ label, ok: false, detail });

/** Fabric's orderer signs the block header as ASN.1 SEQUENCE {INTEGER number, OCTET STRING prev, OCTET STRING data}. */
export function blockHeaderAsn1(h: pb.BlockHeader): Uint8Array {
  let n = h.number;
  const mag: number[] = [];
  do {
    mag.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (n > 0n);
  return encodeTlv(TAG.SEQUENCE, concat(encodeUnsigned(Uint8Array.from(mag)), encodeTlv(TAG.OCTET_STRING, h.previousHash), encodeTlv(TAG.OCTET_STRING, h.dataHash)));
}

export async function verifyReceipt(receiptInput: unknown, trustInput: unknown, opts: VerifyOptions = {}): Promise<ReceiptVerification> {
  const ctx = new Ctx();
  let receiptObj: unknown = receiptInput;
  if (typeof receiptInput === "string") {
    try {
      receiptObj = JSON.parse(receiptInput);
    } catch {
      receiptObj = null;
    }
  }
  const shape = shapeError(receiptObj);
  if (shape) {
    ctx.add("receipt", "This file is not a readable medledger receipt", false, shape);
    return { ok: false, usable: false, checks: ctx.checks };
  }
  let trust: Trust;
  try {
    trust = await parseTrust(trustInput);
  } catch (e) {
    ctx.add("trust", "The organisation's published keys could not be read", false, (e as Error).message);
    return { ok: false, usable: false, checks: ctx.checks };
  }
  const r = receiptObj as Receipt;
  const b64 = (s: string, what: string) => {
    try {
      return fromBase64(s);
    } catch {
      throw new Error(`${what} is not base64`);
    }
  };
  const intermediates: Certificate[] = [];
  for (const p of r.ledger.certificates) {
    try {
      for (const der of pemToDer(p)) intermediates.push(parseCertificate(der));
    } catch {
      /* an unreadable extra certificate cannot help a chain; chains that need it fail with a reason */
    }
  }

  // 1. The leaf.
  let leaf: LeafFields | undefined;
  let leafBytes: Uint8Array | undefined;
  await ctx.run("leaf", "The receipt's log entry is malformed", async () => {
    leafBytes = b64(r.leaf.data, "leaf.data");
    const c = checkLeaf(leafBytes, r.leaf.fields);
    if (!c.ok) return fail("The receipt's log entry is malformed", c.reason);
    leaf = c.leaf;
    if (leaf.cid !== r.content.cid || leaf.contentHash !== r.content.contentHash)
      return fail("The receipt names a different document than its log entry", "content.cid/contentHash differ from the leaf's");
    if (leaf.txId !== r.ledger.txId || leaf.blockNumber !== r.ledger.blockNumber)
      return fail("The receipt's ledger section is about another transaction", "ledger.txId/blockNumber differ from the leaf's");
    return pass(`Records the ${KIND_WORD[leaf.kind]} of report ${leaf.reportId}, version ${leaf.version}`,
      `canonical leaf: ${leaf.kind} ${leaf.reportId} v${leaf.version}, tx ${leaf.txId}, block ${leaf.blockNumber}, ledger time ${leaf.ledgerTime}`);
  });
  // Certificates are checked at the time the signed evidence states (the channel header's timestamp), so a
  // receipt stays verifiable after they expire; until the envelope is decoded, the leaf's (equal) time.
  let at = leaf ? new Date(leaf.ledgerTime) : new Date();

  // 2. The transaction envelope: creator signature, chain, header fields, the event, the endorsements.
  let prp: Uint8Array | undefined;
  let proposalHash: Uint8Array | undefined;
  let envelopeTxId = "";
  let endorsements: pb.Endorsement[] = [];
  await ctx.run("ledger.envelope", "The transaction's signature could not be checked", async () => {
    const env = pb.decodeEnvelope(b64(r.ledger.envelope, "ledger.envelope"));
    const payload = pb.decodePayload(env.payload);
    const ch = pb.decodeChannelHeader(payload.header.channelHeader);
    const sh = pb.decodeSignatureHeader(payload.header.signatureHeader);
    const actions = pb.decodeTransaction(payload.data);
    if (actions.length !== 1 || !bytesEqual(actions[0].header, payload.header.signatureHeader))
      return fail("The signed transaction has an unexpected shape", "not one endorsed action signed by the envelope's creator");
    const cap = pb.decodeChaincodeActionPayload(actions[0].payload);
    prp = cap.proposalResponsePayload;
    endorsements = cap.endorsements;
    proposalHash = await sha256(payload.header.channelHeader, payload.header.signatureHeader, cap.chaincodeProposalPayload);
    envelopeTxId = ch.txId;
    if (ch.timestamp) {
      const t = new Date(Number(ch.timestamp.seconds) * 1000 + Math.floor(ch.timestamp.nanos / 1e6));
      if (Number.isNaN(t.getTime()) || ch.timestamp.nanos < 0 || ch.timestamp.nanos > 999_999_999)
        return fail("The signed transaction's time is invalid", "the channel header's timestamp is out of range");
      at = t;
    }
    const { mspId, cert } = certOfIdentity(sh.creator);
    const who = `${cert.subjectCN || "an unnamed user"} at ${mspId}`;
    if (!(await verifyWithKey(cert, OID.ecdsaSha256, env.payload, env.signature, { lowS: true })))
      return fail(`The transaction's signature by ${who} is not valid`, "the envelope signature does not verify with the creator's certificate (ECDSA P-256, low-S)");
    const chain = await verifyChain(cert, intermediates, trust.orgRoots, at);
    if (!chain.ok) return fail(`${who} is not certified by the organisation`, chain.reason);
    if (!hasOu(cert, ["client", "admin"])) return fail(`${who} is not a user of the organisation`, "the creator certificate has no client or admin organisational unit");
    const expectTxId = toHex(await sha256(sh.nonce, sh.creator));
    if (ch.txId !== expectTxId) return fail("The transaction ID is not bound to its signer", `tx ID ${ch.txId} is not SHA-256(nonce || creator) = ${expectTxId}`);
    if (ch.txId !== r.ledger.txId) return fail("The signed transaction is another transaction", `the envelope's tx ID ${ch.txId} differs from ${r.ledger.txId}`);
    if (ch.channelId !== r.ledger.channel) return fail("The signed transaction is on another channel", `channel ${ch.channelId}, receipt says ${r.ledger.channel}`);
    if (ch.type !== 3) return fail("The signed transaction is not a contract call", `channel header type ${ch.type}`);
    const time = ch.timestamp ? pb.timestampToRfc3339(ch.timestamp) : "";
    if (leaf && time !== leaf.ledgerTime) return fail("The signed transaction's time differs from the log entry's", `envelope ${time}, leaf ${leaf.ledgerTime}`);
    return pass(`Signed by ${who}`, `ECDSA signature verifies; certificate chain ${chain.chain.map((c) => c.subjectCN).join(" → ")}; tx ${ch.txId} on ${ch.channelId} at ${time}`);
  });

  await ctx.run("ledger.event", "The signed transaction does not record this event", async () => {
    if (!prp || !leaf) throw new Error("needs a valid leaf and envelope");
    const action = pb.decodeChaincodeAction(pb.decodeProposalResponsePayload(prp).extension);
    const ev = pb.decodeChaincodeEvent(action.events);
    const kind = EVENT_KIND[ev.eventName];
    if (kind !== leaf.kind) return fail("The signed transaction records a different event", `event ${ev.eventName || "(none)"}, leaf kind ${leaf.kind}`);
    let p: Record<string, unknown>;
    try {
      p = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(ev.payload));
    } catch {
      return fail("The signed transaction's event is unreadable", "the event payload is not JSON");
    }
    const want: Record<string, unknown> = { reportId: leaf.reportId, version: leaf.version, patientRef: leaf.patient, cid: leaf.cid, txId: leaf.txId, contentHash: leaf.contentHash };
    const required = ["reportId", "version", "patientRef"];
    for (const [k, v] of Object.entries(want)) {
      if (!(k in p)) {
        if (required.includes(k)) return fail("The signed transaction's event lacks what the log entry says", `event has no ${k}`);
        continue;
      }
      if (p[k] !== v) return fail("The signed transaction records a different event", `event ${k} = ${JSON.stringify(p[k])}, leaf says ${JSON.stringify(v)}`);
    }
    if (ev.txId !== leaf.txId || ev.txId !== envelopeTxId || ev.chaincodeId !== action.chaincodeName)
      return fail("The signed transaction records a different event", "the chaincode event names another transaction or chaincode");
    return pass(`The signed transaction records this ${KIND_WORD[leaf.kind]}`, `chaincode event ${ev.eventName} from ${ev.chaincodeId}: ${Object.keys(p).filter((k) => k in want).join(", ")} match the leaf`);
  });

  await ctx.run("ledger.endorsements", "The endorsements could not be checked", async () => {
    if (!prp || !proposalHash) throw new Error("needs a valid envelope");
    if (!bytesEqual(pb.decodeProposalResponsePayload(prp).proposalHash, proposalHash))
      return fail("The endorsements were made for another proposal", "proposal hash ≠ SHA-256(channel header ‖ signature header ‖ chaincode proposal payload)");
    if (endorsements.length === 0) return fail("No peer endorsed the transaction", "the transaction carries no endorsement");
    const names: string[] = [];
    for (const e of endorsements) {
      const { mspId, cert } = certOfIdentity(e.endorser);
      const who = `${cert.subjectCN} (${mspId})`;
      if (!(await verifyWithKey(cert, OID.ecdsaSha256, concat(prp, e.endorser), e.signature, { lowS: true })))
        return fail(`The endorsement by ${who} is not valid`, "the endorsement signature over proposal response payload || endorser does not verify");
      const chain = await verifyChain(cert, intermediates, trust.orgRoots, at);
      if (!chain.ok) return fail(`The endorser ${who} is not certified by the organisation`, chain.reason);
      if (!hasOu(cert, ["peer"])) return fail(`The endorser ${who} is not a peer`, "the endorser certificate has no peer organisational unit");
      names.push(who);
    }
    return pass(`Approved by ${names.join(", ")}`, `${names.length} endorsement signature(s) verify and chain to the organisation's root`);
  });

  // 3. The block header and its orderer signature.
  await ctx.run("ledger.block", "The block's seal could not be checked", async () => {
    const h = pb.decodeBlockHeader(b64(r.ledger.blockHeader, "ledger.blockHeader"));
    if (h.number !== BigInt(r.ledger.blockNumber) || (leaf && h.number !== BigInt(leaf.blockNumber)))
      return fail("The block is not the one the log entry names", `block header number ${h.number}, receipt says ${r.ledger.blockNumber}`);
    const ms = pb.decodeMetadataSignature(b64(r.ledger.blockSignature, "ledger.blockSignature"));
    if (ms.signatureHeader.length === 0) return fail("The block's seal is in an unsupported form", "the metadata signature has no signature header (identifier headers are not supported)");
    const { mspId, cert } = certOfIdentity(pb.decodeSignatureHeader(ms.signatureHeader).creator);
    const who = `${cert.subjectCN} (${mspId})`;
    const signed = concat(b64(r.ledger.blockMetadataValue ?? "", "ledger.blockMetadataValue"), ms.signatureHeader, blockHeaderAsn1(h));
    if (!(await verifyWithKey(cert, OID.ecdsaSha256, signed, ms.signature, { lowS: true })))
      return fail(`Block ${h.number}'s seal by ${who} is not valid`, "the orderer signature over metadata value || signature header || ASN.1 header does not verify");
    const chain = await verifyChain(cert, intermediates, trust.orgRoots, at);
    if (!chain.ok) return fail(`The orderer ${who} is not certified by the organisation`, chain.reason);
    if (!hasOu(cert, ["orderer"])) return fail(`${who} is not an ordering service node`, "the block signer's certificate has no orderer organisational unit");
    return pass(`Recorded in block ${h.number}, sealed by ${who}`, `orderer signature verifies; data hash ${toHex(h.dataHash)}`);
  });

  // 4. The log: inclusion, checkpoint signature, cosignatures.
  let cpText = "";
  await ctx.run("log.inclusion", "Not shown to be in the hospital's public log", async () => {
    if (!leafBytes) throw new Error("needs the leaf bytes");
    const note = parseNote(r.log.checkpoint);
    cpText = note.text;
    const cp = parseCheckpoint(note.text);
    if (cp.origin !== r.log.origin) return fail("The checkpoint is from another log", `checkpoint origin ${cp.origin}, receipt says ${r.log.origin}`);
    if (cp.size !== r.log.treeSize) return fail("The receipt's log size differs from its checkpoint", `checkpoint size ${cp.size}, receipt says ${r.log.treeSize}`);
    const proof = r.log.inclusionProof.map((p, i) => b64(p, `inclusionProof[${i}]`));
    if (!(await verifyInclusion(r.leaf.index, cp.size, await leafHash(leafBytes), proof, cp.root)))
      return fail("Not shown to be in the hospital's public log", `the inclusion proof from leaf ${r.leaf.index} does not lead to the checkpoint's root`);
    return pass(`Included in the hospital's public log at position ${r.leaf.index + 1} of ${cp.size}`, `RFC 9162 inclusion proof (${proof.length} hashes) from leaf index ${r.leaf.index} to root ${toHex(cp.root)}`);
  });
  await ctx.run("log.checkpoint", "The log's checkpoint is not signed by the hospital's log key", async () => {
    const note = parseNote(r.log.checkpoint);
    cpText = note.text;
    if (!(await verifyNoteSignature(note, trust.logKey)))
      return fail("The log's checkpoint is not signed by the hospital's log key", `no valid Ed25519 signature by ${trust.logKey.vkey}`);
    return pass("The log's checkpoint is signed by the hospital's log key", `Ed25519 signature by ${trust.logKey.name}`);
  });
  await ctx.run("log.witnesses", "The checkpoint's witnesses could not be checked", async () => {
    if (!cpText) throw new Error("needs a readable checkpoint");
    const valid: string[] = [];
    const unknown: string[] = [];
    const invalid: string[] = [];
    for (const line of r.log.cosignatures ?? []) {
      const c = await verifyCosignature(line, cpText, trust.witnesses);
      if (c.status === "valid") {
        if (!valid.includes(c.name)) valid.push(c.name);
      } else if (c.status === "unknown") unknown.push(c.name);
      else invalid.push(`${c.name}: ${c.reason}`);
    }
    const extra = [unknown.length ? `unknown witnesses (not counted): ${unknown.join(", ")}` : "", invalid.length ? `invalid: ${invalid.join("; ")}` : ""].filter(Boolean).join("; ");
    const detail = `${valid.length} valid cosignature(s), ${trust.minWitnesses} required${extra ? "; " + extra : ""}`;
    if (invalid.length) return fail("A witness signature on the checkpoint is not valid", detail);
    if (valid.length < trust.minWitnesses) return fail(`Not enough independent witnesses (${valid.length} of ${trust.minWitnesses} required)`, detail);
    return pass(valid.length ? `Witnessed by ${valid.join(", ")}` : "No witness required by the trust settings", detail);
  });

  // 5. The time-stamp token over the checkpoint.
  let genTime: Date | undefined;
  await ctx.run("timestamp", "No valid independent time-stamp", async () => {
    if (!r.log.timestampToken) return fail("No independent time-stamp", "the receipt carries no time-stamp token");
    const t = await verifyTimestampToken(b64(r.log.timestampToken, "log.timestampToken"), utf8(r.log.checkpoint), trust.tsaRoots);
    genTime = t.genTime;
    return pass(`Time-stamped by ${t.tsa} at ${t.genTime.toISOString()}`, `RFC 3161 token over SHA-256 of the checkpoint; policy ${t.policy}; serial ${toHex(t.serial)}`);
  });

  // 6. The document and the stored ciphertext.
  if (opts.document) {
    const doc = opts.document;
    await ctx.run("document", "The document does not match", async () => {
      const h = toHex(await sha256(doc));
      const want = (leaf?.contentHash ?? r.content.contentHash).toLowerCase();
      return h === want ? pass("Document matches", `SHA-256 ${h}`) : fail("The document does not match the receipt", `SHA-256 ${h}, receipt records ${want}`);
    });
  }
  if (opts.ciphertext) {
    const c = opts.ciphertext;
    await ctx.run("ciphertext", "The stored copy does not match", async () => {
      const cid = await computeCid(c);
      const want = leaf?.cid ?? r.content.cid;
      return cid === want ? pass("Stored encrypted copy matches", `CID ${cid}`) : fail("The stored encrypted copy does not match the receipt", `CID ${cid}, receipt records ${want}`);
    });
  }
  return { ok: ctx.checks.every((c) => c.ok), usable: true, checks: ctx.checks, leaf, genTime };
}
