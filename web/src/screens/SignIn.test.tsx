import { beforeEach, describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import { SessionProvider } from "../lib/session";
import { OIDC_FLOW_KEY } from "../lib/oidc";
import { doctorTokens, fakeApi } from "../test/fakeApi";
import { SignIn } from "./SignIn";

const oidc = { issuer: "https://idp.example", authorizationEndpoint: "https://idp.example/auth", clientId: "medledger-web" };

describe("SignIn with an organisation", () => {
  beforeEach(() => {
    sessionStorage.clear();
    window.history.replaceState(null, "", "/");
  });

  it("shows the organisation button only when the server has a provider", async () => {
    const without = fakeApi({ "GET /auth/config": () => ({ body: {} }) });
    const { unmount } = render(<SessionProvider client={without.client}><SignIn /></SessionProvider>);
    await waitFor(() => expect(without.calls.some((c) => c.path === "/auth/config")).toBe(true));
    expect(screen.queryByRole("button", { name: "Sign in with your organisation" })).toBeNull();
    unmount();
    const withOidc = fakeApi({ "GET /auth/config": () => ({ body: { oidc } }) });
    render(<SessionProvider client={withOidc.client}><SignIn /></SessionProvider>);
    expect(await screen.findByRole("button", { name: "Sign in with your organisation" })).toBeInTheDocument();
  });

  it("redeems the provider's code once, removes it from the address bar, and signs in", async () => {
    sessionStorage.setItem(OIDC_FLOW_KEY, JSON.stringify({ state: "s1", nonce: "n1", verifier: "v".repeat(43), redirectUri: "http://localhost/" }));
    window.history.replaceState(null, "", "/?code=the-code&state=s1");
    const { client, calls } = fakeApi({
      "GET /auth/config": () => ({ body: { oidc } }),
      "POST /auth/oidc/token": () => ({ body: doctorTokens }),
    });
    render(<SessionProvider client={client}><SignIn /></SessionProvider>);
    await waitFor(() => expect(client.user?.username).toBe("dr.house"));
    expect(window.location.search).toBe("");
    const redeem = calls.filter((c) => c.path === "/auth/oidc/token");
    expect(redeem).toHaveLength(1);
    expect(redeem[0].body).toEqual({ code: "the-code", codeVerifier: "v".repeat(43), redirectUri: "http://localhost/", nonce: "n1" });
  });

  it("explains a refusal in plain words", async () => {
    sessionStorage.setItem(OIDC_FLOW_KEY, JSON.stringify({ state: "s1", nonce: "n1", verifier: "v", redirectUri: "http://localhost/" }));
    window.history.replaceState(null, "", "/?code=c&state=s1");
    const { client } = fakeApi({
      "GET /auth/config": () => ({ body: { oidc } }),
      "POST /auth/oidc/token": () => ({ status: 403, body: { status: 403, code: "oidc_user_unknown", title: "Forbidden" } }),
    });
    render(<SessionProvider client={client}><SignIn /></SessionProvider>);
    expect(await screen.findByRole("alert")).toHaveTextContent(/not enrolled|enroll/i);
  });
});
