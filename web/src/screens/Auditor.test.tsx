import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import type { AccessEvent } from "../lib/types";
import { SuspiciousActors } from "./Auditor";

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
