// @vitest-environment node
import { describe, expect, it } from "vitest";
import { importer } from "ipfs-unixfs-importer";
import { MemoryBlockstore } from "blockstore-core/memory";
import { base32, CHUNK_SIZE, computeCid, encodeDagPbNode, MAX_LINKS, sha256Hex, unixfsFileData, varint } from "./cid";

// Reference implementation used only as a test oracle: the importer IPFS itself uses, configured like
// `ipfs add --cid-version=1` (raw leaves, 256 KiB fixed chunks, balanced layout, 174 links).
async function oracle(bytes: Uint8Array): Promise<string> {
  const bs = new MemoryBlockstore();
  let last = "";
  for await (const entry of importer([{ content: bytes }], bs, {
    profile: "unixfs-v0-2015", // 256 KiB chunks, 174 links, links-first dag-pb
    cidVersion: 1,
    rawLeaves: true,
  })) {
    last = entry.cid.toString();
  }
  return last;
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("encodings", () => {
  it("varint", () => {
    expect(varint(0)).toEqual([0]);
    expect(varint(127)).toEqual([127]);
    expect(varint(128)).toEqual([0x80, 0x01]);
    expect(varint(300)).toEqual([0xac, 0x02]);
    expect(varint(262144)).toEqual([0x80, 0x80, 0x10]);
  });
  it("base32 (RFC 4648 vectors, lower case, unpadded)", () => {
    const enc = (s: string) => base32(new TextEncoder().encode(s));
    expect(enc("")).toBe("");
    expect(enc("f")).toBe("my");
    expect(enc("fo")).toBe("mzxq");
    expect(enc("foo")).toBe("mzxw6");
    expect(enc("foob")).toBe("mzxw6yq");
    expect(enc("fooba")).toBe("mzxw6ytb");
    expect(enc("foobar")).toBe("mzxw6ytboi");
  });
  it("dag-pb puts links before data and an empty name in each link", () => {
    const cid = new Uint8Array(36).fill(7);
    const node = encodeDagPbNode([{ cid, tsize: 5 }], unixfsFileData(5, [5]));
    expect(node[0]).toBe(0x12); // field 2 (Links), length-delimited
    expect(node[1]).toBe(2 + 36 + 2 + 2);
    expect(Array.from(node.subarray(2, 4))).toEqual([0x0a, 36]); // Hash
    expect(Array.from(node.subarray(40, 44))).toEqual([0x12, 0x00, 0x18, 0x05]); // Name "", Tsize 5
    expect(Array.from(node.subarray(44))).toEqual([0x0a, 6, 0x08, 0x02, 0x18, 0x05, 0x20, 0x05]); // Data
  });
});

describe("computeCid", () => {
  it("matches the known CIDv1 of 'hello world'", async () => {
    expect(await computeCid(new TextEncoder().encode("hello world"))).toBe(
      "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    );
  });
  it("empty input is the raw CID of no bytes", async () => {
    expect(await computeCid(new Uint8Array(0))).toBe("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  });
  it("sha256Hex", async () => {
    expect(await sha256Hex(new TextEncoder().encode("abc"))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  // Fixed vectors (derived once from the oracle, kept so a change in either side is caught).
  const cases: Array<[string, number, string]> = [
    ["one full chunk", CHUNK_SIZE, "bafkreierpjrkadlhihj5ldqreukj6l4qt7cdjmjqfsod3tc54q2ulgsp3q"],
    ["one chunk plus one byte", CHUNK_SIZE + 1, "bafybeiahhuwpfsbmca2ktpx2y4nyis25k43rbs6uaeolr7okidaulzuooi"],
    ["three chunks and a tail", 3 * CHUNK_SIZE + 1000, "bafybeiamjiw5gcgbqiw6w25stmqfkknqdsirh5c7oupucxw6tjfwx3vr6a"],
    ["exactly 174 chunks", MAX_LINKS * CHUNK_SIZE, "bafybeiejfnjinuta7a75qyttb6byn3ll53by6jo34zb3da5b7wg5vuzzbi"],
    ["175 chunks (two levels)", MAX_LINKS * CHUNK_SIZE + 1, "bafybeiaqbzbnp4lgyxbxejwa6bx7vgfsq4iu63jcmw6emddgyymsajbgzi"],
  ];
  for (const [name, size, expected] of cases) {
    it(`multi-chunk vector: ${name}`, async () => {
      expect(await computeCid(pattern(size))).toBe(expected);
    }, 60_000);
  }
  it("agrees with the IPFS importer on odd sizes", async () => {
    for (const size of [1, 1000, 2 * CHUNK_SIZE, 5 * CHUNK_SIZE - 1]) {
      const data = pattern(size);
      expect(await computeCid(data)).toBe(await oracle(data));
    }
  }, 60_000);
});
