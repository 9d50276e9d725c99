import { createHash } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { beginOidcSignIn, OIDC_FLOW_KEY, pkceChallenge, takeOidcCallback } from "./oidc";

const cfg = { issuer: "https://idp.example", authorizationEndpoint: "https://idp.example/auth", clientId: "medledger-web" };

describe("OIDC sign-in (authorization code + PKCE)", () => {
  beforeEach(() => sessionStorage.clear());

  it("computes the S256 challenge as base64url(SHA-256(verifier)), checked against Node's own crypto", async () => {
    for (const verifier of ["dBjftJeZ4CVP-mJ92K9DFxBsYBOhbrOmwY7rLVx1TC8", "a".repeat(128), "x-._~"]) {
      const expected = createHash("sha256").update(verifier).digest("base64url");
      expect(await pkceChallenge(verifier)).toBe(expected);
    }
  });

  it("sends the browser with a fresh state, nonce and S256 challenge of the remembered verifier", async () => {
    const url = new URL(await beginOidcSignIn(cfg, "https://app.example/", sessionStorage));
    const flow = JSON.parse(sessionStorage.getItem(OIDC_FLOW_KEY)!);
    expect(url.origin + url.pathname).toBe("https://idp.example/auth");
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("client_id")).toBe("medledger-web");
    expect(url.searchParams.get("redirect_uri")).toBe("https://app.example/");
    expect(url.searchParams.get("state")).toBe(flow.state);
    expect(url.searchParams.get("nonce")).toBe(flow.nonce);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toBe(await pkceChallenge(flow.verifier));
    expect(flow.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = new URL(await beginOidcSignIn(cfg, "https://app.example/", sessionStorage));
    expect(again.searchParams.get("state")).not.toBe(url.searchParams.get("state"));
  });

  it("redeems a callback with the matching state once, and consumes the flow", async () => {
    const url = new URL(await beginOidcSignIn(cfg, "https://app.example/", sessionStorage));
    const state = url.searchParams.get("state")!;
    const r = takeOidcCallback(`?code=abc&state=${state}`, sessionStorage);
    expect(r.kind).toBe("redeem");
    if (r.kind === "redeem") {
      expect(r.redemption.code).toBe("abc");
      expect(r.redemption.nonce).toBe(url.searchParams.get("nonce"));
      expect(r.redemption.redirectUri).toBe("https://app.example/");
    }
    expect(sessionStorage.getItem(OIDC_FLOW_KEY)).toBeNull();
    expect(takeOidcCallback(`?code=abc&state=${state}`, sessionStorage).kind).toBe("error");
  });

  it("refuses a foreign state, reports provider errors, and ignores ordinary pages", async () => {
    expect(takeOidcCallback("", sessionStorage).kind).toBe("none");
    await beginOidcSignIn(cfg, "https://app.example/", sessionStorage);
    const forged = takeOidcCallback("?code=abc&state=attacker", sessionStorage);
    expect(forged).toEqual({ kind: "error", message: expect.stringMatching(/did not start in this browser tab/) });
    const url = new URL(await beginOidcSignIn(cfg, "https://app.example/", sessionStorage));
    const denied = takeOidcCallback(`?error=access_denied&error_description=End-User+aborted&state=${url.searchParams.get("state")}`, sessionStorage);
    expect(denied).toEqual({ kind: "error", message: "Your organisation did not sign you in: End-User aborted" });
  });
});
