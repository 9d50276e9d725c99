// @vitest-environment node
import { describe, expect, it } from "vitest";
import { children, decodeOid, decodeTime, encodeTlv, encodeUnsigned, MAX_DEPTH, parseDer, readTlv, smallInteger, TAG, unsignedInteger } from "./der";

const b = (...x: number[]) => Uint8Array.from(x);

describe("der", () => {
  it("reads short and long definite lengths", () => {
    expect(parseDer(b(0x04, 0x02, 0xaa, 0xbb)).value).toEqual(b(0xaa, 0xbb));
    const long = new Uint8Array(200).fill(7);
    const n = parseDer(encodeTlv(0x04, long));
    expect(n.value.length).toBe(200);
    expect(n.bytes[1]).toBe(0x81);
  });
  it("refuses indefinite, non-minimal and overlong lengths", () => {
    expect(() => parseDer(b(0x30, 0x80, 0, 0))).toThrow(/indefinite/);
    expect(() => parseDer(b(0x04, 0x81, 0x01, 0xaa))).toThrow(/minimal/);
    expect(() => parseDer(b(0x04, 0x82, 0x00, 0x81, ...new Array(0x81).fill(0)))).toThrow(/minimal/);
    expect(() => parseDer(b(0x04, 0x85, 1, 1, 1, 1, 1))).toThrow(/too large/);
  });
  it("refuses values that run past their container and trailing bytes", () => {
    expect(() => parseDer(b(0x04, 0x05, 1, 2))).toThrow(/past the end/);
    expect(() => parseDer(b(0x04, 0x01, 1, 2))).toThrow(/trailing/);
    expect(() => children(parseDer(b(0x30, 0x03, 0x04, 0x05, 0x00)))).toThrow(/past the end/);
    expect(() => readTlv(b(0x04), 0)).toThrow(/truncated/);
  });
  it("limits nesting depth", () => {
    let v: Uint8Array = b(0x05, 0x00);
    for (let i = 0; i < MAX_DEPTH + 2; i++) v = encodeTlv(0x30, v);
    let n = parseDer(v);
    expect(() => {
      for (;;) n = children(n)[0];
    }).toThrow(/too deep|not constructed/);
    let depthErr = false;
    try {
      let m = parseDer(v);
      for (let i = 0; i < MAX_DEPTH + 2; i++) m = children(m)[0];
    } catch (e) {
      depthErr = /too deep/.test((e as Error).message);
    }
    expect(depthErr).toBe(true);
  });
  it("decodes OIDs, integers and times", () => {
    expect(decodeOid(parseDer(b(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07)))).toBe("1.2.840.10045.3.1.7");
    expect(() => decodeOid(parseDer(b(0x06, 0x02, 0x2a, 0x86)))).toThrow(/truncated/);
    expect(smallInteger(parseDer(b(0x02, 0x02, 0x00, 0x80)))).toBe(128);
    expect(() => unsignedInteger(parseDer(b(0x02, 0x02, 0x00, 0x01)))).toThrow(/minimal/);
    expect(() => unsignedInteger(parseDer(b(0x02, 0x01, 0x80)))).toThrow(/negative/);
    expect(parseDer(encodeUnsigned(b(0x80))).bytes).toEqual(b(0x02, 0x02, 0x00, 0x80));
    const t = (tag: number, s: string) => decodeTime(parseDer(encodeTlv(tag, new TextEncoder().encode(s))));
    expect(t(TAG.UTC_TIME, "261207045838Z").toISOString()).toBe("2026-12-07T04:58:38.000Z");
    expect(t(TAG.GENERALIZED_TIME, "20261207045838.5Z").toISOString()).toBe("2026-12-07T04:58:38.500Z");
    expect(() => t(TAG.GENERALIZED_TIME, "20261207045838+0100")).toThrow();
  });
});
