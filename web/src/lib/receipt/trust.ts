// The trust bundle a verifier pins: the organisation's CA roots, the log's and the witnesses' note verifier
// keys, the TSA roots, and how many witnesses a checkpoint needs. Served at GET /log/trust.json, pinned in the
// browser on first use (trust on first use), and dropped in by hand on the offline page.
import { parseVkey, type Verifier } from "./note";
import { parseCertificate, pemToDer, type Certificate } from "./x509";
import { sha256, toHex, utf8 } from "./bytes";

export const TRUST_FORMAT = "medledger-trust/1";
export const PIN_KEY = "medledger.trust.pinned";

export interface TrustBundleJson {
  format: string;
  orgRoots: string[];
  logVkey: string;
  witnessVkeys: string[];
  tsaRoots: string[];
  minWitnesses: number;
}

export interface Trust {
  json: TrustBundleJson;
  orgRoots: Certificate[];
  logKey: Verifier;
  witnesses: Verifier[];
  tsaRoots: Certificate[];
  minWitnesses: number;
}

const MAX_ENTRIES = 64;

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_ENTRIES || v.some((x) => typeof x !== "string")) throw new Error(`trust bundle: ${what} must be a list of strings`);
  return v as string[];
}

function certs(pems: string[], what: string, required: boolean): Certificate[] {
  const out: Certificate[] = [];
  for (const p of pems) for (const der of pemToDer(p)) out.push(parseCertificate(der));
  if (required && out.length === 0) throw new Error(`trust bundle: no ${what} certificate`);
  for (const c of out) if (!c.isCA) throw new Error(`trust bundle: ${what} "${c.subjectCN}" is not a CA certificate`);
  return out;
}

/** Validates a trust bundle (object or JSON text); throws a plain message on anything malformed. */
export async function parseTrust(input: unknown): Promise<Trust> {
  let o: unknown = input;
  if (typeof input === "string") {
    try {
      o = JSON.parse(input);
    } catch {
      throw new Error("the trust file is not JSON");
    }
  }
  if (!o || typeof o !== "object") throw new Error("the trust file is not a JSON object");
  const t = o as Record<string, unknown>;
  if (t.format !== TRUST_FORMAT) throw new Error(`the trust file's format is not ${TRUST_FORMAT}`);
  if (typeof t.logVkey !== "string") throw new Error("trust bundle: logVkey missing");
  const min = t.minWitnesses ?? 1;
  if (typeof min !== "number" || !Number.isSafeInteger(min) || min < 0 || min > MAX_ENTRIES) throw new Error("trust bundle: minWitnesses must be a small non-negative integer");
  const json: TrustBundleJson = {
    format: TRUST_FORMAT, orgRoots: strings(t.orgRoots, "orgRoots"), logVkey: t.logVkey, witnessVkeys: strings(t.witnessVkeys ?? [], "witnessVkeys"),
    tsaRoots: strings(t.tsaRoots ?? [], "tsaRoots"), minWitnesses: min,
  };
  const witnesses: Verifier[] = [];
  for (const w of json.witnessVkeys) witnesses.push(await parseVkey(w));
  return {
    json, orgRoots: certs(json.orgRoots, "organisation root", true), logKey: await parseVkey(json.logVkey), witnesses,
    // A server without a configured TSA publishes none: then every time-stamp check fails, by name.
    tsaRoots: certs(json.tsaRoots ?? [], "TSA root", false), minWitnesses: min,
  };
}

/** SHA-256 of the bundle in one fixed serialization, so whitespace the server adds does not change it. */
export async function trustFingerprint(json: TrustBundleJson): Promise<string> {
  const canon = JSON.stringify({
    format: json.format, orgRoots: json.orgRoots, logVkey: json.logVkey, witnessVkeys: json.witnessVkeys, tsaRoots: json.tsaRoots,
    minWitnesses: json.minWitnesses,
  });
  return toHex(await sha256(utf8(canon)));
}

/** Groups of four hex digits, for reading aloud over the phone. */
export const formatFingerprint = (hex: string) => hex.match(/.{1,4}/g)?.join(" ") ?? hex;

export type PinState =
  | { status: "pinned-now"; trust: Trust; fingerprint: string }
  | { status: "matches"; trust: Trust; fingerprint: string }
  | { status: "changed"; trust: Trust; fingerprint: string; served: Trust; servedFingerprint: string };

/**
 * Trust on first use: the first bundle the server serves is pinned in `storage`; afterwards the pinned bundle is
 * what verification uses, and a different served bundle is reported (never silently adopted).
 */
export async function pinTrust(served: unknown, storage: Pick<Storage, "getItem" | "setItem">): Promise<PinState> {
  const s = await parseTrust(served);
  const sf = await trustFingerprint(s.json);
  const stored = storage.getItem(PIN_KEY);
  if (stored) {
    try {
      const p = await parseTrust(stored);
      const pf = await trustFingerprint(p.json);
      if (pf === sf) return { status: "matches", trust: p, fingerprint: pf };
      return { status: "changed", trust: p, fingerprint: pf, served: s, servedFingerprint: sf };
    } catch {
      /* an unreadable pin is replaced below, as on first use */
    }
  }
  storage.setItem(PIN_KEY, JSON.stringify(s.json));
  return { status: "pinned-now", trust: s, fingerprint: sf };
}

/** Deliberate re-pin after the user has checked the new fingerprint out of band. */
export function repin(json: TrustBundleJson, storage: Pick<Storage, "setItem">): void {
  storage.setItem(PIN_KEY, JSON.stringify(json));
}

/** The files of the trust directory `medledger log export-trust DIR` writes (docs/RECEIPTS.md). */
export const TRUST_DIR_FILES = ["org-root.pem", "log.vkey", "witnesses.vkeys", "tsa-roots.pem"] as const;

/**
 * Builds the bundle from a trust directory's files (name -> text), for people who have the CLI's directory
 * rather than trust.json. `orderer-root.pem`, when present, adds the ordering organisation's CA.
 */
export function trustFromDirectory(files: Record<string, string>, minWitnesses = 1): TrustBundleJson {
  const missing = ["org-root.pem", "log.vkey", "tsa-roots.pem"].filter((f) => !(f in files));
  if (missing.length) throw new Error(`the trust directory lacks ${missing.join(", ")}`);
  const lines = (t: string) => t.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  return {
    format: TRUST_FORMAT,
    orgRoots: [files["org-root.pem"], ...(files["orderer-root.pem"] ? [files["orderer-root.pem"]] : [])],
    logVkey: lines(files["log.vkey"])[0] ?? "",
    witnessVkeys: lines(files["witnesses.vkeys"] ?? ""),
    tsaRoots: [files["tsa-roots.pem"]],
    minWitnesses,
  };
}
