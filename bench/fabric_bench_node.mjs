// The Node side of the Fabric side-by-side benchmark: the same CreateReport workload as bench/fabric_bench
// (C++ GatewayLedger), through Hyperledger Fabric's official Node client, @hyperledger/fabric-gateway, on the same
// network. Each submission is endorse -> submit -> wait for the commit status; 1, 16 and 64 in flight.
//
//   node bench/fabric_bench_node.mjs --net DIR [--tx N] [--levels 1,16,64]
// DIR is a tests/fabric/network.sh work dir with msp/admin and msp/doctor1 (medledger fabric msp) exported.
import { createPrivateKey, randomBytes } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(import.meta.dirname, "..", "tests", "peers", "package.json"));
const gw = require("@hyperledger/fabric-gateway");
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@hyperledger/fabric-gateway")] }));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const net = arg("net");
if (!net) {
  console.error("usage: node bench/fabric_bench_node.mjs --net DIR [--tx N] [--levels 1,16,64]");
  process.exit(2);
}
const txCount = Number(arg("tx", "200"));
const levels = arg("levels", "1,16,64").split(",").map(Number);
const cfg = JSON.parse(fs.readFileSync(path.join(net, "fabric.json"), "utf8"));

function identityFrom(mspDir) {
  const one = (d) => fs.readFileSync(path.join(mspDir, d, fs.readdirSync(path.join(mspDir, d))[0]));
  return { identity: { mspId: cfg.mspId, credentials: one("signcerts") }, signer: gw.signers.newPrivateKeySigner(createPrivateKey(one("keystore"))) };
}

const tlsRoot = fs.readFileSync(path.resolve(net, cfg.tlsRootCertFile));
const client = new grpc.Client(cfg.peerEndpoint, grpc.credentials.createSsl(tlsRoot), {
  "grpc.ssl_target_name_override": cfg.serverNameOverride,
});
const connect = (id) => gw.connect({ client, ...id, hash: gw.hash.sha256 });
const admin = connect(identityFrom(path.join(net, "msp", "admin")));
const doctor = connect(identityFrom(path.join(net, "msp", "doctor1")));
const contractOf = (g) => g.getNetwork(cfg.channel).getContract(cfg.chaincode);

const hex = (n) => randomBytes(n).toString("hex");
const patientRef = hex(32);
await contractOf(admin).submitTransaction("RegisterPatient", JSON.stringify({ patientRef }));
const run = hex(4);
const contract = contractOf(doctor);

console.log(`${"in-flight".padEnd(10)} ${"tx".padStart(8)} ${"tx/s".padStart(10)} ${"p50 ms".padStart(10)} ${"p99 ms".padStart(10)} ${"errors".padStart(8)}`);
for (const level of levels) {
  const latencies = [];
  let errors = 0;
  let firstError = "";
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < txCount) {
      const i = next++;
      const body = JSON.stringify({
        reportId: `node-bench-${run}-${level}-${i}`,
        patientRef,
        cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        contentHash: hex(32),
      });
      const t0 = performance.now();
      try {
        await contract.submitTransaction("CreateReport", body);
        latencies.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ||= String(e?.message ?? e);
      }
    }
  };
  await Promise.all(Array.from({ length: level }, worker));
  const secs = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
  console.log(`${String(level).padEnd(10)} ${String(txCount).padStart(8)} ${((txCount - errors) / secs).toFixed(1).padStart(10)} ${pct(0.5).toFixed(1).padStart(10)} ${pct(0.99).toFixed(1).padStart(10)} ${String(errors).padStart(8)}`);
  if (firstError) console.log(`  first error: ${firstError}`);
}
admin.close();
doctor.close();
client.close();
