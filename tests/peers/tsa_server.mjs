// A real RFC 3161 Time-Stamping Authority for the tests: `openssl ts -reply` behind a tiny HTTP endpoint.
//
//   node tsa_server.mjs [--name CN] [--digests "sha256 sha384 sha512"] [--max-seconds N]
//                       [--tsa-valid-seconds N | --tsa-validity YYYYMMDDHHMMSSZ,YYYYMMDDHHMMSSZ] [--twin yes]
//
// On start it creates, in a fresh private directory (mode 0700, removed on exit), a root CA and a TSA
// certificate (extendedKeyUsage critical timeStamping) issued by it, with the `openssl` command line, and an
// openssl.cnf with a [tsa] section. Nothing is committed: every run has its own keys. It listens on 127.0.0.1
// (a free port) and answers `POST /` (application/timestamp-query) with the DER reply of `openssl ts -reply`
// (application/timestamp-reply). It prints one JSON line {"url":..., "rootPem": <path>} when ready, and exits
// when stdin closes or after --max-seconds (default 300), so a crashed test never leaves it behind.
// --digests narrows the accepted imprint algorithms: with "sha512" a SHA-256 request gets a real rejection.
// --tsa-valid-seconds / --tsa-validity give the TSA certificate that validity period (issued with `openssl ca`,
// which can set both dates), e.g. one that expires seconds after a token is made.
// --twin yes also issues a second certificate for the TSA key with the same issuer and serial number (another
// validity, so other bytes) and adds its path as "twinPem": a token whose certificate is swapped for it still
// verifies cryptographically, and only the signed ESSCertIDv2 tells the two apart.
import http from "node:http";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const name = args.name ?? "medledger test TSA";
const digests = args.digests ?? "sha256 sha384 sha512";
const maxSeconds = Number(args["max-seconds"] ?? 300);
const maxQueryBytes = 16 * 1024;
const asn1Time = (d) => d.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
let validity = args["tsa-validity"]?.split(",");
if (args["tsa-valid-seconds"]) {
  const now = Date.now();
  validity = [asn1Time(new Date(now - 60_000)), asn1Time(new Date(now + Number(args["tsa-valid-seconds"]) * 1000))];
}

// --keep DIR: a long-lived local TSA (scripts/run.sh's demo): its keys live in DIR across restarts, so the trust
// bundle verifiers pinned stays the same; it runs until signalled (stdin and --max-seconds are ignored).
const keep = args.keep;
const dir = keep ?? mkdtempSync(join(tmpdir(), "ml-tsa-"));
if (keep) mkdirSync(keep, { recursive: true, mode: 0o700 });
chmodSync(dir, 0o700);
const cleanup = () => (keep ? undefined : rmSync(dir, { recursive: true, force: true }));
const days = keep ? "3650" : "2";
const reuse = keep && existsSync(join(dir, "root.pem")) && existsSync(join(dir, "tsa.pem")) && existsSync(join(dir, "tsa.key"));
const f = (n) => join(dir, n);
const openssl = (...a) => execFileSync("openssl", a, { stdio: ["ignore", "pipe", "pipe"] });

writeFileSync(
  f("ext.cnf"),
  `[root_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`,
);
writeFileSync(
  f("openssl.cnf"),
  `[tsa]
default_tsa = tsa_config
[tsa_config]
dir = ${dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/root.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1.1
other_policies = 1.3.6.1.4.1.99999.1.2
digests = ${digests.trim().split(/[\s,]+/).join(", ")}
accuracy = secs:1
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`,
);
if (!reuse) writeFileSync(f("serial"), "01\n");

try {
  if (reuse) throw null;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-new", ...ec, "-keyout", f("root.key"), "-out", f("root.csr"), "-subj", `/O=medledger tests/CN=${name} root`);
  openssl("x509", "-req", "-in", f("root.csr"), "-signkey", f("root.key"), "-days", days, "-sha256",
          "-extfile", f("ext.cnf"), "-extensions", "root_ext", "-out", f("root.pem"));
  openssl("req", "-new", ...ec, "-keyout", f("tsa.key"), "-out", f("tsa.csr"), "-subj", `/O=medledger tests/CN=${name}`);
  if (validity) {
    writeFileSync(
      f("ca.cnf"),
      `[ca]\ndefault_ca = test_ca\n[test_ca]\ndir = ${dir}\ndatabase = $dir/index.txt\nnew_certs_dir = $dir\n` +
        `serial = $dir/ca.serial\ndefault_md = sha256\npolicy = policy_any\nunique_subject = no\n` +
        `[policy_any]\norganizationName = optional\ncommonName = supplied\n`,
    );
    writeFileSync(f("index.txt"), "");
    writeFileSync(f("ca.serial"), "02\n");
    openssl("ca", "-batch", "-config", f("ca.cnf"), "-cert", f("root.pem"), "-keyfile", f("root.key"), "-in", f("tsa.csr"),
            "-out", f("tsa.pem"), "-startdate", validity[0], "-enddate", validity[1], "-preserveDN", "-notext",
            "-extfile", f("ext.cnf"), "-extensions", "tsa_ext");
  } else {
    openssl("x509", "-req", "-in", f("tsa.csr"), "-CA", f("root.pem"), "-CAkey", f("root.key"), "-set_serial", "2",
            "-days", days, "-sha256", "-extfile", f("ext.cnf"), "-extensions", "tsa_ext", "-out", f("tsa.pem"));
    if (args.twin === "yes") {
      openssl("x509", "-req", "-in", f("tsa.csr"), "-CA", f("root.pem"), "-CAkey", f("root.key"), "-set_serial", "2",
              "-days", "3", "-sha256", "-extfile", f("ext.cnf"), "-extensions", "tsa_ext", "-out", f("twin.pem"));
    }
  }
} catch (e) {
  if (e === null) {
    // --keep with existing keys: nothing to create.
  } else {
  process.stderr.write(`cannot create the TSA certificates: ${e.stderr ?? e}\n`);
  cleanup();
  process.exit(1);
  }
}

// `openssl ts -reply` increments the serial file, so replies are made one at a time.
let queue = Promise.resolve();
let seq = 0;
function reply(query) {
  const n = ++seq;
  const q = f(`q${n}.tsq`);
  const r = f(`r${n}.tsr`);
  writeFileSync(q, query);
  try {
    openssl("ts", "-reply", "-config", f("openssl.cnf"), "-queryfile", q, "-inkey", f("tsa.key"), "-signer",
            f("tsa.pem"), "-chain", f("root.pem"), "-out", r);
    return readFileSync(r);
  } finally {
    rmSync(q, { force: true });
    rmSync(r, { force: true });
  }
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/") {
    res.writeHead(404).end();
    return;
  }
  if ((req.headers["content-type"] ?? "") !== "application/timestamp-query") {
    res.writeHead(415).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on("data", (c) => {
    size += c.length;
    if (size > maxQueryBytes) req.destroy();
    else chunks.push(c);
  });
  req.on("end", () => {
    queue = queue.then(() => {
      try {
        const body = reply(Buffer.concat(chunks));
        res.writeHead(200, { "content-type": "application/timestamp-reply", "content-length": body.length });
        res.end(body);
      } catch (e) {
        // A query openssl cannot even parse: openssl prints no reply, so neither do we.
        process.stderr.write(`openssl ts -reply failed: ${e.stderr ?? e}\n`);
        res.writeHead(400).end();
      }
    });
  });
});
await new Promise((resolve) => server.listen(Number(args.port ?? 0), "127.0.0.1", resolve));

const stop = () => {
  server.close();
  cleanup();
  process.exit(0);
};
if (!keep) {
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  setTimeout(stop, maxSeconds * 1000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

const ready = { url: `http://127.0.0.1:${server.address().port}/`, rootPem: f("root.pem") };
if (args.twin === "yes") ready.twinPem = f("twin.pem");
process.stdout.write(JSON.stringify(ready) + "\n");
