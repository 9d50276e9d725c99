/**
 * "Sign in with your organisation": the browser half of the OpenID Connect authorization-code flow with PKCE
 * (RFC 7636). The verifier, state and nonce live in sessionStorage only for the round trip to the provider and
 * are removed as soon as the provider sends the browser back; the server redeems the code (docs/SERVER.md).
 */
export const OIDC_FLOW_KEY = "medledger.oidc.flow";

export interface OidcProviderConfig {
  issuer: string;
  authorizationEndpoint: string;
  clientId: string;
  scope?: string;
}

export interface OidcRedemption {
  code: string;
  codeVerifier: string;
  redirectUri: string;
  nonce: string;
}

interface PendingFlow {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomToken(bytes = 32): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return base64url(buf);
}

export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Remembers a fresh flow and returns the provider URL to send the browser to. */
export async function beginOidcSignIn(cfg: OidcProviderConfig, redirectUri: string, storage: Storage): Promise<string> {
  const flow: PendingFlow = { state: randomToken(16), nonce: randomToken(16), verifier: randomToken(32), redirectUri };
  storage.setItem(OIDC_FLOW_KEY, JSON.stringify(flow));
  const params = new URLSearchParams({
    client_id: cfg.clientId,
    response_type: "code",
    scope: cfg.scope ?? "openid profile",
    redirect_uri: redirectUri,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await pkceChallenge(flow.verifier),
    code_challenge_method: "S256",
  });
  return `${cfg.authorizationEndpoint}?${params}`;
}

export type OidcCallback = { kind: "none" } | { kind: "redeem"; redemption: OidcRedemption } | { kind: "error"; message: string };

/**
 * Reads the provider's answer from the page's query string. The pending flow is consumed whatever happens, so
 * a code can be tried once; a state that does not match the one this tab sent is refused (login CSRF).
 */
export function takeOidcCallback(search: string, storage: Storage): OidcCallback {
  const q = new URLSearchParams(search);
  const code = q.get("code");
  const error = q.get("error");
  if (!code && !error) return { kind: "none" };
  const saved = storage.getItem(OIDC_FLOW_KEY);
  storage.removeItem(OIDC_FLOW_KEY);
  let flow: PendingFlow | null = null;
  try {
    flow = saved ? (JSON.parse(saved) as PendingFlow) : null;
  } catch {
    flow = null;
  }
  if (!flow || q.get("state") !== flow.state) {
    return { kind: "error", message: "This sign-in did not start in this browser tab. Please try again." };
  }
  if (error) {
    const reason = q.get("error_description");
    return { kind: "error", message: `Your organisation did not sign you in${reason ? `: ${reason}` : "."}` };
  }
  return { kind: "redeem", redemption: { code: code!, codeVerifier: flow.verifier, redirectUri: flow.redirectUri, nonce: flow.nonce } };
}
