#!/usr/bin/env node
// Regenerates the TEST-ONLY receipt fixtures in src/lib/receipt/testdata/: an organisation CA (EC P-256) with a
// client, a peer and (under a second CA) an orderer certificate; an RSA TSA root and signer; a receipt for one
// report built exactly as docs/RECEIPTS.md describes (Fabric envelope, block header signature, RFC 9162 log,
// C2SP checkpoint and cosignature), time-stamped by `openssl ts`; the matching trust bundle and document.
// Every key here is a throw-away test key. Run: node scripts/make-receipt-fixtures.mjs (needs openssl 3).
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "..", "src", "lib", "receipt", "testdata");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ml-fixtures-"));
const ossl = (...args) => execFileSync("openssl", args, { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
const file = (n) => path.join(tmp, n);
const read = (n) => fs.readFileSync(file(n));

// --- certificates --------------------------------------------------------------------------------------------
fs.writeFileSync(file("leaf.ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
fs.writeFileSync(file("tsa.ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
const caExt = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
const rsa = ["-newkey", "rsa:2048", "-nodes"];
function ca(name, subj, keyArgs) {
  ossl("req", "-x509", ...keyArgs, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "7300", "-subj", subj, "-sha256", ...caExt);
}
function leaf(name, subj, caName, keyArgs, ext = "leaf.ext") {
  ossl("req", "-new", ...keyArgs, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj);
  ossl("x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`, "-CAcreateserial",
    "-out", `${name}.pem`, "-days", "3650", "-sha256", "-extfile", ext);
}
ca("org-root", "/C=GB/O=Org1/CN=ca.org1.example.com", ec);
leaf("creator", "/C=GB/O=Org1/OU=client/CN=Dr Gregory House", "org-root", ec);
leaf("peer", "/C=GB/O=Org1/OU=peer/CN=peer0.org1.example.com", "org-root", ec);
ca("orderer-root", "/C=GB/O=OrdererOrg/CN=ca.orderer.example.com", ec);
leaf("orderer", "/C=GB/O=OrdererOrg/OU=orderer/CN=orderer.example.com", "orderer-root", ec);
// A certificate "issued" by a non-CA (the creator): a chain through it must be refused.
leaf("rogue", "/C=GB/O=Org1/CN=rogue", "creator", ec);
ca("tsa-root", "/C=GB/O=Test TSA/CN=Test TSA Root", rsa);
leaf("tsa", "/C=GB/O=Test TSA/CN=Test TSA Signer", "tsa-root", rsa, "tsa.ext");

const pem = (n) => read(`${n}.pem`).toString();
const key = (n) => crypto.createPrivateKey(read(`${n}.key`));

// --- small encoders ------------------------------------------------------------------------------------------
function varint(n) {
  const o = [];
  let x = BigInt(n);
  while (x >= 0x80n) {
    o.push(Number((x & 0x7fn) | 0x80n));
    x >>= 7n;
  }
  o.push(Number(x));
  return o;
}
// Fields in field-number order, proto3 defaults omitted: what Go's deterministic marshalling produces.
function pb(fields) {
  const parts = [];
  for (const [num, v] of fields) {
    if (v === undefined || v === null) continue;
    if (typeof v === "number" || typeof v === "bigint") {
      if (BigInt(v) === 0n) continue;
      parts.push(Buffer.from([...varint((num << 3) | 0), ...varint(v)]));
    } else {
      const b = typeof v === "string" ? Buffer.from(v) : Buffer.from(v);
      if (b.length === 0) continue;
      parts.push(Buffer.from([...varint((num << 3) | 2), ...varint(b.length)]), b);
    }
  }
  return Buffer.concat(parts);
}
function derLen(n) {
  if (n < 0x80) return Buffer.from([n]);
  const b = [];
  while (n > 0) {
    b.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | b.length, ...b]);
}
const tlv = (tag, v) => Buffer.concat([Buffer.from([tag]), derLen(v.length), v]);
function derUint(buf) {
  let b = Buffer.from(buf);
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function uintBytes(n) {
  const b = [];
  let x = BigInt(n);
  do {
    b.unshift(Number(x & 0xffn));
    x >>= 8n;
  } while (x > 0n);
  return Buffer.from(b);
}
const N = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
// ECDSA P-256 / SHA-256, DER, with S forced low as Fabric requires.
function ecSign(k, data) {
  const raw = crypto.sign("sha256", data, { key: k, dsaEncoding: "ieee-p1363" });
  const r = BigInt("0x" + raw.subarray(0, 32).toString("hex"));
  let s = BigInt("0x" + raw.subarray(32).toString("hex"));
  if (s > N / 2n) s = N - s;
  const big = (x) => Buffer.from(x.toString(16).padStart(64, "0"), "hex");
  return tlv(0x30, Buffer.concat([derUint(big(r)), derUint(big(s))]));
}
const sha256 = (...b) => crypto.createHash("sha256").update(Buffer.concat(b.map((x) => Buffer.from(x)))).digest();

// --- the ledger transaction ----------------------------------------------------------------------------------
const ident = (msp, p) => pb([[1, msp], [2, p]]);
const creatorId = ident("Org1MSP", pem("creator"));
const nonce = crypto.randomBytes(24);
const txId = sha256(nonce, creatorId).toString("hex");
const nowMs = Math.floor(Date.now() / 1000) * 1000 + 123;
const ledgerTime = new Date(nowMs).toISOString();
const document = Buffer.from('{"title":"Chest X-ray","diagnosis":"No acute findings","content":"TEST FIXTURE ONLY"}');
const ciphertext = crypto.randomBytes(1000);
const contentHash = sha256(document).toString("hex");
const B32 = "abcdefghijklmnopqrstuvwxyz234567";
function base32(bytes) {
  let s = "";
  let bits = 0;
  let v = 0;
  for (const b of bytes) {
    v = (v << 8) | b;
    bits += 8;
    while (bits >= 5) {
      s += B32[(v >>> (bits - 5)) & 31];
      bits -= 5;
    }
    v &= (1 << bits) - 1;
  }
  if (bits > 0) s += B32[(v << (5 - bits)) & 31];
  return s;
}
// A single-chunk file is one raw leaf: CIDv1(raw, sha2-256).
const cid = "b" + base32(Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), sha256(ciphertext)]));
const patient = sha256("patient-42").toString("hex");
const reportId = "r-fixture-1";
const blockNumber = 7;

const sigHeader = pb([[1, creatorId], [2, nonce]]);
const timestamp = pb([[1, Math.floor(nowMs / 1000)], [2, (nowMs % 1000) * 1e6]]);
const channelHeader = pb([[1, 3], [3, timestamp], [4, "records"], [5, txId]]);
const proposalPayload = Buffer.from("proposal-input");
const event = JSON.stringify({ cid, patientRef: patient, reportId, txId, version: 1 });
const chaincodeEvent = pb([[1, "medledger"], [2, txId], [3, "ReportCreated"], [4, event]]);
const chaincodeAction = pb([[1, crypto.randomBytes(40)], [2, chaincodeEvent], [3, pb([[1, 200]])], [4, pb([[2, "medledger"]])]]);
// The endorsement binds the proposal: SHA-256(channel header || signature header || chaincode proposal payload).
const prp = pb([[1, sha256(channelHeader, sigHeader, proposalPayload)], [2, chaincodeAction]]);
const peerId = ident("Org1MSP", pem("peer"));
// A correctly signed envelope; the variants below are correctly signed too, but wrong in one respect only.
function buildEnvelope({ prpBytes = prp, endorserKey = key("peer"), endorserId = peerId } = {}) {
  const endorsement = pb([[1, endorserId], [2, ecSign(endorserKey, Buffer.concat([prpBytes, endorserId]))]]);
  const cap = pb([[1, proposalPayload], [2, pb([[1, prpBytes], [2, endorsement]])]]);
  const tx = pb([[1, pb([[1, sigHeader], [2, cap]])]]);
  const payload = pb([[1, pb([[1, channelHeader], [2, sigHeader]])], [2, tx]]);
  return pb([[1, payload], [2, ecSign(key("creator"), payload)]]);
}
const envelope = buildEnvelope();
const variants = {
  // endorsed by a client certificate (no peer OU)
  "endorsed-by-client": buildEnvelope({ endorserKey: key("creator"), endorserId: creatorId }),
  // endorsements for another proposal (proposal hash of other input)
  "other-proposal": buildEnvelope({ prpBytes: pb([[1, sha256("another proposal")], [2, chaincodeAction]]) }),
};

// --- the block header and its orderer signature --------------------------------------------------------------
const prevHash = crypto.randomBytes(32);
const dataHash = crypto.randomBytes(32);
const blockHeader = pb([[1, blockNumber], [2, prevHash], [3, dataHash]]);
const headerAsn1 = tlv(0x30, Buffer.concat([derUint(uintBytes(blockNumber)), tlv(0x04, prevHash), tlv(0x04, dataHash)]));
const mdValue = pb([[1, pb([[1, 3]])]]);
const ordererSigHeader = pb([[1, ident("OrdererMSP", pem("orderer"))], [2, crypto.randomBytes(24)]]);
const blockSignature = pb([[1, ordererSigHeader], [2, ecSign(key("orderer"), Buffer.concat([mdValue, ordererSigHeader, headerAsn1]))]]);

// --- the log -------------------------------------------------------------------------------------------------
function canonical(o) {
  return "{" + Object.keys(o).sort().map((k) => JSON.stringify(k) + ":" + (typeof o[k] === "number" ? String(o[k]) : JSON.stringify(o[k]))).join(",") + "}";
}
const fields = { blockNumber, cid, contentHash, format: "medledger-leaf/1", kind: "created", ledgerTime, patient, reportId, txId, version: 1 };
const leafBytes = Buffer.from(canonical(fields));
const others = [0, 1, 2, 3, 5, 6].map((i) => Buffer.from(canonical({ ...fields, reportId: `r-other-${i}`, txId: sha256(`o${i}`).toString("hex") })));
const leaves = [...others.slice(0, 4), leafBytes, ...others.slice(4)];
const index = 4;
const leafHash = (b) => sha256(Buffer.from([0]), b);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
function mth(ls) {
  if (ls.length === 1) return leafHash(ls[0]);
  let k = 1;
  while (k * 2 < ls.length) k *= 2;
  return nodeHash(mth(ls.slice(0, k)), mth(ls.slice(k)));
}
function path_(m, ls) {
  if (ls.length <= 1) return [];
  let k = 1;
  while (k * 2 < ls.length) k *= 2;
  return m < k ? [...path_(m, ls.slice(0, k)), mth(ls.slice(k))] : [...path_(m - k, ls.slice(k)), mth(ls.slice(0, k))];
}
const root = mth(leaves);
const proof = path_(index, leaves);
const origin = "medledger/Org1MSP/reports";
const body = `${origin}\n${leaves.length}\n${root.toString("base64")}\n`;
function noteKey(name, alg) {
  const k = crypto.generateKeyPair ? crypto.generateKeyPairSync("ed25519") : null;
  const pub = k.publicKey.export({ format: "der", type: "spki" }).subarray(12);
  const id = sha256(Buffer.from(name + "\n"), Buffer.from([alg]), pub).subarray(0, 4);
  return { name, priv: k.privateKey, pub, id, vkey: `${name}+${id.toString("hex")}+${Buffer.concat([Buffer.from([alg]), pub]).toString("base64")}` };
}
const logKey = noteKey(origin, 1);
const logSig = crypto.sign(null, Buffer.from(body), logKey.priv);
const checkpoint = `${body}\n— ${origin} ${Buffer.concat([logKey.id, logSig]).toString("base64")}\n`;
const witness = noteKey("witness.example/w1", 4);
const cosTime = Math.floor(nowMs / 1000) + 2;
const cosMsg = `cosignature/v1\ntime ${cosTime}\n${body}`;
const t8 = Buffer.alloc(8);
t8.writeBigUInt64BE(BigInt(cosTime));
const cosignature = `— ${witness.name} ${Buffer.concat([witness.id, t8, crypto.sign(null, Buffer.from(cosMsg), witness.priv)]).toString("base64")}`;

// An earlier checkpoint of the same log (size 4), the RFC 9162 consistency proof 4 -> 7, and a forked size-4
// checkpoint (another tree) for the auditor screen's tests.
function subproof(m, d, b) {
  if (m === d.length) return b ? [] : [mth(d)];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}
const signCheckpoint = (b) => `${b}\n— ${origin} ${Buffer.concat([logKey.id, crypto.sign(null, Buffer.from(b), logKey.priv)]).toString("base64")}\n`;
const earlier = signCheckpoint(`${origin}\n4\n${mth(leaves.slice(0, 4)).toString("base64")}\n`);
const forked = signCheckpoint(`${origin}\n4\n${mth([...leaves.slice(0, 3), Buffer.from("forged")]).toString("base64")}\n`);
const consistency = { from: 4, to: leaves.length, proof: subproof(4, leaves, true).map((b) => b.toString("base64")) };

// --- the time-stamp token ------------------------------------------------------------------------------------
fs.writeFileSync(file("checkpoint.txt"), checkpoint);
fs.writeFileSync(file("tsa.cnf"), `[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = ${tmp}
serial = ${tmp}/tsaserial
signer_cert = ${tmp}/tsa.pem
signer_key = ${tmp}/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`);
fs.writeFileSync(file("tsaserial"), "01\n");
ossl("ts", "-query", "-data", "checkpoint.txt", "-sha256", "-cert", "-no_nonce", "-out", "q.tsq");
ossl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq", "-token_out", "-out", "token.der");
// The reference check: openssl itself must accept the token.
ossl("ts", "-verify", "-data", "checkpoint.txt", "-in", "token.der", "-token_in", "-CAfile", "tsa-root.pem", "-untrusted", "tsa.pem");
const token = read("token.der");

const b64 = (b) => Buffer.from(b).toString("base64");
const receipt = {
  format: "medledger-receipt/1",
  leaf: { data: b64(leafBytes), index, fields },
  log: {
    origin, treeSize: leaves.length, inclusionProof: proof.map(b64), checkpoint, cosignatures: [cosignature], timestampToken: b64(token),
  },
  ledger: {
    channel: "records", txId, blockNumber, envelope: b64(envelope), blockHeader: b64(blockHeader), blockSignature: b64(blockSignature),
    blockMetadataValue: b64(mdValue), certificates: [pem("creator"), pem("peer"), pem("orderer")],
  },
  content: { cid, contentHash },
};
const trust = {
  format: "medledger-trust/1", orgRoots: [pem("org-root"), pem("orderer-root")], logVkey: logKey.vkey, witnessVkeys: [witness.vkey],
  tsaRoots: [pem("tsa-root")], minWitnesses: 1,
};
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "receipt.json"), JSON.stringify(receipt, null, 2) + "\n");
fs.writeFileSync(path.join(out, "variants.json"), JSON.stringify(Object.fromEntries(Object.entries(variants).map(([k, v]) => [k, b64(v)])), null, 2) + "\n");
fs.writeFileSync(path.join(out, "trust.json"), JSON.stringify(trust, null, 2) + "\n");
fs.writeFileSync(path.join(out, "document.json"), document);
fs.writeFileSync(path.join(out, "ciphertext.bin"), ciphertext);
for (const n of ["org-root", "creator", "peer", "orderer-root", "orderer", "rogue", "tsa-root", "tsa"]) fs.copyFileSync(file(`${n}.pem`), path.join(out, `${n}.pem`));
fs.writeFileSync(path.join(out, "checkpoint.txt"), checkpoint);
const logStatus = { checkpoint, cosignatures: [cosignature], timestampToken: b64(token), anchorTxId: sha256("anchor").toString("hex"), treeSize: leaves.length };
fs.writeFileSync(path.join(out, "log.json"), JSON.stringify({ status: logStatus, earlier, forked, consistency }, null, 2) + "\n");
fs.writeFileSync(path.join(out, "token.tsr"), token);
fs.writeFileSync(path.join(out, "README.md"), "TEST-ONLY fixtures: throw-away keys and certificates, regenerated by `node scripts/make-receipt-fixtures.mjs`. Never trust them anywhere.\n");
fs.rmSync(tmp, { recursive: true });
console.log(`wrote ${out}`);
