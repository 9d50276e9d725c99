import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SessionProvider } from "../lib/session";
import { VerifyPanel } from "./Verify";
import { buildProofFile, ReceiptPanel } from "./Receipt";
import { fakeApi } from "../test/fakeApi";
import { fixtureBytes, fixtureText } from "../lib/receipt/testdata";

describe("VerifyPanel", () => {
  const receipt = JSON.parse(fixtureText("receipt.json"));
  const trust = JSON.parse(fixtureText("trust.json"));
  const routes = (over: Record<string, () => { status?: number; body?: unknown }> = {}) => ({
    "GET /reports/r1/receipt": () => ({ body: receipt }),
    "GET /log/trust.json": () => ({ body: trust }),
    "GET /reports/r1/document": () => ({ body: fixtureBytes("document.json") }),
    "GET /reports/r1/ciphertext": () => ({ body: fixtureBytes("ciphertext.bin") }),
    ...over,
  });
  const mem = () => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  };
  it("shows each check in plain language when the receipt verifies", async () => {
    const { client, calls } = fakeApi(routes());
    render(<SessionProvider client={client}><VerifyPanel reportId="r1" storage={mem()} /></SessionProvider>);
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("Verified: every check passed")).toBeInTheDocument();
    const list = screen.getByRole("list", { name: "Receipt checks" });
    expect(list).toHaveTextContent("Signed by Dr Gregory House at Org1MSP");
    expect(list).toHaveTextContent("Included in the hospital's public log at position 5 of 7");
    expect(list).toHaveTextContent("Witnessed by witness.example/w1");
    expect(list).toHaveTextContent(/Time-stamped by Test TSA Signer at/);
    expect(list).toHaveTextContent("Document matches");
    expect(screen.getByTestId("trust-pinned")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Download receipt" })).toBeInTheDocument();
    expect(calls.some((c) => c.path === "/reports/r1/proof")).toBe(false);
    expect(calls.find((c) => c.path === "/reports/r1/receipt")?.accept).toMatch(/^application\/vnd\.medledger\.receipt\+json/);
  });
  it("says NOT verified, naming the check, when the stored ciphertext differs", async () => {
    const bad = fixtureBytes("ciphertext.bin");
    bad[10] ^= 1;
    const { client } = fakeApi(routes({ "GET /reports/r1/ciphertext": () => ({ body: bad }) }));
    render(<SessionProvider client={client}><VerifyPanel reportId="r1" storage={mem()} /></SessionProvider>);
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText(/^NOT verified: 1 check failed/)).toBeInTheDocument();
    expect(screen.getByText("The stored encrypted copy does not match the receipt")).toBeInTheDocument();
  });
  it("warns loudly when the server's keys differ from the pinned ones", async () => {
    const storage = mem();
    const first = fakeApi(routes());
    const { unmount } = render(<SessionProvider client={first.client}><VerifyPanel reportId="r1" storage={storage} /></SessionProvider>);
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    await screen.findByText("Verified: every check passed");
    unmount();
    const second = fakeApi(routes({ "GET /log/trust.json": () => ({ body: { ...trust, minWitnesses: 0 } }) }));
    render(<SessionProvider client={second.client}><VerifyPanel reportId="r1" storage={storage} /></SessionProvider>);
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByTestId("trust-changed")).toHaveTextContent(/different keys/);
  });
  it("offers a retry when the receipt is not ready", async () => {
    const { client } = fakeApi(routes({ "GET /reports/r1/receipt": () => ({ status: 409, body: { status: 409, code: "receipt_not_ready" } }) }));
    render(<SessionProvider client={client}><VerifyPanel reportId="r1" storage={mem()} /></SessionProvider>);
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText(/not ready yet/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
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
