import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SessionProvider } from "../lib/session";
import { VerifyPanel } from "./Verify";
import { ReceiptPanel } from "./Receipt";
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
  it("shows every proof field with a copy button", () => {
    render(<ReceiptPanel receipt={{ reportId: "r9", version: 1, cid: "bafy", contentHash: "ab", txId: "tx", blockNumber: 12, blockHash: "bh", timestamp: "2026-01-01T10:00:00Z" }} />);
    for (const label of ["Report ID", "Content ID (CID)", "Transaction ID", "Block number", "Block hash", "Recorded at"])
      expect(screen.getByRole("button", { name: `Copy ${label}` })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Download proof" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Print proof" })).toBeInTheDocument();
  });
});
