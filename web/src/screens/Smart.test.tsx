import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SessionProvider } from "../lib/session";
import { fakeApi } from "../test/fakeApi";
import { SmartAuthorize, pendingAuthorization } from "./Smart";

const RID = "0123456789abcdef0123456789abcdef";

function consentApi(decision: (body: unknown) => { status?: number; body?: unknown }) {
  return fakeApi({
    "GET /oauth2/requests/:id": () => ({
      body: {
        appName: "My Reports App", clientId: "c1", redirectUri: "https://app.example/cb", scope: "launch/patient patient/DiagnosticReport.rs",
        scopes: [{ scope: "patient/DiagnosticReport.rs", description: "The app can read and search your medical reports." }],
        offlineAccess: false, patient: "p1",
      },
    }),
    "POST /oauth2/requests/:id/decision": decision,
  });
}

describe("SMART consent screen", () => {
  it("shows the app and what it asks in plain words; Approve sends the browser back with the answer", async () => {
    const { client, calls } = consentApi(() => ({ body: { redirectUri: "https://app.example/cb?code=abc&state=s" } }));
    const navigate = vi.fn();
    render(<SessionProvider client={client}><SmartAuthorize requestId={RID} navigate={navigate} /></SessionProvider>);
    expect(await screen.findByTestId("smart-app-name")).toHaveTextContent("My Reports App");
    expect(screen.getByRole("list", { name: "What the app asks for" })).toHaveTextContent("The app can read and search your medical reports.");
    expect(screen.getByText("app.example")).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole("button", { name: "Approve" }));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ approve: true });
    expect(navigate).toHaveBeenCalledWith("https://app.example/cb?code=abc&state=s");
  });

  it("Deny sends approve:false", async () => {
    const { client, calls } = consentApi(() => ({ body: { redirectUri: "https://app.example/cb?error=access_denied" } }));
    const navigate = vi.fn();
    render(<SessionProvider client={client}><SmartAuthorize requestId={RID} navigate={navigate} /></SessionProvider>);
    await userEvent.setup().click(await screen.findByRole("button", { name: "Deny" }));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ approve: false });
    expect(navigate).toHaveBeenCalledWith("https://app.example/cb?error=access_denied");
  });

  it("takes only a well-formed request id from /smart/authorize", () => {
    expect(pendingAuthorization({ pathname: "/smart/authorize", search: `?request=${RID}` })).toBe(RID);
    expect(pendingAuthorization({ pathname: "/smart/authorize", search: "?request=../x" })).toBeNull();
    expect(pendingAuthorization({ pathname: "/", search: `?request=${RID}` })).toBeNull();
  });
});
