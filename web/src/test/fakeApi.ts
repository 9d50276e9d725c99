import { ApiClient } from "../lib/api";

type Handler = (body: unknown, url: URL) => { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }>;

/** An ApiClient whose fetch is served by in-test route handlers ("GET /patients" -> handler). */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: Array<{ method: string; path: string; body: unknown; accept?: string; url: string }> = [];
  const store = new Map<string, string>();
  const storage = {
    getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k), clear: () => store.clear(), key: () => null, get length() { return store.size; },
  } as Storage;
  const f = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const method = init?.method ?? "GET";
    const path = url.pathname.replace(/^\/api\/v1/, "");
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path, body, accept: (init?.headers as Record<string, string> | undefined)?.Accept, url: url.pathname });
    const key = Object.keys(routes).find((k) => {
      const [m, p] = k.split(" ");
      return m === method && new RegExp("^" + p.replace(/:[a-z]+/gi, "[^/]+") + "$").test(path);
    });
    if (!key) return new Response(JSON.stringify({ status: 404, code: "not_found" }), { status: 404 });
    const r = await routes[key](body, url);
    const status = r.status ?? 200;
    if (ArrayBuffer.isView(r.body)) return new Response(Buffer.from(r.body as Uint8Array) as unknown as BodyInit, { status });
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status, headers: { "Content-Type": "application/json" } });
  };
  return { client: new ApiClient(f as typeof fetch, storage), calls, storage };
}

export const doctorTokens = {
  accessToken: "at", refreshToken: "rt", tokenType: "Bearer", expiresIn: 300,
  user: { username: "dr.house", role: "doctor", displayName: "Dr Gregory House" },
};
