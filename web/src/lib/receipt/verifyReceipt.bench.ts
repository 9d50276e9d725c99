// @vitest-environment node
// ms per receipt verification (all checks, with document and ciphertext): `npx vitest bench --run`.
// The browser figure comes from scripts/offline-smoke.mjs (Chromium, file://).
import { bench, describe } from "vitest";
import { verifyReceipt } from "./verifyReceipt";
import { fixtureBytes, fixtureText } from "./testdata";

const receipt = JSON.parse(fixtureText("receipt.json"));
const trust = JSON.parse(fixtureText("trust.json"));
const document = fixtureBytes("document.json");
const ciphertext = fixtureBytes("ciphertext.bin");

describe("receipt verification", () => {
  bench("verifyReceipt (every check, document and ciphertext)", async () => {
    const r = await verifyReceipt(receipt, trust, { document, ciphertext });
    if (!r.ok) throw new Error("fixture receipt does not verify");
  }, { time: 2000 });
  bench("verifyReceipt (receipt only)", async () => {
    await verifyReceipt(receipt, trust);
  }, { time: 2000 });
});
