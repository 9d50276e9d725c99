// SMART on FHIR with a real client: the `fhirclient` library (tests/peers) completes a standalone launch in
// Debian's Chromium against the real `medledger serve`, then reads and searches as the patient's app.
//   node e2e/smart.mjs     (MEDLEDGER_BIN as for run.mjs; needs web/dist: npm run build)
// The test app (e2e/smart-app) and fhirclient's browser build are served from the same origin as the server
// (a copy of web/dist passed to --web), the redirect URI being http://127.0.0.1:PORT/smartapp/index.html.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const WEB = path.resolve(import.meta.dirname, "..");
const REPO = path.resolve(WEB, "..");
const BIN = path.resolve(WEB, process.env.MEDLEDGER_BIN ?? "../build/test/src/app/medledger");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const FHIRCLIENT = path.join(REPO, "tests", "peers", "node_modules", "fhirclient", "build", "fhir-client.js");

const skip = (msg) => {
  console.log(`smart e2e skipped: ${msg}`);
  process.exit(0);
};
if (!fs.existsSync(BIN)) skip(`medledger binary not found at ${BIN}`);
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing`);
if (!fs.existsSync(FHIRCLIENT)) skip("tests/peers has no fhirclient (npm ci in tests/peers)");
if (!fs.existsSync(path.join(WEB, "dist", "index.html"))) skip("web/dist is not built (npm run build)");
const { chromium } = await import("playwright-core");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const port = await new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const base = `http://127.0.0.1:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "medledger-smart-"));
const webDir = path.join(dataDir, "web");
fs.cpSync(path.join(WEB, "dist"), webDir, { recursive: true });
fs.cpSync(path.join(import.meta.dirname, "smart-app"), path.join(webDir, "smartapp"), { recursive: true });
fs.copyFileSync(FHIRCLIENT, path.join(webDir, "smartapp", "fhir-client.js"));

let log = "";
const child = spawn(BIN, ["serve", "--demo", "--data", path.join(dataDir, "d"), "--listen", `127.0.0.1:${port}`, "--web", webDir], {
  stdio: ["ignore", "pipe", "pipe"],
});
child.stdout.on("data", (d) => (log += d));
child.stderr.on("data", (d) => (log += d));
let browser;
let failed = false;
const expect = (ok, msg) => {
  if (!ok) {
    failed = true;
    console.error(`FAIL: ${msg}`);
  } else console.log(`ok: ${msg}`);
};
try {
  const credsFile = path.join(dataDir, "d", "demo-credentials.txt");
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`server exited:\n${log.slice(-3000)}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok && fs.existsSync(credsFile)) break;
    } catch {
      /* not yet */
    }
    if (i > 400) throw new Error("server not ready");
    await sleep(300);
  }
  const creds = Object.fromEntries(
    fs.readFileSync(credsFile, "utf8").split("\n").map((l) => l.trim().split(/\s+/)).filter((t) => t.length === 3 && !t[0].startsWith("#")).map((t) => [t[0], t[2]]),
  );
  const login = async (username) => {
    const r = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password: creds[username] }) });
    return r.json();
  };
  const admin = await login("admin");
  const alice = await login("alice");
  const reg = await fetch(`${base}/api/v1/apps`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${admin.accessToken}` },
    body: JSON.stringify({ name: "fhirclient test app", redirectUris: [`${base}/smartapp/index.html`], scope: "launch/patient patient/*.rs openid fhirUser" }),
  });
  const app = await reg.json();
  expect(reg.status === 201, `app registered (${reg.status})`);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  page.on("pageerror", (e) => console.log(`  [page error] ${e.message}`));
  await page.goto(`${base}/smartapp/launch.html?client=${app.clientId}`);
  // fhirclient discovered the endpoints and sent the browser to /oauth2/authorize -> the consent screen.
  await page.waitForURL(/\/smart\/authorize\?request=/);
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill(creds.alice);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByTestId("smart-app-name").waitFor();
  expect((await page.getByTestId("smart-app-name").textContent()) === "fhirclient test app", "consent screen names the app");
  const asks = await page.getByRole("list", { name: "What the app asks for" }).textContent();
  expect(/read and search your medical reports/.test(asks), `consent screen says what is asked: ${asks}`);
  expect(/which patient record is yours/.test(asks), `consent screen says the app learns who the user is: ${asks}`);
  const shotDir = path.join(REPO, "test-output", "screenshots");
  fs.mkdirSync(shotDir, { recursive: true });
  await page.screenshot({ path: path.join(shotDir, "smart-consent.png"), fullPage: true });
  await page.getByRole("button", { name: "Approve" }).click();
  await page.waitForURL(/\/smartapp\/index\.html/);
  await page.locator("#result[data-done='1']").waitFor();
  const result = JSON.parse(await page.locator("#result").textContent());
  console.log(`  app saw: ${JSON.stringify(result)}`);
  expect(!result.error, `no error in the app (${result.error ?? ""})`);
  expect(result.patient === alice.user.patientId, "token response carries the patient in context");
  expect(result.patientResource === `Patient/${alice.user.patientId}`, "the app reads its patient");
  expect(result.searchType === "searchset", "the app searches DiagnosticReport");
  expect(result.reports >= 1, `the search finds the patient's reports (${result.reports})`);
  expect(result.otherPatient === 403, `another patient is refused (${result.otherPatient})`);
  expect(/\bopenid\b/.test(result.scope) && /\bfhirUser\b/.test(result.scope), `openid and fhirUser granted (${result.scope})`);
  const patientRef = `Patient/${alice.user.patientId}`;
  const id = result.idToken ?? {};
  expect(id.fhirUser === `${base}/fhir/r4/${patientRef}`, `id_token fhirUser is the patient's absolute URL (${id.fhirUser})`);
  expect(result.fhirUser === patientRef && result.userFhirUser === patientRef, `client.getFhirUser() / client.user.fhirUser name the patient (${result.fhirUser}, ${result.userFhirUser})`);
  expect(result.userType === "Patient", `the user is a Patient (${result.userType})`);
  expect(result.userResource === patientRef, `client.user.read() reads the patient (${result.userResource})`);
  expect(id.iss === base && id.sub === "alice" && id.aud === app.clientId, `id_token iss/sub/aud (${id.iss}, ${id.sub}, ${id.aud})`);
  const nowS = Date.now() / 1000;
  expect(id.iat <= nowS + 5 && id.exp > nowS && id.exp - id.iat <= 3600, `id_token iat/exp are current and short (${id.iat}, ${id.exp})`);
  // Signed with the server's key: verify the ES256 signature against /.well-known/jwks.json (WebCrypto).
  const raw = result.idTokenRaw;
  expect(typeof raw === "string" && raw.split(".").length === 3, "the raw id_token is a JWS");
  if (typeof raw === "string") {
    const [h, p, sgn] = raw.split(".");
    const header = JSON.parse(Buffer.from(h, "base64url").toString());
    const jwks = await (await fetch(`${base}/.well-known/jwks.json`)).json();
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    expect(header.alg === "ES256" && !!jwk, `id_token is ES256 with a JWKS key (${header.alg}, ${header.kid})`);
    if (jwk) {
      const key = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(sgn, "base64url"), Buffer.from(`${h}.${p}`));
      expect(ok, "id_token signature verifies with the JWKS key");
    }
  }
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser?.close();
  child.kill("SIGTERM");
  await sleep(500);
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
