import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import type { AccessEvent } from "../lib/types";
import { PublicLogPanel, SuspiciousActors } from "./Auditor";
import { SessionProvider } from "../lib/session";
import { fakeApi } from "../test/fakeApi";
import { fixtureText } from "../lib/receipt/testdata";
import { LAST_SEEN_KEY } from "../lib/logAudit";
import { parseCheckpoint, parseNote } from "../lib/receipt/note";
import { toBase64 } from "../lib/receipt/bytes";

const base: AccessEvent = {
  eventId: "e1",
  kind: "emergency",
  reportId: "r1",
  actor: "dr.new",
  timestamp: "2026-12-07T10:00:00.000Z",
  emergency: true,
};

describe("Break-glass review", () => {
  it("puts break-glass by a recently enrolled account first, naming who enrolled it", () => {
    render(
      <SuspiciousActors
        items={[
          { ...base, recentlyEnrolled: true, actorEnrollmentRecorded: true, actorEnrolledAt: "2026-12-07T09:55:00.000Z", actorEnrolledBy: "admin", reason: "patient collapsed" },
          { ...base, eventId: "e2", actor: "dr.old", recentlyEnrolled: false, actorEnrollmentRecorded: true },
        ]}
      />,
    );
    const list = screen.getByRole("list", { name: "Break-glass by recently enrolled accounts" });
    expect(list).toHaveTextContent("dr.new");
    expect(list).toHaveTextContent("by admin");
    expect(list).toHaveTextContent("patient collapsed");
    expect(list).not.toHaveTextContent("dr.old");
  });

  it("flags an account whose enrolment is not on the ledger, and shows nothing when all is ordinary", () => {
    const { unmount } = render(<SuspiciousActors items={[{ ...base, actor: "dr.ghost", actorEnrollmentRecorded: false }]} />);
    expect(screen.getByRole("list", { name: "Break-glass by recently enrolled accounts" })).toHaveTextContent("no enrolment of this account is on the ledger");
    unmount();
    const { container } = render(<SuspiciousActors items={[{ ...base, recentlyEnrolled: false, actorEnrollmentRecorded: true }]} />);
    expect(container).toBeEmptyDOMElement();
  });
});

describe("Public log panel", () => {
  const log = JSON.parse(fixtureText("log.json"));
  const trust = JSON.parse(fixtureText("trust.json"));
  const mem = () => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  };
  const routes = () => ({
    "GET /log/status": () => ({ body: log.status }),
    "GET /log/trust.json": () => ({ body: trust }),
    "GET /log/proof/consistency": () => ({ body: log.consistency }),
  });
  const remember = (note: string) => {
    const cp = parseCheckpoint(parseNote(note).text);
    return JSON.stringify({ origin: cp.origin, size: cp.size, root: toBase64(cp.root) });
  };
  it("shows the checkpoint, its witness and time-stamp, consistent with the one seen before", async () => {
    const storage = mem();
    storage.setItem(LAST_SEEN_KEY, remember(log.earlier));
    const { client, calls } = fakeApi(routes());
    render(<SessionProvider client={client}><PublicLogPanel storage={storage} /></SessionProvider>);
    expect(await screen.findByText("Consistent with the last checkpoint you saw")).toBeInTheDocument();
    const panel = screen.getByTestId("public-log");
    expect(panel).toHaveTextContent("medledger/Org1MSP/reports");
    expect(panel).toHaveTextContent("1 valid of 1 required: witness.example/w1");
    expect(panel).toHaveTextContent(/Test TSA Signer at \d{4}-/);
    expect(calls.find((c) => c.path === "/log/status")?.url).toBe("/api/v1/log/status");
    expect(calls.find((c) => c.path === "/log/trust.json")?.url).toBe("/log/trust.json");
    expect(calls.find((c) => c.path === "/log/proof/consistency")?.url).toBe("/api/v1/log/proof/consistency");
  });
  it("flags loudly a log that forked from the checkpoint seen before", async () => {
    const storage = mem();
    storage.setItem(LAST_SEEN_KEY, remember(log.forked));
    const { client } = fakeApi(routes());
    render(<SessionProvider client={client}><PublicLogPanel storage={storage} /></SessionProvider>);
    expect(await screen.findByText("NOT consistent with the last checkpoint you saw")).toBeInTheDocument();
  });
});
