// End-to-end tests: the built web app (web/dist) against a real `medledger serve`, driven by
// playwright-core on Debian's /usr/bin/chromium. Starts the server itself:
//   MEDLEDGER_BIN (default ../build/test/src/app/medledger) serve --demo --data TMP --listen 127.0.0.1:PORT --web dist
// With --mock, runs the same scenario against e2e/mock-server.mjs instead (UI development only).
// Screenshots go to <repo>/test-output/screenshots/.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const WEB = path.resolve(import.meta.dirname, "..");
const REPO = path.resolve(WEB, "..");
const SHOTS = path.join(REPO, "test-output", "screenshots");
const MOCK = process.argv.includes("--mock") || process.env.MEDLEDGER_E2E_MOCK === "1";
const BIN = path.resolve(WEB, process.env.MEDLEDGER_BIN ?? "../build/test/src/app/medledger");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

function skip(msg) {
  console.log(`e2e skipped: ${msg}`);
  process.exit(0);
}

if (!MOCK) {
  if (!fs.existsSync(BIN)) skip(`medledger binary not found at ${BIN} (set MEDLEDGER_BIN)`);
  const help = spawnSync(BIN, ["serve", "--help"], { encoding: "utf8", timeout: 30_000 });
  if (help.status !== 0 || !/listen|serve/i.test(help.stdout + help.stderr)) skip(`${BIN} has no 'serve' subcommand yet`);
}
if (!fs.existsSync(CHROMIUM)) {
  console.error(`e2e: ${CHROMIUM} is missing (apt-get install chromium)`);
  process.exit(1);
}
if (!fs.existsSync(path.join(WEB, "dist", "index.html"))) {
  console.log("e2e: building the web app first");
  const b = spawnSync("npm", ["run", "build"], { cwd: WEB, stdio: "inherit" });
  if (b.status !== 0) process.exit(1);
}

const { chromium } = await import("playwright-core");

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- start the server ---------------------------------------------------------------------------
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "medledger-e2e-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
let child = null;
let mockServer = null;
let serverLog = "";
// A real OpenID Connect provider (tests/peers) for "Sign in with your organisation", when installed.
let idp = null;
let idpIssuer = "";
const IDP_SCRIPT = path.join(REPO, "tests", "peers", "oidc_provider.mjs");
if (!MOCK && fs.existsSync(path.join(REPO, "tests", "peers", "node_modules", "oidc-provider"))) {
  idp = spawn(process.execPath, [IDP_SCRIPT, "--client-id", "medledger-web", "--redirect-uri", `${base}/`,
    "--accounts", JSON.stringify({ "dr.grey": { role: "physician", name: "Dr. Meredith Grey" } })], {
    cwd: path.dirname(IDP_SCRIPT), stdio: ["pipe", "pipe", "ignore"],
  });
  idpIssuer = await new Promise((resolve) => {
    let out = "";
    idp.stdout.on("data", (d) => {
      out += d;
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    idp.on("exit", () => resolve(""));
    setTimeout(() => resolve(""), 30_000);
  });
}
// A real RFC 3161 TSA (openssl ts behind tests/peers/tsa_server.mjs), so Verify checks a real time-stamp.
let tsa = null;
let tsaArgs = [];
if (!MOCK) {
  tsa = spawn(process.execPath, [path.join(REPO, "tests", "peers", "tsa_server.mjs"), "--name", "medledger e2e TSA", "--max-seconds", "1800"], {
    stdio: ["pipe", "pipe", "ignore"],
  });
  const ready = await new Promise((resolve) => {
    let out = "";
    tsa.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line));
    });
    tsa.on("exit", () => resolve(null));
    setTimeout(() => resolve(null), 30_000);
  });
  if (ready) tsaArgs = ["--tsa-url", ready.url, "--tsa-root", ready.rootPem, "--checkpoint-interval-ms", "300"];
}
const oidcArgs = idpIssuer
  ? ["--oidc-issuer", idpIssuer, "--oidc-client-id", "medledger-web", "--oidc-role-claim", "medledger_role", "--oidc-role-map", "physician=doctor"]
  : [];
if (MOCK) {
  const { startMock } = await import("./mock-server.mjs");
  ({ server: mockServer } = await startMock({ port, dataDir, webDir: path.join(WEB, "dist") }));
} else {
  child = spawn(BIN, ["serve", "--demo", "--data", dataDir, "--listen", `127.0.0.1:${port}`, "--web", path.join(WEB, "dist"), ...oidcArgs, ...tsaArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (serverLog += d));
  child.stderr.on("data", (d) => (serverLog += d));
  child.on("exit", (code) => (serverLog += `\n[server exited with ${code}]\n`));
}
async function waitReady() {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`server exited early:\n${serverLog.slice(-3000)}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok && fs.existsSync(path.join(dataDir, "demo-credentials.txt"))) return;
    } catch {
      /* not yet */
    }
    await sleep(300);
  }
  throw new Error(`server not ready after 120 s:\n${serverLog.slice(-3000)}`);
}

// demo-credentials.txt: tolerate "role user pass", "user:pass", "user = pass", "role: user / pass" forms.
function parseCredentials(text) {
  const out = [];
  for (const line of text.split("\n")) {
    const l = line.trim();
    if (!l || l.startsWith("#")) continue;
    const tokens = l.split(/[\s:=,/|]+/).filter(Boolean);
    if (tokens.length === 3 && /^(admin|doctor|patient|auditor)$/i.test(tokens[0])) {
      out.push({ role: tokens[0].toLowerCase(), username: tokens[1], password: tokens[2] });
      continue;
    }
    const role = tokens.find((t) => /^(admin|doctor|patient|auditor)$/i.test(t))?.toLowerCase();
    const rest = tokens.filter((t) => !/^(admin|doctor|patient|auditor|username|password|user|role)$/i.test(t));
    if (rest.length >= 2) out.push({ role, username: rest[0], password: rest[rest.length - 1] });
  }
  return out;
}

async function apiLogin(c) {
  const r = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: c.username, password: c.password }) });
  if (!r.ok) return null;
  return r.json();
}

// ---- tiny harness -------------------------------------------------------------------------------
let passed = 0;
let failed = 0;
let shot = 0;
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ✓ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`  ✗ ${name}\n      ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n      ")}`);
  }
}
function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

let browser;
const cleanup = async () => {
  await browser?.close().catch(() => {});
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    await sleep(500);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  mockServer?.close();
  tsa?.kill();
  idp?.kill("SIGTERM");
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(profileDir, { recursive: true, force: true });
};
const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "medledger-chromium-"));

try {
  await waitReady();
  const creds = parseCredentials(fs.readFileSync(path.join(dataDir, "demo-credentials.txt"), "utf8"));
  // Resolve each account's role (and a patient's record) by signing in through the API.
  const accounts = [];
  for (const c of creds) {
    const t = await apiLogin(c);
    if (t) accounts.push({ ...c, role: t.user.role, user: t.user, token: t.accessToken });
  }
  const byRole = (r) => accounts.filter((a) => a.role === r);
  const [doctor1, doctor2] = byRole("doctor");
  const patient = byRole("patient").find((p) => p.user.patientId);
  const auditor = byRole("auditor")[0];
  const admin = byRole("admin")[0];
  expect(doctor1 && doctor2 && patient, `demo credentials need two doctors and a linked patient; got ${accounts.map((a) => `${a.username}(${a.role})`).join(", ")}`);
  const pr = await fetch(`${base}/api/v1/patients/${encodeURIComponent(patient.user.patientId)}`, { headers: { Authorization: `Bearer ${patient.token}` } });
  expect(pr.ok, `GET /patients/{id} as the patient failed: ${pr.status}`);
  const patientRecord = await pr.json();

  fs.mkdirSync(SHOTS, { recursive: true });
  for (const f of fs.readdirSync(SHOTS)) if (f.endsWith(".png")) fs.rmSync(path.join(SHOTS, f));
  // A fresh profile (--user-data-dir); each tab is its own session (tokens live in memory and
  // sessionStorage, both per tab).
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const newPage = async (width = 1280) => {
    const page = await browser.newPage();
    await page.setViewportSize({ width, height: 900 });
    page.setDefaultTimeout(20_000);
    page.on("pageerror", (e) => console.log(`      [page error] ${e.message}`));
    return page;
  };
  const snap = async (page, name) => {
    shot++;
    await page.screenshot({ path: path.join(SHOTS, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
  };
  const signIn = async (page, acct) => {
    await page.goto(base + "/");
    await page.getByLabel("Username").fill(acct.username);
    await page.getByLabel("Password").fill(acct.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByTestId("whoami").waitFor();
  };
  const nav = (page, label) => page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: label }).click();
  const findPatient = async (page, action) => {
    await page.getByLabel("Find a patient").fill(patientRecord.name);
    await page.getByRole("button", { name: `${action} ${patientRecord.name}` }).first().click();
  };

  // A report's row in a list: found by its ID (lists carry ledger metadata, titles may be absent).
  const row = (page) => page.locator("tbody tr", { hasText: reportId.slice(0, 12) });
  const title = `Chest pain assessment ${crypto.randomBytes(3).toString("hex")}`;
  let reportId = "";
  let cid = "";
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");
  const doc1 = await newPage();
  const pat = await newPage();
  const doc2 = await newPage();

  await test("sign-in page and error message", async () => {
    await doc1.goto(base + "/");
    await doc1.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    await snap(doc1, "sign-in");
    await doc1.getByLabel("Username").fill(doctor1.username);
    await doc1.getByLabel("Password").fill("wrong-password");
    await doc1.getByRole("button", { name: "Sign in", exact: true }).click();
    await doc1.getByText("Sign-in failed").waitFor();
  });

  if (idpIssuer) {
    await test("a doctor signs in with the organisation's OpenID Connect provider", async () => {
      const page = await newPage();
      await page.goto(base + "/");
      await page.getByRole("button", { name: "Sign in with your organisation" }).click();
      // The provider's own login and consent pages (oidc-provider's development interactions).
      await page.waitForURL((u) => u.toString().startsWith(idpIssuer));
      await page.locator('input[name="login"]').fill("dr.grey");
      await page.locator('input[name="password"]').fill("any");
      await page.locator('button[type="submit"]').click();
      await page.locator('button[type="submit"]').click(); // consent: "Continue"
      await page.getByTestId("whoami").waitFor({ timeout: 30_000 });
      const who = await page.getByTestId("whoami").innerText();
      expect(/grey/i.test(who), `signed in as: ${who}`);
      expect(!page.url().includes("code="), `the code stayed in the address bar: ${page.url()}`);
      await page.getByRole("heading", { name: "New case report" }).waitFor();
      await snap(page, "signed-in-with-organisation");
      await page.close();
    });
  }

  await test("doctor submits a report with an attachment and sees the receipt", async () => {
    await signIn(doc1, doctor1);
    await doc1.getByRole("heading", { name: "New case report" }).waitFor();
    await findPatient(doc1, "Select");
    await doc1.getByLabel("Title").fill(title);
    await doc1.getByLabel("Diagnosis").fill("Unstable angina (I20.0)");
    await doc1.getByLabel("Report text").fill("58-year-old with exertional chest pain for 3 days.\nECG: ST depression V4-V6.\nPlan: admit, serial troponins, cardiology review.");
    await doc1.setInputFiles("#attachments", { name: "ecg.png", mimeType: "image/png", buffer: png });
    await snap(doc1, "doctor-new-report");
    await doc1.getByRole("button", { name: "Submit report" }).click();
    const receipt = doc1.getByTestId("receipt");
    await receipt.waitFor({ timeout: 60_000 });
    const text = await receipt.innerText();
    cid = /\b(baf[a-z2-7]{50,})\b/.exec(text)?.[1] ?? "";
    expect(cid, `no CID in the receipt: ${text}`);
    for (const label of ["Report ID", "Transaction ID", "Block number", "Block hash"]) expect(text.includes(label), `receipt lacks ${label}`);
    reportId = (await receipt.locator("dd code").first().innerText()).trim();
    expect(reportId, "no report ID");
    await snap(doc1, "doctor-receipt");
  });

  await test("doctor opens the report and Verify checks its receipt", async () => {
    await doc1.getByRole("button", { name: "Open report" }).click();
    await doc1.getByTestId("content").waitFor();
    await doc1.getByRole("button", { name: "Verify", exact: true }).click();
    const res = doc1.getByTestId("verify-result");
    if (MOCK) {
      // The mock keeps no signed log: Verify must say it could not verify, never pass.
      await res.waitFor({ timeout: 60_000 });
      const m = await res.innerText();
      expect(/^Could not verify/.test(m) && /public log is temporarily unavailable/.test(m), `Verify said: ${m}`);
      return;
    }
    // The receipt exists once the log has checkpointed the leaf (at most about a second): retry until then.
    let t = "";
    for (let i = 0; i < 20; i++) {
      await res.waitFor({ timeout: 60_000 });
      t = await res.innerText();
      if (!/not ready yet/.test(t)) break;
      await doc1.waitForTimeout(500);
      await doc1.getByRole("button", { name: "Try again" }).click();
    }
    // Every check passes; without a configured TSA (no TSA root in the trust bundle) only the time-stamp may fail.
    const trust = await (await fetch(`${base}/log/trust.json`)).json();
    const allowed = trust.tsaRoots?.length ? [] : ["timestamp"];
    const failedChecks = async (page) =>
      (await page.locator("[data-check]").evaluateAll((els) => els.filter((e) => e.getAttribute("data-ok") !== "true").map((e) => e.getAttribute("data-check"))));
    const bad = await failedChecks(doc1);
    expect(bad.every((id) => allowed.includes(id)), `failed checks ${bad.join(", ")}; Verify said: ${t}`);
    expect(/Signed by .* at /.test(t) && /Included in the hospital's public log/.test(t) && /Document matches/.test(t), `Verify said: ${t}`);
    await snap(doc1, "doctor-report-verified");

    // The same receipt, downloaded, checks in the offline page from file:// with the published trust file.
    const [download] = await Promise.all([doc1.waitForEvent("download"), doc1.getByRole("button", { name: "Download receipt" }).click()]);
    const dlDir = fs.mkdtempSync(path.join(os.tmpdir(), "medledger-e2e-receipt-"));
    const receiptPath = path.join(dlDir, "receipt.json");
    const trustPath = path.join(dlDir, "trust.json");
    await download.saveAs(receiptPath);
    fs.writeFileSync(trustPath, JSON.stringify(trust));
    const offline = await newPage();
    const requests = [];
    offline.on("request", (r) => { if (!/^(file|data):/.test(r.url())) requests.push(r.url()); });
    await offline.goto("file://" + path.join(WEB, "dist", "verify.html"));
    await offline.getByLabel("Receipt (.json)").setInputFiles(receiptPath);
    await offline.getByLabel("Hospital's trust file (.json)").setInputFiles(trustPath);
    await offline.getByRole("button", { name: "Check the receipt" }).click();
    await offline.getByTestId("verify-result").waitFor({ timeout: 30_000 });
    const badOffline = await failedChecks(offline);
    expect(badOffline.every((id) => allowed.includes(id)), `offline page: failed checks ${badOffline.join(", ")}`);
    expect(requests.length === 0, `offline page made requests: ${requests.join(", ")}`);
    await snap(offline, "offline-verifier");
    await offline.close();
  });

  await test("the patient sees the report and the doctor's access in the log", async () => {
    await signIn(pat, patient);
    await pat.getByRole("heading", { name: "My records" }).waitFor();
    await row(pat).waitFor();
    await snap(pat, "patient-records");
    await row(pat).getByRole("button", { name: /^Open/ }).click();
    await pat.getByTestId("content").waitFor();
    await snap(pat, "patient-report");
    await nav(pat, "Who accessed my records");
    await pat.getByRole("cell", { name: new RegExp(doctor1.username) }).first().waitFor();
    await snap(pat, "patient-access-log");
  });

  await test("consent grant and revoke change what another doctor may see", async () => {
    await signIn(doc2, doctor2);
    await nav(doc2, "Patients");
    await findPatient(doc2, "Open");
    await doc2.getByText(/No reports you may see|not given you access|permission/).first().waitFor();
    expect(!(await row(doc2).count()), "doctor 2 sees the report before consent");
    await snap(doc2, "doctor2-no-consent");

    await nav(pat, "Sharing and consent");
    // The consent screen picks the doctor from the consortium directory (name, hospital, username).
    await pat.getByLabel("Search doctors").fill(doctor2.username);
    await pat.getByRole("radiogroup", { name: "Doctors" }).getByRole("radio", { name: new RegExp(doctor2.username.replace(/[.]/g, "\\.")) }).check();
    await pat.getByLabel("Purpose").fill("Second opinion");
    await pat.getByRole("button", { name: "Grant access" }).click();
    await pat.getByText(/can now see your records/).waitFor();
    await snap(pat, "patient-consent");

    await doc2.getByRole("button", { name: "Refresh" }).click();
    await row(doc2).waitFor();
    await row(doc2).getByRole("button", { name: /^Open/ }).click();
    await doc2.getByTestId("content").waitFor();
    await snap(doc2, "doctor2-with-consent");
    // "Shared with me": the consent that names doctor 2 leads to the patient's reports by pseudonym.
    await nav(doc2, "Shared with me");
    await doc2.getByRole("table", { name: "Consents naming you" }).waitFor();
    await doc2.getByRole("button", { name: /^Show reports of patient/ }).first().click();
    await row(doc2).waitFor();
    await snap(doc2, "doctor2-shared-with-me");

    await pat.getByRole("button", { name: /^Revoke access/ }).first().click();
    await pat.getByText(/can no longer see your records/).waitFor();

    await nav(doc2, "Patients");
    await findPatient(doc2, "Open");
    await doc2.getByText(/No reports you may see|not given you access|permission/).first().waitFor();
    expect(!(await row(doc2).count()), "doctor 2 still sees the report after revoke");
  });

  await test("break-glass access is highlighted for the patient and the auditor", async () => {
    await doc2.getByLabel("Report ID").fill(reportId);
    await doc2.getByRole("button", { name: "Open report", exact: true }).click();
    await doc2.getByText("You do not have consent to view this record").waitFor();
    await doc2.getByLabel("Reason for emergency access").fill("Patient unconscious in ED, needs cardiac history");
    await snap(doc2, "doctor2-break-glass");
    await doc2.getByRole("button", { name: "Break glass and open" }).click();
    await doc2.getByTestId("content").waitFor();
    await nav(pat, "Who accessed my records");
    await pat.locator("tr[data-emergency=true]").first().waitFor();
    await snap(pat, "patient-access-log-break-glass");
    if (auditor) {
      const aud = await newPage();
      await signIn(aud, auditor);
      await aud.getByRole("heading", { name: "Audit events" }).waitFor();
      await aud.locator("tbody tr").first().waitFor();
      await snap(aud, "auditor-events");
      await nav(aud, "Break-glass review");
      await aud.locator("tr[data-emergency=true]").first().waitFor();
      await snap(aud, "auditor-break-glass");
      await nav(aud, "Ledger");
      await aud.getByRole("button", { name: "Verify the whole chain" }).click();
      await aud.getByText(/Chain intact|FAILED/).waitFor({ timeout: 60_000 });
      await snap(aud, "auditor-ledger");
      await aud.close();
    }
  });

  await test("doctor amends the report and a new version is listed", async () => {
    await nav(doc1, "Patients");
    await findPatient(doc1, "Open");
    await row(doc1).getByRole("button", { name: /^Open/ }).click();
    await doc1.getByRole("button", { name: "Amend" }).click();
    await doc1.getByLabel("Reason for amendment").fill("Troponin result added");
    await doc1.getByLabel("Report text").fill("58-year-old with exertional chest pain for 3 days.\nECG: ST depression V4-V6.\nTroponin I 0.9 ng/mL.\nPlan: admit, cardiology review.");
    await doc1.getByRole("button", { name: "Record amendment" }).click();
    await doc1.getByText("Amendment recorded on the ledger").waitFor({ timeout: 60_000 });
    // From now on the latest version (whose content Verify checks) is stored under the amendment's CID.
    const amended = await doc1.getByTestId("receipt").innerText();
    cid = /\b(baf[a-z2-7]{50,})\b/.exec(amended)?.[1] ?? cid;
    await doc1.getByRole("cell", { name: "v2" }).waitFor();
    await snap(doc1, "doctor-amended");
  });

  if (admin) {
    await test("admin registers a patient and lists users", async () => {
      const adm = await newPage();
      await signIn(adm, admin);
      await adm.getByLabel("Hospital number (MRN)").fill(`E2E-${crypto.randomBytes(2).toString("hex")}`);
      await adm.getByLabel("Full name").fill("Alex Example");
      await adm.getByLabel("Date of birth").fill("1990-05-17");
      await adm.getByRole("button", { name: "Register patient" }).click();
      await adm.getByText("Alex Example is registered").waitFor();
      await snap(adm, "admin-patients");
      await nav(adm, "Users and roles");
      await adm.getByRole("cell", { name: doctor1.username }).waitFor();
      await snap(adm, "admin-users");
      await adm.close();
    });
  }

  await test("tablet width (768 px) layout", async () => {
    const tab = await newPage(768);
    await signIn(tab, doctor1);
    await tab.getByRole("heading", { name: "New case report" }).waitFor();
    await snap(tab, "tablet-doctor-new-report");
    await tab.close();
  });

  await test("Verify reports tampering after the stored content is corrupted", async () => {
    const block = findBlock(dataDir, cid);
    expect(block, `could not find the stored block of ${cid} under ${dataDir}`);
    const at = block.offset + Math.floor(block.length / 2);
    console.log(`      corrupting byte ${at} of ${path.relative(dataDir, block.file)} (CID ${cid})`);
    const bytes = fs.readFileSync(block.file);
    bytes[at] ^= 0xff;
    fs.writeFileSync(block.file, bytes);
    const page = await newPage();
    await signIn(page, doctor1);
    await nav(page, "Patients");
    await page.getByLabel("Report ID").fill(reportId);
    await page.getByRole("button", { name: "Open report", exact: true }).click();
    await page.getByRole("button", { name: "Verify", exact: true }).click();
    const res = page.getByTestId("verify-result");
    await res.waitFor({ timeout: 60_000 });
    const t = await res.innerText();
    if (MOCK) expect(/^Could not verify/.test(t), `Verify said: ${t}`);
    else expect(/^NOT verified/.test(t) && /(encrypted copy|document)/i.test(t), `Verify said: ${t}`);
    await snap(page, "verify-tampered");
    await page.close();
  });

} catch (e) {
  failed++;
  console.log(`  ✗ setup: ${e?.stack ?? e}`);
} finally {
  await cleanup();
}

console.log(`\ne2e (${MOCK ? "mock server" : BIN}): screenshots in ${path.relative(process.cwd(), SHOTS) || SHOTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

// Finds where the raw block of a CIDv1 (raw codec, sha2-256) is stored: {file, offset, length}. The server
// keeps blocks in pack files, each record's bytes right after their SHA-256 and a little-endian u32 length
// 8 bytes before it (docs/CONTENT.md); the mock server keeps one file per block.
function findBlock(dir, cidStr) {
  const B32 = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0, value = 0;
  const bytes = [];
  for (const ch of cidStr.slice(1)) {
    value = (value << 5) | B32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const digest = Buffer.from(bytes.slice(-32));
  const stack = [dir];
  const candidates = [];
  while (stack.length) {
    const d = stack.pop();
    for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) stack.push(p);
      else if (ent.isFile()) candidates.push(p);
    }
  }
  for (const p of candidates) {
    const st = fs.statSync(p);
    if (st.size === 0 || st.size > 1024 * 1024 * 1024) continue;
    const content = fs.readFileSync(p);
    // A file that is the block itself (not, e.g., a pin record named by the CID).
    if (crypto.createHash("sha256").update(content).digest().equals(digest)) return { file: p, offset: 0, length: content.length };
    if (!p.endsWith(".dat")) continue;
    for (let at = content.indexOf(digest); at >= 8; at = content.indexOf(digest, at + 1)) {
      const length = content.readUInt32LE(at - 8);
      const data = content.subarray(at + 32, at + 32 + length);
      if (data.length === length && crypto.createHash("sha256").update(data).digest().equals(digest)) {
        return { file: p, offset: at + 32, length };
      }
    }
  }
  return null;
}
