// @vitest-environment node
import { describe, expect, it } from "vitest";
import * as pb from "./protobuf";
import { fromBase64 } from "./bytes";
import { fixtureText } from "./testdata";

const receipt = JSON.parse(fixtureText("receipt.json"));

describe("protobuf", () => {
  it("reads varints, bytes and fixed fields, last singular field winning", () => {
    const f = pb.readFields(Uint8Array.of(0x08, 0x96, 0x01, 0x12, 0x02, 0x61, 0x62, 0x1d, 1, 2, 3, 4, 0x08, 0x05));
    expect(f.map((x) => x.num)).toEqual([1, 2, 3, 1]);
    expect(pb.decodeBlockHeader(Uint8Array.of(0x08, 0x96, 0x01, 0x08, 0x07)).number).toBe(7n);
  });
  it("refuses truncated input, overlong lengths, groups and field 0", () => {
    expect(() => pb.readFields(Uint8Array.of(0x08))).toThrow(/truncated/);
    expect(() => pb.readFields(Uint8Array.of(0x12, 0x05, 0x61))).toThrow(/past the end/);
    expect(() => pb.readFields(Uint8Array.of(0x12, 0xff, 0xff, 0xff, 0xff, 0x0f))).toThrow(/past the end/);
    expect(() => pb.readFields(Uint8Array.of(0x0b))).toThrow(/wire type/);
    expect(() => pb.readFields(Uint8Array.of(0x00, 0x00))).toThrow(/field number/);
    expect(() => pb.readFields(Uint8Array.of(0x08, ...new Array(11).fill(0xff)))).toThrow(/too long/);
    expect(() => pb.decodeEnvelope(Uint8Array.of(0x08, 0x01))).toThrow(/expected bytes/);
  });
  it("decodes a Fabric envelope down to the chaincode event, keeping the signed bytes", () => {
    const env = pb.decodeEnvelope(fromBase64(receipt.ledger.envelope));
    const payload = pb.decodePayload(env.payload);
    const ch = pb.decodeChannelHeader(payload.header.channelHeader);
    expect(ch).toMatchObject({ type: 3, channelId: "records", txId: receipt.ledger.txId });
    expect(pb.timestampToRfc3339(ch.timestamp!)).toBe(receipt.leaf.fields.ledgerTime);
    const sh = pb.decodeSignatureHeader(payload.header.signatureHeader);
    expect(pb.decodeSerializedIdentity(sh.creator).mspId).toBe("Org1MSP");
    const [action] = pb.decodeTransaction(payload.data);
    const cap = pb.decodeChaincodeActionPayload(action.payload);
    expect(cap.endorsements).toHaveLength(1);
    const ev = pb.decodeChaincodeEvent(pb.decodeChaincodeAction(pb.decodeProposalResponsePayload(cap.proposalResponsePayload).extension).events);
    expect(ev.eventName).toBe("ReportCreated");
    expect(JSON.parse(new TextDecoder().decode(ev.payload)).reportId).toBe(receipt.leaf.fields.reportId);
    const ms = pb.decodeMetadataSignature(fromBase64(receipt.ledger.blockSignature));
    expect(pb.decodeSerializedIdentity(pb.decodeSignatureHeader(ms.signatureHeader).creator).mspId).toBe("OrdererMSP");
    expect(pb.decodeBlockHeader(fromBase64(receipt.ledger.blockHeader)).number).toBe(7n);
  });
});
