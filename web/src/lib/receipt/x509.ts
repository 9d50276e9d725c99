// X.509 certificates: parsing what a verifier needs, and checking a chain leaf -> ... -> a pinned root with
// WebCrypto (ECDSA P-256/SHA-256 and RSA PKCS#1 v1.5/SHA-256, the algorithms Fabric CAs and real TSAs use).
import {
  bitStringBytes, decodeOid, decodeString, decodeTime, DerError, explicit, expectTag, octetString, parseDer, seq,
  TAG, unsignedInteger, type Der,
} from "./der";
import { bytesEqual, toHex } from "./bytes";

export const OID = {
  ecPublicKey: "1.2.840.10045.2.1",
  p256: "1.2.840.10045.3.1.7",
  rsaEncryption: "1.2.840.113549.1.1.1",
  ecdsaSha256: "1.2.840.10045.4.3.2",
  rsaSha256: "1.2.840.113549.1.1.11",
  sha256: "2.16.840.1.101.3.4.2.1",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  timeStamping: "1.3.6.1.5.5.7.3.8",
} as const;

export interface Certificate {
  der: Uint8Array;
  tbs: Uint8Array;
  serial: Uint8Array;
  /** The DER of the issuer and subject Names, compared byte for byte when chaining. */
  issuer: Uint8Array;
  subject: Uint8Array;
  subjectCN: string;
  subjectO: string;
  issuerCN: string;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  keyAlg: "ec-p256" | "rsa" | "other";
  sigAlg: string;
  signature: Uint8Array;
  isCA: boolean;
  /** Organisational units of the subject (Fabric NodeOUs: client, admin, peer, orderer). */
  subjectOUs: string[];
  /** Extended key usages, when the extension is present. */
  extKeyUsage: string[] | null;
  extKeyUsageCritical: boolean;
  /** Critical extensions this parser does not understand: RFC 5280 says such a certificate must be refused. */
  unknownCritical: string[];
}

/** Decodes one or more PEM CERTIFICATE blocks, or passes DER through. */
export function pemToDer(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(pem))) {
    const b64 = m[1].replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new DerError("PEM body is not base64");
    out.push(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  }
  return out;
}

function nameAttrs(name: Der, oid: string): string[] {
  const out: string[] = [];
  for (const rdn of seq(name, "Name")) {
    for (const atv of seq(rdn, "RDN", TAG.SET)) {
      const [type, value] = seq(atv, "AttributeTypeAndValue");
      if (decodeOid(type) === oid) out.push(decodeString(value));
    }
  }
  return out;
}
const nameAttr = (name: Der, oid: string) => nameAttrs(name, oid)[0] ?? "";

/** A signature AlgorithmIdentifier, with parameters held to what the algorithm allows (ECDSA: none; RSA: NULL). */
export function signatureAlgorithm(n: Der): string {
  const parts = seq(n, "AlgorithmIdentifier");
  const oid = decodeOid(parts[0]);
  const params = parts.slice(1);
  const nullOrAbsent = params.length === 0 || (params.length === 1 && params[0].tag === TAG.NULL && params[0].value.length === 0);
  if (oid === OID.ecdsaSha256 && params.length !== 0) throw new DerError("ECDSA algorithm must have no parameters");
  if ((oid === OID.rsaSha256 || oid === OID.rsaEncryption) && !nullOrAbsent) throw new DerError("RSA algorithm parameters must be NULL");
  return oid;
}

export function parseCertificate(input: Uint8Array | string): Certificate {
  const der = typeof input === "string" ? pemToDer(input)[0] : input;
  if (!der) throw new DerError("no certificate in the PEM text");
  const root = parseDer(der);
  const [tbsN, sigAlgN, sigN, ...extra] = seq(root, "Certificate");
  if (extra.length) throw new DerError("Certificate: extra fields");
  const tbs = seq(tbsN, "TBSCertificate");
  let i = 0;
  if (tbs[0]?.tag === 0xa0) i++; // [0] version
  const serial = expectTag(tbs[i++], TAG.INTEGER, "serial").value;
  const innerSigN = tbs[i++];
  const issuerN = expectTag(tbs[i++], TAG.SEQUENCE, "issuer");
  const validity = seq(tbs[i++], "validity");
  const subjectN = expectTag(tbs[i++], TAG.SEQUENCE, "subject");
  const spkiN = expectTag(tbs[i++], TAG.SEQUENCE, "subjectPublicKeyInfo");
  const sigAlg = signatureAlgorithm(sigAlgN);
  if (!bytesEqual(innerSigN.bytes, sigAlgN.bytes)) throw new DerError("Certificate: signature algorithms disagree");
  const [keyAlgN] = seq(spkiN, "SubjectPublicKeyInfo");
  const keyAlgParts = seq(keyAlgN, "AlgorithmIdentifier");
  const keyOid = decodeOid(keyAlgParts[0]);
  let keyAlg: Certificate["keyAlg"] = "other";
  if (keyOid === OID.ecPublicKey && keyAlgParts[1]?.tag === TAG.OID && decodeOid(keyAlgParts[1]) === OID.p256) keyAlg = "ec-p256";
  else if (keyOid === OID.rsaEncryption) keyAlg = "rsa";
  let isCA = false;
  let extKeyUsage: string[] | null = null;
  let extKeyUsageCritical = false;
  const unknownCritical: string[] = [];
  for (; i < tbs.length; i++) {
    if (tbs[i].tag !== 0xa3) continue; // [1]/[2] unique IDs are ignored
    for (const ext of seq(explicit(tbs[i], "extensions"), "Extensions")) {
      const parts = seq(ext, "Extension");
      const oid = decodeOid(parts[0]);
      const critical = parts.length === 3 && parts[1].tag === TAG.BOOLEAN && parts[1].value[0] !== 0;
      const value = octetString(parts[parts.length - 1], "extnValue");
      if (oid === OID.basicConstraints) {
        const bc = seq(parseDer(value), "BasicConstraints");
        isCA = bc[0]?.tag === TAG.BOOLEAN && bc[0].value[0] !== 0;
      } else if (oid === OID.extKeyUsage) {
        extKeyUsage = seq(parseDer(value), "ExtKeyUsage").map(decodeOid);
        extKeyUsageCritical = critical;
      } else if (critical && oid !== OID.keyUsage) {
        unknownCritical.push(oid);
      }
    }
  }
  return {
    der, tbs: tbsN.bytes, serial, issuer: issuerN.bytes, subject: subjectN.bytes,
    subjectCN: nameAttr(subjectN, OID.commonName), subjectO: nameAttr(subjectN, OID.organization), issuerCN: nameAttr(issuerN, OID.commonName),
    notBefore: decodeTime(validity[0]), notAfter: decodeTime(validity[1]), spki: spkiN.bytes, keyAlg, sigAlg,
    signature: bitStringBytes(sigN, "signatureValue"), isCA, subjectOUs: nameAttrs(subjectN, OID.organizationalUnit), extKeyUsage, extKeyUsageCritical,
    unknownCritical,
  };
}

/** ECDSA-Sig-Value (DER SEQUENCE of r, s) -> the raw r||s WebCrypto expects; `lowS` also demands s <= n/2. */
export function ecdsaDerToRaw(sig: Uint8Array, lowS = false): Uint8Array {
  const parts = seq(parseDer(sig), "ECDSA signature");
  if (parts.length !== 2) throw new DerError("ECDSA signature: expected r and s");
  const out = new Uint8Array(64);
  for (const [k, p] of parts.entries()) {
    const v = unsignedInteger(p, k ? "s" : "r");
    if (v.length > 32) throw new DerError("ECDSA signature: integer too large");
    out.set(v, k * 32 + 32 - v.length);
  }
  if (lowS && compare(out.subarray(32), P256_HALF_N) > 0) throw new DerError("ECDSA signature is not low-S");
  return out;
}

const P256_HALF_N = Uint8Array.from(
  "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8".match(/../g)!.map((h) => parseInt(h, 16)),
);

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

/** Verifies `sig` over `data` with the certificate's public key; `sigAlg` is the signature algorithm's OID. */
export async function verifyWithKey(cert: Certificate, sigAlg: string, data: Uint8Array, sig: Uint8Array, opts: { lowS?: boolean } = {}): Promise<boolean> {
  try {
    if (sigAlg === OID.ecdsaSha256 && cert.keyAlg === "ec-p256") {
      const key = await crypto.subtle.importKey("spki", buf(cert.spki), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, buf(ecdsaDerToRaw(sig, opts.lowS)), buf(data));
    }
    if ((sigAlg === OID.rsaSha256 || sigAlg === OID.rsaEncryption) && cert.keyAlg === "rsa") {
      const key = await crypto.subtle.importKey("spki", buf(cert.spki), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
      return await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, buf(sig), buf(data));
    }
  } catch {
    return false;
  }
  return false;
}

export type ChainResult = { ok: true; chain: Certificate[] } | { ok: false; reason: string };

function validAt(c: Certificate, at: Date): boolean {
  return c.notBefore.getTime() <= at.getTime() && at.getTime() <= c.notAfter.getTime();
}

/**
 * Builds and checks a path leaf -> intermediates* -> one of `roots`: each certificate's issuer Name equals its
 * parent's subject, its signature verifies with the parent's key, every parent is a CA, every certificate is
 * valid at `at`, and no certificate carries a critical extension we do not understand. A root is trusted
 * because it is pinned, so its own signature is not what makes it trusted; it must still be a CA and valid.
 */
export async function verifyChain(leaf: Certificate, intermediates: Certificate[], roots: Certificate[], at: Date, maxDepth = 5): Promise<ChainResult> {
  const chain: Certificate[] = [leaf];
  let cur = leaf;
  for (let depth = 0; depth <= maxDepth; depth++) {
    if (cur.unknownCritical.length) return { ok: false, reason: `${describe(cur)} has an unsupported critical extension (${cur.unknownCritical.join(", ")})` };
    if (!validAt(cur, at)) return { ok: false, reason: `${describe(cur)} was not valid at ${at.toISOString()} (valid ${cur.notBefore.toISOString()} to ${cur.notAfter.toISOString()})` };
    const root = roots.find((r) => bytesEqual(r.der, cur.der));
    if (root) return { ok: true, chain };
    let lastFailure = `no trusted root or intermediate issued ${describe(cur)} (issuer ${cur.issuerCN || "?"})`;
    let parent: Certificate | null = null;
    for (const cand of [...roots, ...intermediates]) {
      if (!bytesEqual(cand.subject, cur.issuer) || bytesEqual(cand.der, cur.der)) continue;
      if (!cand.isCA) {
        lastFailure = `${describe(cand)} issued ${describe(cur)} but is not a certificate authority`;
        continue;
      }
      if (!(await verifyWithKey(cand, cur.sigAlg, cur.tbs, cur.signature))) {
        lastFailure = `the signature on ${describe(cur)} does not verify with ${describe(cand)}'s key`;
        continue;
      }
      parent = cand;
      break;
    }
    if (!parent) return { ok: false, reason: lastFailure };
    if (roots.some((r) => bytesEqual(r.der, parent!.der))) {
      if (!validAt(parent, at)) return { ok: false, reason: `${describe(parent)} was not valid at ${at.toISOString()}` };
      chain.push(parent);
      return { ok: true, chain };
    }
    chain.push(parent);
    cur = parent;
  }
  return { ok: false, reason: "certificate chain too long" };
}

export function describe(c: Certificate): string {
  return c.subjectCN ? `"${c.subjectCN}"` : `certificate ${toHex(c.serial)}`;
}
