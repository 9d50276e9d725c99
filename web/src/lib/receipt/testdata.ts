// Loads the TEST-ONLY fixtures made by scripts/make-receipt-fixtures.mjs (tests only).
import fs from "node:fs";
import path from "node:path";

const dir = path.join(__dirname, "testdata");
export const fixtureText = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
export const fixtureBytes = (name: string) => new Uint8Array(fs.readFileSync(path.join(dir, name)));
