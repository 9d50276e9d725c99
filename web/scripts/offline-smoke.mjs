#!/usr/bin/env node
// Opens the built offline verifier (dist/verify.html) from file:// in Chromium, drops the TEST-ONLY fixture
// receipt, trust file, document and ciphertext, and checks every check passes with no network request at all;
// then a tampered document must fail. Also reports the browser's time per receipt verification.
// Run after `npx vite build`: node scripts/offline-smoke.mjs [runs]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const page = path.join(here, "..", "dist", "verify.html");
const fx = (n) => path.join(here, "..", "src", "lib", "receipt", "testdata", n);
const runs = Number(process.argv[2] ?? 20);
const { chromium } = await import("playwright-core");
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const ctx = await browser.newContext();
const p = await ctx.newPage();
const requests = [];
p.on("request", (r) => {
  if (!r.url().startsWith("file://") && !r.url().startsWith("data:")) requests.push(r.url());
});
const errors = [];
p.on("pageerror", (e) => errors.push(String(e)));
p.on("console", (m) => m.type() === "error" && errors.push(m.text()));
await p.goto("file://" + page);
await p.getByLabel("Receipt (.json)").setInputFiles(fx("receipt.json"));
await p.getByLabel("Hospital's trust file (.json)").setInputFiles(fx("trust.json"));
await p.getByLabel("Document (optional)").setInputFiles(fx("document.json"));
await p.getByLabel("Encrypted stored copy (optional)").setInputFiles(fx("ciphertext.bin"));
const times = [];
const pageTimes = [];
for (let i = 0; i < runs; i++) {
  const t0 = Date.now();
  await p.getByRole("button", { name: "Check the receipt" }).click();
  await p.getByText("Verified: every check passed").waitFor({ timeout: 10_000 });
  times.push(Date.now() - t0);
  pageTimes.push(Number(await p.getByTestId("verify-ms").getAttribute("data-ms")));
}
const checks = await p.locator("[data-check]").evaluateAll((els) => els.map((e) => `${e.getAttribute("data-ok") === "true" ? "ok  " : "FAIL"} ${e.textContent}`));
console.log(checks.join("\n"));
const bad = path.join(os.tmpdir(), "ml-bad-document.json");
const d = fs.readFileSync(fx("document.json"));
d[2] ^= 1;
fs.writeFileSync(bad, d);
await p.getByLabel("Document (optional)").setInputFiles(bad);
await p.getByRole("button", { name: "Check the receipt" }).click();
await p.getByText(/NOT verified: 1 check failed/).waitFor({ timeout: 10_000 });
await browser.close();
times.sort((a, b) => a - b);
pageTimes.sort((a, b) => a - b);
console.log(`verifyReceipt in Chromium (every check, document and ciphertext): median ${pageTimes[pageTimes.length >> 1]} ms, min ${pageTimes[0]} ms over ${runs} runs`);
console.log(`click to result shown: median ${times[times.length >> 1]} ms, min ${times[0]} ms`);
if (requests.length || errors.length) {
  console.error("network requests:", requests, "errors:", errors);
  process.exit(1);
}
console.log("offline verifier: all checks pass from file://, a tampered document fails, no network request");
