// Cross-hospital read latency (issue 17, docs/BENCHMARKS.md "Consortium"): the HTTP part of
// bench/run_consortium_bench.sh. Against two running hospitals' servers (A and B, each `medledger serve --ledger
// fabric --content kubo --consortium`), with the users the script created (a.admin, a.doc, a.pat, b.admin, b.doc,
// all with the one password), it sets up what tests/integration/consortium_servers_test.cpp does: a patient at A,
// REPORTS reports by A's doctor (replicated to B's content node), B's doctor published in the directory and the
// patient's consent to that doctor. Then it measures GET /api/v1/reports/{id}:
//   - local: A's own doctor on A's server (one RecordAccess commit, content from A's node, A's own key);
//   - cross: B's doctor on B's server (RecordAccess commit on B's side, key request to A over mutual TLS, A checks
//     the access on its peer and commits the release before the key leaves, HPKE, content from B's node);
// at each concurrency level (workers each with one request outstanding), READS reads per side and level, the
// reports taken round robin. Prints reads/s and p50/p99 per side and level. Any non-200 is counted and the first
// one printed: the benchmark does not hide a refusal.
//
//   node bench/consortium_read_bench.mjs --a URL --b URL --b-ipfs URL --password-file F
//        [--reports 10] [--reads 40] [--levels 1,4]
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

function parseArgs(argv) {
  const o = { reports: 10, reads: 40, levels: [1, 4] };
  for (let i = 2; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === "--a") o.a = v;
    else if (k === "--b") o.b = v;
    else if (k === "--b-ipfs") o.bIpfs = v;
    else if (k === "--password-file") o.password = readFileSync(v, "utf8").split("\n")[0];
    else if (k === "--reports") o.reports = Math.max(1, parseInt(v, 10));
    else if (k === "--reads") o.reads = Math.max(1, parseInt(v, 10));
    else if (k === "--levels") o.levels = v.split(",").map((x) => Math.max(1, parseInt(x, 10)));
    else throw new Error(`unknown option ${k}`);
  }
  if (!o.a || !o.b || !o.bIpfs || !o.password) {
    throw new Error("usage: --a URL --b URL --b-ipfs URL --password-file F [--reports N] [--reads N] [--levels 1,4]");
  }
  return o;
}

async function call(base, method, path, token, body) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, text };
}

// A set-up step that must succeed: anything else stops the benchmark with the server's answer.
async function must(status, what, promise) {
  const r = await promise;
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return r.text ? JSON.parse(r.text) : {};
}

async function login(base, username, password) {
  const j = await must(200, `login ${username}`, call(base, "POST", "/api/v1/auth/login", "", { username, password }));
  return j.accessToken;
}

async function pinnedAt(ipfs, cid) {
  // js-ipfs's RPC API takes POST only; pin/ls of a CID that is not pinned is an error (not 200).
  const r = await fetch(`${ipfs}/api/v0/pin/ls?arg=${cid}`, { method: "POST" });
  await r.text();
  return r.status === 200;
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// `workers` loops, each with one read outstanding, until `total` reads are done.
async function measure(base, token, ids, total, workers) {
  const latencies = [];
  let next = 0;
  let errors = 0;
  let firstError = "";
  const start = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const t0 = performance.now();
      const r = await call(base, "GET", `/api/v1/reports/${ids[i % ids.length]}`, token);
      const ms = performance.now() - t0;
      if (r.status === 200) {
        latencies.push(ms);
      } else {
        errors++;
        if (!firstError) firstError = `HTTP ${r.status} ${r.text.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  const secs = (performance.now() - start) / 1000;
  latencies.sort((x, y) => x - y);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
  return { ok: latencies.length, rate: latencies.length / secs, p50: pct(0.5), p99: pct(0.99), errors, firstError };
}

async function main() {
  const o = parseArgs(process.argv);
  const tok = {};
  for (const u of ["a.admin", "a.doc", "a.pat"]) tok[u] = await login(o.a, u, o.password);
  for (const u of ["b.admin", "b.doc"]) tok[u] = await login(o.b, u, o.password);

  const mrn = `BENCH-${randomBytes(4).toString("hex")}`;
  const patient = await must(
    201,
    "create patient",
    call(o.a, "POST", "/api/v1/patients", tok["a.admin"], {
      mrn,
      name: "Bench Patient",
      birthDate: "1970-01-01",
      username: "a.pat",
    }),
  );
  const pid = patient.patientId;
  const ids = [];
  const cids = [];
  for (let i = 0; i < o.reports; i++) {
    const r = await must(
      201,
      `report ${i}`,
      call(o.a, "POST", "/api/v1/reports", tok["a.doc"], {
        patientId: pid,
        title: `Cardiology ${i}`,
        diagnosis: "Atrial fibrillation",
        content: `Follow-up ${i}: rate control with bisoprolol; anticoagulation discussed (CHA2DS2-VASc 3). `.repeat(8),
      }),
    );
    ids.push(r.reportId);
    cids.push(r.cid);
  }
  // The cross-hospital reads are to come from B's own node, as in steady state: wait for replication.
  const deadline = Date.now() + 60000;
  for (const cid of cids) {
    while (!(await pinnedAt(o.bIpfs, cid))) {
      if (Date.now() > deadline) throw new Error(`B's content node never pinned ${cid}`);
      await sleep(200);
    }
  }
  await must(
    201,
    "publish b.doc in the directory",
    call(o.b, "POST", "/api/v1/directory/clinicians", tok["b.admin"], { username: "b.doc", displayName: "Dr. Bench B" }),
  );
  const expires = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  await must(
    201,
    "consent to HospitalBMSP/b.doc",
    call(o.a, "POST", `/api/v1/patients/${pid}/consents`, tok["a.pat"], {
      doctor: "HospitalBMSP/b.doc",
      purpose: "second_opinion",
      expiresAt: expires,
    }),
  );
  // One read each, unmeasured: connections, the directory and certificate caches warm.
  await must(200, "warm-up local read", call(o.a, "GET", `/api/v1/reports/${ids[0]}`, tok["a.doc"]));
  await must(200, "warm-up cross-hospital read", call(o.b, "GET", `/api/v1/reports/${ids[0]}`, tok["b.doc"]));

  console.log(`${o.reports} reports by HospitalAMSP/a.doc, ${o.reads} reads per row`);
  const fmt = (s, w) => String(s).padStart(w);
  console.log(
    `${"read".padEnd(28)}${fmt("conc", 5)}${fmt("reads", 7)}${fmt("reads/s", 9)}${fmt("p50 ms", 9)}${fmt("p99 ms", 9)}${fmt("errors", 8)}`,
  );
  for (const level of o.levels) {
    const sides = [
      ["local (A's doctor at A)", o.a, tok["a.doc"]],
      ["cross (B's doctor at B)", o.b, tok["b.doc"]],
    ];
    for (const [name, base, token] of sides) {
      const r = await measure(base, token, ids, o.reads, level);
      console.log(
        `${name.padEnd(28)}${fmt(level, 5)}${fmt(r.ok, 7)}${fmt(r.rate.toFixed(2), 9)}${fmt(r.p50.toFixed(0), 9)}${fmt(r.p99.toFixed(0), 9)}${fmt(r.errors, 8)}`,
      );
      if (r.firstError) console.log(`  first error: ${r.firstError}`);
    }
  }
}

main().catch((e) => {
  console.error(`consortium_read_bench: ${e.message}`);
  process.exit(1);
});
