// RFC 3161 time-stamp tokens (a CMS SignedData over TSTInfo, RFC 5652): checks the message imprint, the signed
// attributes' message digest, the signature by the TSA certificate carried in the token, and that certificate's
// chain to a pinned TSA root. Returns the TSA's genTime: the independent time of the checkpoint.
import {
  children, decodeOid, decodeTime, DerError, explicit, expectTag, octetString, parseDer, seq, smallInteger, TAG, type Der,
} from "./der";
import { bytesEqual, sha256 } from "./bytes";
import { describe as describeCert, OID, parseCertificate, signatureAlgorithm, verifyChain, verifyWithKey, type Certificate } from "./x509";

const OID_SIGNED_DATA = "1.2.840.113549.1.7.2";
const OID_TST_INFO = "1.2.840.113549.1.9.16.1.4";
const OID_CONTENT_TYPE = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
const OID_SIGNING_CERT = "1.2.840.113549.1.9.16.2.12";
const OID_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47";

export interface TimestampResult {
  genTime: Date;
  tsa: string;
  serial: Uint8Array;
  policy: string;
}

export class TspError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TspError";
  }
}

/** An AlgorithmIdentifier that must be SHA-256 with absent or NULL parameters. */
function sha256AlgId(n: Der): void {
  const parts = seq(n, "AlgorithmIdentifier");
  if (decodeOid(parts[0]) !== OID.sha256) throw new TspError("the token does not use SHA-256");
  if (parts.length > 2 || (parts.length === 2 && (parts[1].tag !== TAG.NULL || parts[1].value.length !== 0)))
    throw new TspError("malformed digest algorithm parameters");
}

/** Unwraps a TimeStampResp (status + token) if given one; otherwise the input is the token itself. */
function tokenContentInfo(der: Uint8Array): Der[] {
  const top = seq(parseDer(der), "TimeStampToken");
  if (top[0]?.tag === TAG.SEQUENCE) {
    // TimeStampResp: PKIStatusInfo, then the token
    const status = seq(top[0], "PKIStatusInfo");
    if (status[0]?.tag !== TAG.INTEGER || status[0].value.length !== 1 || status[0].value[0] > 1) throw new TspError("the TSA refused the request");
    if (!top[1]) throw new TspError("the TSA response carries no token");
    return seq(top[1], "TimeStampToken");
  }
  return top;
}

/**
 * Verifies `token` (DER) over `data`. Throws TspError/DerError with a plain reason when anything fails.
 */
export async function verifyTimestampToken(token: Uint8Array, data: Uint8Array, roots: Certificate[]): Promise<TimestampResult> {
  const ci = tokenContentInfo(token);
  if (decodeOid(ci[0]) !== OID_SIGNED_DATA) throw new TspError("the token is not CMS SignedData");
  const sd = seq(explicit(expectTag(ci[1], 0xa0, "content"), "SignedData"), "SignedData");
  // Nothing outside signedAttrs is signed, so every unsigned field is held to exactly what RFC 3161 allows.
  if (smallInteger(sd[0], "SignedData version") !== 3) throw new TspError("SignedData version must be 3");
  const digestAlgs = seq(sd[1], "digestAlgorithms", TAG.SET);
  if (digestAlgs.length !== 1) throw new TspError("the token must declare exactly one digest algorithm");
  sha256AlgId(digestAlgs[0]);
  let i = 2;
  const encap = seq(sd[i++], "EncapsulatedContentInfo");
  if (decodeOid(encap[0]) !== OID_TST_INFO) throw new TspError("the token does not hold a TSTInfo");
  const eContent = octetString(explicit(expectTag(encap[1], 0xa0, "eContent"), "eContent"), "eContent");
  const certs: Certificate[] = [];
  if (sd[i]?.tag === 0xa0) {
    for (const c of children(sd[i++])) if (c.tag === TAG.SEQUENCE) certs.push(parseCertificate(c.bytes));
  }
  if (sd[i]?.tag === 0xa1) i++; // crls
  const signerInfos = seq(sd[i], "SignerInfos", TAG.SET);
  if (signerInfos.length !== 1) throw new TspError("the token must have exactly one signer");

  // TSTInfo
  const tst = seq(parseDer(eContent), "TSTInfo");
  const policy = decodeOid(tst[1]);
  const imprint = seq(tst[2], "MessageImprint");
  sha256AlgId(imprint[0]);
  const expected = await sha256(data);
  if (!bytesEqual(octetString(imprint[1], "hashedMessage"), expected)) throw new TspError("the token time-stamps different data (message imprint mismatch)");
  const serial = expectTag(tst[3], TAG.INTEGER, "serialNumber").value;
  const genTime = decodeTime(expectTag(tst[4], TAG.GENERALIZED_TIME, "genTime"));

  // SignerInfo
  const si = seq(signerInfos[0], "SignerInfo");
  const sid = si[1];
  if (smallInteger(si[0], "SignerInfo version") !== (sid.tag === TAG.SEQUENCE ? 1 : 3)) throw new TspError("SignerInfo version does not match its signer identifier");
  sha256AlgId(si[2]);
  const signedAttrsN = expectTag(si[3], 0xa0, "signedAttrs");
  const sigAlg = signatureAlgorithm(si[4]);
  const signature = octetString(si[5], "signature");
  let contentType = "";
  let messageDigest: Uint8Array | null = null;
  let essCertIds: Array<{ alg: "SHA-1" | "SHA-256"; hash: Uint8Array }> | null = null;
  for (const attr of children(signedAttrsN)) {
    const [t, values] = seq(attr, "Attribute");
    const vs = seq(values, "AttributeValues", TAG.SET);
    const oid = decodeOid(t);
    if (oid === OID_CONTENT_TYPE) contentType = decodeOid(vs[0]);
    if (oid === OID_MESSAGE_DIGEST) {
      if (messageDigest) throw new TspError("the token has two message digests");
      messageDigest = octetString(vs[0], "messageDigest");
    }
    if (oid === OID_SIGNING_CERT || oid === OID_SIGNING_CERT_V2) {
      if (essCertIds) throw new TspError("the token names its signing certificate twice");
      essCertIds = seq(seq(vs[0], "SigningCertificate")[0], "certs").map((id) => {
        const f = seq(id, "ESSCertID");
        if (oid === OID_SIGNING_CERT) return { alg: "SHA-1" as const, hash: octetString(f[0], "certHash") };
        // ESSCertIDv2: hashAlgorithm DEFAULT sha256, certHash
        if (f[0].tag === TAG.SEQUENCE) {
          sha256AlgId(f[0]);
          return { alg: "SHA-256" as const, hash: octetString(f[1], "certHash") };
        }
        return { alg: "SHA-256" as const, hash: octetString(f[0], "certHash") };
      });
    }
  }
  if (contentType !== OID_TST_INFO) throw new TspError("the signed content type is not TSTInfo");
  if (!messageDigest || !bytesEqual(messageDigest, await sha256(eContent))) throw new TspError("the signed message digest does not match the TSTInfo");

  // The signer: IssuerAndSerialNumber, or [0] SubjectKeyIdentifier (then the only certificate that verifies).
  let candidates = certs;
  if (sid.tag === TAG.SEQUENCE) {
    const [issuer, sn] = seq(sid, "IssuerAndSerialNumber");
    candidates = certs.filter((c) => bytesEqual(c.issuer, issuer.bytes) && bytesEqual(c.serial, expectTag(sn, TAG.INTEGER, "serial").value));
  }
  if (candidates.length === 0) throw new TspError("the token does not carry its signer's certificate");
  // The signature covers the DER SET OF the signed attributes (tag 0x31 instead of the [0] in the SignerInfo).
  const signed = Uint8Array.from(signedAttrsN.bytes);
  signed[0] = TAG.SET;
  let signer: Certificate | null = null;
  for (const c of candidates) {
    if (await verifyWithKey(c, sigAlg === OID.rsaEncryption ? OID.rsaSha256 : sigAlg, signed, signature)) {
      signer = c;
      break;
    }
  }
  if (!signer) throw new TspError("the token's signature does not verify");
  // RFC 3161 §2.3: the TSA certificate's only extended key usage is timeStamping, and the extension is critical.
  if (!signer.extKeyUsageCritical || signer.extKeyUsage?.length !== 1 || signer.extKeyUsage[0] !== OID.timeStamping)
    throw new TspError(`${describeCert(signer)} is not a time-stamping certificate (critical timeStamping extended key usage)`);
  // RFC 3161 §2.4.1 / RFC 5816: the signed attributes name the signer certificate by hash (ESSCertID or v2).
  if (!essCertIds || essCertIds.length === 0) throw new TspError("the token does not name its signing certificate (ESSCertID)");
  const first = essCertIds[0];
  const certHash = new Uint8Array(await crypto.subtle.digest(first.alg, signer.der as Uint8Array<ArrayBuffer>));
  if (!bytesEqual(certHash, first.hash)) throw new TspError("the token's signing-certificate attribute names another certificate");
  const chain = await verifyChain(signer, certs.filter((c) => c !== signer), roots, genTime);
  if (!chain.ok) throw new TspError(`the TSA certificate does not chain to a trusted TSA root: ${chain.reason}`);
  return { genTime, tsa: signer.subjectCN || signer.subjectO || "unnamed TSA", serial, policy };
}

export { DerError };
