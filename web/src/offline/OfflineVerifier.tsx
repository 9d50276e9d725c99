// The offline verifier: a person drops a receipt, the organisation's trust file and, optionally, the document
// or its encrypted copy; every check runs in this page. It imports no API client: nothing here can call a server.
import { useState, type DragEvent } from "react";
import { ReceiptChecks, Fingerprint } from "../components/ReceiptChecks";
import { verifyReceipt, type ReceiptVerification, RECEIPT_FORMAT } from "../lib/receipt/verifyReceipt";
import { parseTrust, trustFingerprint, trustFromDirectory, TRUST_DIR_FILES, TRUST_FORMAT } from "../lib/receipt/trust";

interface Dropped {
  name: string;
  bytes: Uint8Array;
}

const MAX_FILE = 64 * 1024 * 1024;

async function readFile(f: File): Promise<Dropped> {
  if (f.size > MAX_FILE) throw new Error(`${f.name} is larger than 64 MiB`);
  return { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
}

/** What a dropped file is: a receipt, a trust file, or content (by its JSON "format", never by its name). */
export function classify(bytes: Uint8Array): "receipt" | "trust" | "content" {
  if (bytes.length > 4 * 1024 * 1024) return "content";
  try {
    const o = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (o?.format === RECEIPT_FORMAT) return "receipt";
    if (o?.format === TRUST_FORMAT) return "trust";
  } catch {
    /* not JSON: content */
  }
  return "content";
}

function FilePick({ label, file, onPick, accept }: { label: string; file: Dropped | null; onPick: (f: File) => void; accept?: string }) {
  return (
    <label className="flex flex-col gap-1 text-sm">
      <span className="font-medium text-slate-800">{label}</span>
      <input type="file" accept={accept} aria-label={label} onChange={(e) => e.target.files?.[0] && onPick(e.target.files[0])} className="text-sm" />
      {file && <span className="text-xs text-slate-600">{file.name} ({file.bytes.length} bytes)</span>}
    </label>
  );
}

export function OfflineVerifier() {
  const [receipt, setReceipt] = useState<Dropped | null>(null);
  const [trust, setTrust] = useState<Dropped | null>(null);
  const [doc, setDoc] = useState<Dropped | null>(null);
  const [cipher, setCipher] = useState<Dropped | null>(null);
  const [fingerprint, setFingerprint] = useState<string>("");
  const [result, setResult] = useState<ReceiptVerification | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [ms, setMs] = useState<number | null>(null);

  const pick = (set: (d: Dropped) => void) => async (f: File) => {
    setError("");
    setResult(null);
    try {
      set(await readFile(f));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const pickTrust = async (f: File) => {
    await pick(setTrust)(f);
    try {
      const t = await parseTrust(new TextDecoder().decode(new Uint8Array(await f.arrayBuffer())));
      setFingerprint(await trustFingerprint(t.json));
    } catch (e) {
      setFingerprint("");
      setError(`The trust file cannot be used: ${(e as Error).message}`);
    }
  };
  /** The CLI's trust directory (org-root.pem, log.vkey, witnesses.vkeys, tsa-roots.pem) instead of trust.json. */
  const pickTrustDir = async (list: File[]) => {
    setError("");
    setResult(null);
    try {
      const files: Record<string, string> = {};
      for (const f of list) files[f.name] = new TextDecoder().decode((await readFile(f)).bytes);
      const json = JSON.stringify(trustFromDirectory(files));
      await pickTrust(new File([json], `trust directory (${list.length} files)`));
    } catch (e) {
      setError(`The trust directory cannot be used: ${(e as Error).message}`);
    }
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    const all = Array.from(e.dataTransfer.files);
    const dir = all.filter((f) => (TRUST_DIR_FILES as readonly string[]).includes(f.name) || f.name === "orderer-root.pem");
    if (dir.length) await pickTrustDir(dir);
    for (const f of all.filter((x) => !dir.includes(x))) {
      const d = await readFile(f).catch((err: Error) => (setError(err.message), null));
      if (!d) continue;
      const kind = classify(d.bytes);
      if (kind === "receipt") setReceipt(d);
      else if (kind === "trust") await pickTrust(f);
      else setDoc(d);
    }
    setResult(null);
  };
  const run = async () => {
    if (!receipt || !trust) return;
    setBusy(true);
    try {
      const text = (d: Dropped) => new TextDecoder().decode(d.bytes);
      const t0 = performance.now();
      const r = await verifyReceipt(text(receipt), text(trust), { document: doc?.bytes, ciphertext: cipher?.bytes });
      setMs(performance.now() - t0);
      setResult(r);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="mx-auto flex max-w-3xl flex-col gap-4 p-6">
      <header>
        <h1 className="text-2xl font-semibold text-slate-900">Check a medledger receipt</h1>
        <p className="text-sm text-slate-600">
          Everything is checked in this page, on this computer. It makes no network connection: the receipt, the hospital's published keys and the document never leave your machine.
        </p>
      </header>
      <section
        aria-label="Drop files here"
        onDragOver={(e) => e.preventDefault()}
        onDrop={onDrop}
        className="flex flex-col gap-4 rounded-lg border-2 border-dashed border-slate-300 bg-white p-4"
      >
        <p className="text-sm text-slate-700">Drop the receipt, the trust file and (optionally) the document here, or choose them:</p>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <FilePick label="Receipt (.json)" file={receipt} onPick={pick(setReceipt)} accept=".json,application/json" />
          <FilePick label="Hospital's trust file (.json)" file={trust} onPick={pickTrust} accept=".json,application/json" />
          <label className="flex flex-col gap-1 text-sm md:col-span-2">
            <span className="font-medium text-slate-800">…or the trust directory's files (org-root.pem, log.vkey, witnesses.vkeys, tsa-roots.pem)</span>
            <input type="file" multiple accept=".pem,.vkey,.vkeys" aria-label="Trust directory files"
              onChange={(e) => e.target.files?.length && void pickTrustDir(Array.from(e.target.files))} className="text-sm" />
          </label>
          <FilePick label="Document (optional)" file={doc} onPick={pick(setDoc)} />
          <FilePick label="Encrypted stored copy (optional)" file={cipher} onPick={pick(setCipher)} />
        </div>
        {fingerprint && (
          <p className="text-xs text-slate-700">
            Trust file fingerprint: <Fingerprint hex={fingerprint} /> — compare it with the one the hospital publishes.
          </p>
        )}
        <div>
          <button type="button" onClick={run} disabled={!receipt || !trust || busy} className="rounded bg-teal-700 px-4 py-2 text-white disabled:opacity-50">
            {busy ? "Checking…" : "Check the receipt"}
          </button>
        </div>
      </section>
      {error && <p role="alert" className="text-sm text-red-800">{error}</p>}
      <div aria-live="polite">{result && <ReceiptChecks result={result} />}</div>
      {result && ms !== null && <p className="text-xs text-slate-500" data-testid="verify-ms" data-ms={ms.toFixed(1)}>Checked in {Math.round(ms)} ms.</p>}
    </main>
  );
}
