// @vitest-environment node
import { describe, expect, it } from "vitest";
import { checkLeaf, encodeLeaf } from "./leaf";

const fields = {
  version: 1, txId: "a".repeat(64), reportId: "r-1", patient: "b".repeat(64), ledgerTime: "2026-12-07T05:00:00.123Z",
  kind: "created", format: "medledger-leaf/1", contentHash: "c".repeat(64), cid: "bafkqaaa", blockNumber: 7,
};
const enc = (s: string) => new TextEncoder().encode(s);

describe("leaf", () => {
  it("encodes canonically: sorted keys, no whitespace", () => {
    expect(encodeLeaf(fields)).toBe(
      `{"blockNumber":7,"cid":"bafkqaaa","contentHash":"${"c".repeat(64)}","format":"medledger-leaf/1","kind":"created","ledgerTime":"2026-12-07T05:00:00.123Z","patient":"${"b".repeat(64)}","reportId":"r-1","txId":"${"a".repeat(64)}","version":1}`,
    );
    expect(encodeLeaf({ ...fields, reportId: 'a"b\\c' })).toContain('"reportId":"a\\"b\\\\c"');
  });
  it("accepts canonical bytes that match the fields", () => {
    expect(checkLeaf(enc(encodeLeaf(fields)), fields).ok).toBe(true);
  });
  it("refuses non-canonical bytes, differing fields, extra keys and bad values", () => {
    const canon = encodeLeaf(fields);
    expect(checkLeaf(enc(canon.replace(",", ", ")), fields).ok).toBe(false);
    expect(checkLeaf(enc(canon.replace('"blockNumber":7', '"blockNumber":7.0')), fields).ok).toBe(false);
    expect(checkLeaf(enc(canon), { ...fields, version: 2 })).toMatchObject({ ok: false, reason: /differ/ });
    expect(() => encodeLeaf({ ...fields, extra: 1 })).toThrow(/exactly the keys/);
    expect(() => encodeLeaf({ ...fields, version: -1 })).toThrow();
    expect(() => encodeLeaf({ ...fields, kind: "deleted" })).toThrow(/kind/);
    expect(() => encodeLeaf({ ...fields, reportId: "é" })).toThrow(/ASCII/);
    expect(() => encodeLeaf({ ...fields, reportId: "a\nb" })).toThrow(/ASCII/);
    expect(checkLeaf(enc("not json"), fields).ok).toBe(false);
    // unicode escapes decode to the same value but are not canonical
    expect(checkLeaf(enc(canon.replace('"r-1"', '"\\u0072-1"')), fields)).toMatchObject({ ok: false, reason: /canonical/ });
  });
});
