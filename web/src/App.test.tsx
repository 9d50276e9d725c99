import { describe, expect, it } from "vitest";
import { render, screen, waitFor, act } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import App from "./App";
import { doctorTokens, fakeApi } from "./test/fakeApi";

const patients = { items: [{ patientId: "p-1234567890abcdef", name: "Jane Roe", birthDate: "1970-04-01" }], bookmark: "" };

async function signIn(user = userEvent.setup()) {
  await user.type(await screen.findByLabelText(/Username/), "dr.house");
  await user.type(screen.getByLabelText(/Password/), "pw");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("App", () => {
  it("shows field errors, then a mapped problem on bad credentials", async () => {
    const { client } = fakeApi({
      "GET /auth/config": () => ({ body: {} }),
      "POST /auth/login": () => ({ status: 401, body: { status: 401, code: "invalid_credentials", title: "Unauthorized" } }),
    });
    const user = userEvent.setup();
    render(<App client={client} />);
    await user.click(await screen.findByRole("button", { name: "Sign in" }));
    expect(screen.getByText("Enter your username.")).toBeInTheDocument();
    await signIn(user);
    expect(await screen.findByText("The username or password is not correct.")).toBeInTheDocument();
  });

  it("signs a doctor in and validates the report form as they type", async () => {
    const { client } = fakeApi({
      "GET /auth/config": () => ({ body: {} }),
      "POST /auth/login": () => ({ body: doctorTokens }),
      "GET /patients": () => ({ body: patients }),
    });
    const user = userEvent.setup();
    render(<App client={client} />);
    await signIn(user);
    expect(await screen.findByRole("heading", { name: "New case report" })).toBeInTheDocument();
    expect(screen.getByTestId("whoami")).toHaveTextContent("Dr Gregory House");
    // validation as you type: a touched, then cleared, title shows its error immediately
    const title = screen.getByLabelText(/^Title/);
    await user.type(title, "x");
    await user.clear(title);
    expect(await screen.findByText("Title is required.")).toBeInTheDocument();
    await user.type(screen.getByLabelText(/^Report text/), "<script>alert(1)</script>");
    expect(screen.getByText("Report text must not contain HTML or script.")).toBeInTheDocument();
    // patient search and selection
    await user.click(await screen.findByRole("button", { name: "Select Jane Roe" }));
    expect(screen.getByTestId("selected-patient")).toHaveTextContent("Jane Roe");
    // no PHI in the URL
    expect(window.location.href).not.toMatch(/Jane|Roe|p-1234/);
  });

  it("signs out after inactivity", async () => {
    const { client, storage } = fakeApi({
      "GET /auth/config": () => ({ body: {} }),
      "POST /auth/login": () => ({ body: doctorTokens }),
      "GET /patients": () => ({ body: patients }),
      "POST /auth/logout": () => ({ status: 204 }),
    });
    render(<App client={client} idleMs={400} />);
    await signIn();
    await screen.findByRole("heading", { name: "New case report" });
    expect(storage.length).toBe(1);
    await waitFor(() => expect(screen.getByText("You were signed out after a period of inactivity.")).toBeInTheDocument(), { timeout: 3000 });
    expect(storage.length).toBe(0);
    await act(async () => {});
  });

  it("pages a patient's access log, newest first, until every access is shown", async () => {
    const patientTokens = { ...doctorTokens, user: { username: "alice", role: "patient", displayName: "Alice", patientId: "p-alice" } };
    const event = (n: number, extra: Record<string, unknown> = {}) => ({
      eventId: `e${n}`, txId: `e${n}`, kind: "read", actor: "dr.house", actorRole: "doctor", patientId: "p-alice",
      emergency: false, timestamp: `2026-01-01T00:00:${String(n).padStart(2, "0")}Z`, ...extra,
    });
    const { client, calls } = fakeApi({
      "GET /auth/config": () => ({ body: {} }),
      "POST /auth/login": () => ({ body: patientTokens }),
      "GET /patients/:id/reports": () => ({ body: { items: [], bookmark: "" } }),
      "GET /patients/:id/access-log": (_b, url) =>
        url.searchParams.get("bookmark") === "sealed-1"
          ? { body: { items: [event(1, { kind: "lookup", actor: "dr.grey" })], bookmark: "" } }
          : { body: { items: [event(3, { actor: "dr.who", emergency: true }), event(2)], bookmark: "sealed-1" } },
    });
    const user = userEvent.setup();
    render(<App client={client} />);
    await signIn(user);
    await user.click(await screen.findByRole("button", { name: "Who accessed my records" }));
    expect(await screen.findByText("dr.who")).toBeInTheDocument();
    expect(screen.queryByText("dr.grey")).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Show older accesses" }));
    expect(await screen.findByText("dr.grey")).toBeInTheDocument();
    expect(screen.getByText("Opened your patient record")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Show older accesses" })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.path.endsWith("/access-log")).length).toBe(2);
  });
});
