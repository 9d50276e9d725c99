import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SessionProvider } from "../lib/session";
import { VerifyPanel } from "./Verify";
import { buildProofFile, ReceiptPanel } from "./Receipt";
import { fakeApi } from "../test/fakeApi";

const enc = (s: string) => new TextEncoder().encode(s);

describe("VerifyPanel", () => {
  // "hello world" as both document and ciphertext: known SHA-256 and CID.
  const proof = {
    reportId: "r1", version: 1, txId: "tx1", blockNumber: 3,
    cid: "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    contentHash: "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
  };
  it("says Intact when the bytes match the proof", async () => {
    const { client } = fakeApi({
      "GET /reports/r1/proof": () => ({ body: proof }),
      "GET /reports/r1/document": () => ({ body: enc("hello world") }),
      "GET /reports/r1/ciphertext": () => ({ body: enc("hello world") }),
    });
    render(<SessionProvider client={client}><VerifyPanel reportId="r1" /></SessionProvider>);
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("Intact")).toBeInTheDocument();
  });
  it("says Tampered when the stored ciphertext differs", async () => {
    const { client } = fakeApi({
      "GET /reports/r1/proof": () => ({ body: proof }),
      "GET /reports/r1/document": () => ({ body: enc("hello world") }),
      "GET /reports/r1/ciphertext": () => ({ body: enc("hello World") }),
    });
    render(<SessionProvider client={client}><VerifyPanel reportId="r1" /></SessionProvider>);
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText(/^Tampered/)).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent(/ledger records bafkrei/);
  });
});

describe("ReceiptPanel", () => {
  const receipt = { reportId: "r9", version: 1, cid: "bafy", contentHash: "ab", txId: "tx", blockNumber: 12, blockHash: "bh", timestamp: "2026-01-01T10:00:00Z" };
  const ledgerProof = {
    reportId: "r9", version: 1, cid: "bafy", contentHash: "ab", txId: "tx", validationCode: "VALID", blockNumber: 12,
    blockHash: "bh", previousHash: "ph", dataHash: "dh", blockHeader: "aGVhZGVy", envelope: "ZW52", ordererSignature: "c2ln",
    creatorCertificate: "-----BEGIN CERTIFICATE-----\nMIIcreator\n-----END CERTIFICATE-----\n",
    endorserCertificate: "-----BEGIN CERTIFICATE-----\nMIIpeer\n-----END CERTIFICATE-----\n",
    ordererCertificate: "-----BEGIN CERTIFICATE-----\nMIIorderer\n-----END CERTIFICATE-----\n",
    caCertificate: "-----BEGIN CERTIFICATE-----\nMIIca\n-----END CERTIFICATE-----\n",
  };
  it("shows every proof field with a copy button", () => {
    const { client } = fakeApi({});
    render(<SessionProvider client={client}><ReceiptPanel receipt={receipt} /></SessionProvider>);
    for (const label of ["Report ID", "Content ID (CID)", "Transaction ID", "Block number", "Block hash", "Recorded at"])
      expect(screen.getByRole("button", { name: `Copy ${label}` })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Download proof" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Print proof" })).toBeInTheDocument();
  });
  it("builds a downloadable proof with the block, envelope, signatures and every certificate", async () => {
    const { client } = fakeApi({ "GET /reports/r9/proof": () => ({ body: ledgerProof }) });
    const file = await buildProofFile(client, receipt);
    expect(file.kind).toBe("medledger-archival-proof");
    expect(file.txId).toBe("tx");
    for (const k of ["creatorCertificate", "endorserCertificate", "ordererCertificate", "caCertificate"] as const)
      expect(file.ledgerProof[k]).toMatch(/BEGIN CERTIFICATE/);
    expect(file.ledgerProof.blockHeader).toBe("aGVhZGVy");
    expect(file.ledgerProof.envelope).toBe("ZW52");
  });
  it("refuses to pair a receipt with the proof of another transaction and says why", async () => {
    const { client } = fakeApi({ "GET /reports/r9/proof": () => ({ body: { ...ledgerProof, txId: "tx-newer", version: 2 } }) });
    await expect(buildProofFile(client, receipt)).rejects.toThrow(/newer version/);
    render(<SessionProvider client={client}><ReceiptPanel receipt={receipt} /></SessionProvider>);
    await userEvent.click(screen.getByRole("button", { name: "Download proof" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/newer version/);
  });
});
