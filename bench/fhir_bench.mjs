// The FHIR benchmark (issue 19): one patient with N reports (default 1,000) on a running `medledger serve --demo`,
// then
//   - FHIR search latency, p50/p99: the first page and a deep page of DiagnosticReport?patient=<id>&_count=50;
//   - patient-level $export throughput in reports/s, from kick-off to the complete manifest, every exported
//     report being a recorded read on the ledger, as for any read.
// Node's fetch is the client; latencies include its per-request cost (~0.2 ms on loopback), as they would for a
// real client.
//
//   node bench/fhir_bench.mjs --base http://127.0.0.1:PORT --credentials DATA/demo-credentials.txt \
//     [--reports 1000] [--searches 300] [--exports 3] [--seed-concurrency 16]
//
// bench/run_fhir_bench.sh starts the server and runs this; docs/BENCHMARKS.md, "FHIR", has the figures.
import { readFileSync } from 'node:fs';

function args() {
  const out = { reports: 1000, searches: 300, exports: 3, seedConcurrency: 16 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in out) && key !== 'base' && key !== 'credentials') throw new Error(`unknown option ${argv[i]}`);
    out[key] = typeof out[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!out.base || !out.credentials) throw new Error('--base and --credentials are required');
  return out;
}

const opts = args();
const password = readFileSync(opts.credentials, 'utf8')
  .split('\n')
  .map((l) => l.trim().split(/\s+/))
  .find((f) => f[0] === 'dr.house')?.[2];
if (!password) throw new Error(`no dr.house in ${opts.credentials}`);

async function call(path, init = {}, token) {
  const headers = { ...(init.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const url = path.startsWith('http') ? path : opts.base + path;
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summary(name, ms) {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${name}: n=${s.length} p50=${percentile(s, 0.5).toFixed(2)}ms p99=${percentile(s, 0.99).toFixed(2)}ms ` +
    `mean=${mean.toFixed(2)}ms`;
}

const login = await call('/api/v1/auth/login', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: 'dr.house', password }),
});
if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
const token = JSON.parse(login.text).accessToken;
const patients = JSON.parse((await call('/api/v1/patients', {}, token)).text);
const patient = patients.items[0].patientId;

// ---- Seed: N reports for one patient, 1 KiB each, through the JSON API (the real contract and pipeline).
let content = 'Benchmark report. ';
while (content.length < 1024) content += 'Findings within normal limits; no acute abnormality. ';
content = content.slice(0, 1024);
const seedStart = performance.now();
let next = 0;
async function seeder() {
  while (next < opts.reports) {
    const n = next++;
    const r = await call('/api/v1/reports', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: patient, title: `Report ${n}`, diagnosis: 'None', content }),
    }, token);
    if (r.status !== 201) throw new Error(`seed report ${n}: ${r.status} ${r.text.slice(0, 200)}`);
  }
}
await Promise.all(Array.from({ length: opts.seedConcurrency }, seeder));
const seedSeconds = (performance.now() - seedStart) / 1000;
console.log(`seed: ${opts.reports} reports for one patient in ${seedSeconds.toFixed(1)} s ` +
  `(${(opts.reports / seedSeconds).toFixed(0)}/s, ${opts.seedConcurrency} in flight)`);

const fhirHeaders = { accept: 'application/fhir+json' };
async function timedSearch(url) {
  const t0 = performance.now();
  const r = await call(url, { headers: fhirHeaders }, token);
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`search ${url}: ${r.status} ${r.text.slice(0, 200)}`);
  return { ms, bundle: JSON.parse(r.text) };
}

// ---- Search: the first page, and the page reached by following `next` 19 times (reports 951-1,000).
const first = `/fhir/r4/DiagnosticReport?patient=${encodeURIComponent(patient)}&_count=50`;
let deep = first;
let pages = 0;
for (; pages < 19; ++pages) {
  const { bundle } = await timedSearch(deep);
  const link = (bundle.link || []).find((l) => l.relation === 'next');
  if (!link) break;
  deep = link.url;
}
const firstMs = [];
const deepMs = [];
let seen = 0;
for (let i = 0; i < opts.searches; ++i) {
  const a = await timedSearch(first);
  firstMs.push(a.ms);
  seen = a.bundle.entry?.length ?? 0;
  deepMs.push((await timedSearch(deep)).ms);
}
console.log(summary(`search first page (${seen} entries)`, firstMs));
console.log(summary(`search page ${pages + 1} (via ${pages} next links)`, deepMs));

// The same first page through the JSON API, for reference: what FHIR's mapping and Bundle add.
const jsonMs = [];
for (let i = 0; i < opts.searches; ++i) {
  const t0 = performance.now();
  const r = await call(`/api/v1/patients/${encodeURIComponent(patient)}/reports?pageSize=50`, {}, token);
  jsonMs.push(performance.now() - t0);
  if (r.status !== 200) throw new Error(`JSON listing: ${r.status} ${r.text.slice(0, 200)}`);
}
console.log(summary('JSON API listing, first page (reference)', jsonMs));

// ---- $export: kick-off, poll, manifest, download; every report a recorded read.
for (let run = 1; run <= opts.exports; ++run) {
  const t0 = performance.now();
  const kick = await call(`/fhir/r4/Patient/${encodeURIComponent(patient)}/$export?_type=DiagnosticReport`, {
    headers: { accept: 'application/fhir+json', prefer: 'respond-async' },
  }, token);
  if (kick.status !== 202) throw new Error(`$export kick-off: ${kick.status} ${kick.text.slice(0, 200)}`);
  const status = kick.headers.get('content-location');
  let manifest;
  for (;;) {
    const s = await call(status, {}, token);
    if (s.status === 200) {
      manifest = JSON.parse(s.text);
      break;
    }
    if (s.status !== 202) throw new Error(`$export status: ${s.status} ${s.text.slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - t0) / 1000;
  let lines = 0;
  for (const file of manifest.output) {
    const f = await call(file.url, {}, token);
    if (f.status !== 200) throw new Error(`download ${file.url}: ${f.status}`);
    lines += f.text.split('\n').filter((l) => l.length > 0).length;
  }
  const errors = (manifest.error || []).length;
  console.log(`$export run ${run}: ${lines} DiagnosticReports in ${seconds.toFixed(2)} s = ` +
    `${(lines / seconds).toFixed(0)} reports/s (${errors} error files)`);
  if (lines < opts.reports) throw new Error(`$export returned ${lines} reports, expected ${opts.reports}`);
  await call(status, { method: 'DELETE' }, token);
}
