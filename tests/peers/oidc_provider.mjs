// A real OpenID Connect provider (the npm package oidc-provider) on 127.0.0.1 for the integration tests.
//
//   node oidc_provider.mjs --client-id ID --redirect-uri URI --accounts JSON [--ttl-seconds N] [--alg ES256|RS256|PS256]
//
// Prints "READY <issuer>" once listening on a free port, and exits when stdin closes or after --ttl-seconds
// (default 600), so a crashed test never leaves it behind. Accounts: {"<login>": {"role": "...", "name": "..."}}.
// ID tokens are signed with --alg (default ES256; RS256 is OpenID Connect's default and what most providers use),
// with preferred_username, name and medledger_role claims in the ID token.
//
// GET /__test/authorize?login=<account>&url=<authorization URL> plays the browser: it follows the authorization
// request through the provider's own login and consent interactions (with their cookies) and answers the final
// redirect URL (with code and state). It drives the real endpoints; nothing bypasses the provider.
import http from "node:http";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import Provider from "oidc-provider";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const accounts = JSON.parse(args.accounts ?? "{}");
const ttl = Number(args["ttl-seconds"] ?? 600);

const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const alg = args.alg ?? "ES256";
const keyPair = alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = keyPair.privateKey.export({ format: "jwk" });
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args["client-id"],
      token_endpoint_auth_method: "none",
      redirect_uris: [args["redirect-uri"]],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      id_token_signed_response_alg: alg,
    },
  ],
  jwks: { keys: [{ ...jwk, kid: randomUUID(), alg, use: "sig" }] },
  enabledJWA: { idTokenSigningAlgValues: [alg] },
  claims: { openid: ["sub"], profile: ["preferred_username", "name", "medledger_role"] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [randomUUID()] },
  async findAccount(ctx, id) {
    const a = accounts[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: `ext-${id}`, preferred_username: id, name: a.name ?? id, medledger_role: a.role };
      },
    };
  },
});
provider.proxy = false;

// The browser: follows redirects by hand with a cookie jar, posting the login and consent forms.
async function playBrowser(url, login) {
  const jar = new Map();
  const send = async (target, init = {}) => {
    const res = await fetch(new URL(target, issuer), {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers ?? {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  };
  let res = await send(url);
  for (let step = 0; step < 12; step++) {
    const location = res.headers.get("location");
    if (!location) throw new Error(`no redirect at step ${step}: ${res.status} ${await res.text()}`);
    const next = new URL(location, issuer);
    if (next.origin !== issuer) return next.toString(); // back at the client's redirect URI
    const interaction = next.pathname.match(/^\/interaction\/([^/]+)$/);
    if (!interaction) {
      res = await send(next);
      continue;
    }
    const page = await send(next);
    const html = await page.text();
    const prompt = html.includes('name="login"') ? "login" : "consent";
    const form = new URLSearchParams({ prompt, ...(prompt === "login" ? { login, password: "any" } : {}) });
    res = await send(next, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
  }
  throw new Error("too many redirects");
}

const callback = provider.callback();
server.on("request", async (req, res) => {
  if (req.url.startsWith("/__test/authorize")) {
    const q = new URL(req.url, issuer).searchParams;
    try {
      const location = await playBrowser(q.get("url"), q.get("login"));
      res.writeHead(200, { "content-type": "text/plain" }).end(location);
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(e?.stack ?? e));
    }
    return;
  }
  callback(req, res);
});

console.log(`READY ${issuer}`);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), ttl * 1000).unref();
