import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { classify, OfflineVerifier } from "./OfflineVerifier";
import { fixtureBytes } from "../lib/receipt/testdata";

const file = (name: string, bytes: Uint8Array) => new File([bytes as Uint8Array<ArrayBuffer>], name);

describe("offline verifier page", () => {
  it("classifies dropped files by their format, not their name", () => {
    expect(classify(fixtureBytes("receipt.json"))).toBe("receipt");
    expect(classify(fixtureBytes("trust.json"))).toBe("trust");
    expect(classify(fixtureBytes("document.json"))).toBe("content");
    expect(classify(fixtureBytes("ciphertext.bin"))).toBe("content");
  });
  it("checks a receipt with the trust file and the document, showing the fingerprint and each check", async () => {
    render(<OfflineVerifier />);
    const check = screen.getByRole("button", { name: "Check the receipt" });
    expect(check).toBeDisabled();
    await userEvent.upload(screen.getByLabelText("Receipt (.json)"), file("r.json", fixtureBytes("receipt.json")));
    await userEvent.upload(screen.getByLabelText("Hospital's trust file (.json)"), file("t.json", fixtureBytes("trust.json")));
    await userEvent.upload(screen.getByLabelText("Document (optional)"), file("d.json", fixtureBytes("document.json")));
    expect(await screen.findByText(/Trust file fingerprint/)).toBeInTheDocument();
    await userEvent.click(check);
    expect(await screen.findByText("Verified: every check passed")).toBeInTheDocument();
    expect(screen.getByRole("list", { name: "Receipt checks" })).toHaveTextContent("Document matches");
  });
  it("says NOT verified for another document", async () => {
    render(<OfflineVerifier />);
    const doc = fixtureBytes("document.json");
    doc[5] ^= 1;
    await userEvent.upload(screen.getByLabelText("Receipt (.json)"), file("r.json", fixtureBytes("receipt.json")));
    await userEvent.upload(screen.getByLabelText("Hospital's trust file (.json)"), file("t.json", fixtureBytes("trust.json")));
    await userEvent.upload(screen.getByLabelText("Document (optional)"), file("d.json", doc));
    await userEvent.click(screen.getByRole("button", { name: "Check the receipt" }));
    expect(await screen.findByText(/^NOT verified: 1 check failed/)).toBeInTheDocument();
    expect(screen.getByText("The document does not match the receipt")).toBeInTheDocument();
  });
  it("accepts the CLI's trust directory instead of trust.json", async () => {
    const trust = JSON.parse(new TextDecoder().decode(fixtureBytes("trust.json")));
    const text = (name: string, t: string) => new File([t], name);
    render(<OfflineVerifier />);
    await userEvent.upload(screen.getByLabelText("Receipt (.json)"), file("r.json", fixtureBytes("receipt.json")));
    await userEvent.upload(screen.getByLabelText("Trust directory files"), [
      file("org-root.pem", fixtureBytes("org-root.pem")), file("orderer-root.pem", fixtureBytes("orderer-root.pem")),
      text("log.vkey", trust.logVkey + "\n"), text("witnesses.vkeys", trust.witnessVkeys.join("\n")), file("tsa-roots.pem", fixtureBytes("tsa-root.pem")),
    ]);
    expect(await screen.findByText(/Trust file fingerprint/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Check the receipt" }));
    expect(await screen.findByText("Verified: every check passed")).toBeInTheDocument();
  });
});
