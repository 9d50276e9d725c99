import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import App from "../App";
import { doctorTokens, fakeApi } from "../test/fakeApi";

const adminTokens = { ...doctorTokens, user: { username: "admin", role: "admin", displayName: "Ada Admin" } };
const RID = "0123456789abcdef0123456789abcdef";

function adminApi(erase: (body: unknown) => { status?: number; body?: unknown }) {
  return fakeApi({
    "GET /auth/config": () => ({ body: {} }),
    "POST /auth/login": () => ({ body: adminTokens }),
    "GET /patients": () => ({ body: { items: [], bookmark: "" } }),
    "POST /reports/:id/erasure": erase,
  });
}

async function openErasure(user: ReturnType<typeof userEvent.setup>) {
  await user.type(await screen.findByLabelText(/Username/), "admin");
  await user.type(screen.getByLabelText(/Password/), "pw");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return screen.findByRole("form", { name: "Erase a report" });
}

describe("Erase a report (administrator)", () => {
  it("erases only after the confirmation, with the reason code and the note", async () => {
    const { client, calls } = adminApi(() => ({
      body: { reportId: RID, reasonCode: "legal_order", txId: "ab".repeat(32), blockNumber: 12, erasedAt: "2026-06-01T08:00:00Z", keysDestroyed: 2 },
    }));
    const user = userEvent.setup();
    render(<App client={client} />);
    const form = await openErasure(user);
    const submit = within(form).getByRole("button", { name: "Erase report…" });
    expect(submit).toBeDisabled();

    await user.type(within(form).getByLabelText(/Report ID/), "not-an-id");
    expect(within(form).getByText("A report ID is 32 hexadecimal characters.")).toBeInTheDocument();
    await user.clear(within(form).getByLabelText(/Report ID/));
    await user.type(within(form).getByLabelText(/Report ID/), RID.toUpperCase());
    await user.selectOptions(within(form).getByLabelText(/Reason/), "legal_order");
    await user.type(within(form).getByLabelText(/Note/), "Court order 17/2026");
    await user.click(submit);

    // Nothing is sent until the administrator confirms; cancelling sends nothing.
    const dialog = await screen.findByRole("alertdialog", { name: "Confirm erasure" });
    expect(dialog).toHaveTextContent(RID);
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(calls.filter((c) => c.method === "POST" && c.path.endsWith("/erasure"))).toHaveLength(0);

    await user.click(submit);
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Erase for good" }));
    expect(await screen.findByText(`Report ${RID} is erased`)).toBeInTheDocument();
    const posts = calls.filter((c) => c.method === "POST" && c.path.endsWith("/erasure"));
    expect(posts).toHaveLength(1);
    expect(posts[0].path).toBe(`/reports/${RID}/erasure`);
    expect(posts[0].body).toEqual({ reason: "legal_order", note: "Court order 17/2026" });
  });

  it("shows the server's refusal", async () => {
    const { client } = adminApi(() => ({ status: 409, body: { status: 409, code: "already_erased", title: "Conflict", detail: "this report was erased before" } }));
    const user = userEvent.setup();
    render(<App client={client} />);
    const form = await openErasure(user);
    await user.type(within(form).getByLabelText(/Report ID/), RID);
    await user.selectOptions(within(form).getByLabelText(/Reason/), "patient_request");
    await user.click(within(form).getByRole("button", { name: "Erase report…" }));
    await user.click(within(await screen.findByRole("alertdialog")).getByRole("button", { name: "Erase for good" }));
    expect(await screen.findByText("The report was not erased")).toBeInTheDocument();
  });
});
