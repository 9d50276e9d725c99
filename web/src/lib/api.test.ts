import { describe, expect, it, vi } from "vitest";
import { ApiClient, REFRESH_KEY } from "./api";
import { ApiError } from "./problems";

const user = { username: "dr.a", role: "doctor", displayName: "Dr A" };
const tokens = (n: number) => ({ accessToken: `at${n}`, refreshToken: `rt${n}`, tokenType: "Bearer", expiresIn: 300, user });

function json(status: number, body: unknown, type = "application/json") {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { "Content-Type": type } });
}

function memStorage(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k),
    clear: () => m.clear(), key: () => null, get length() { return m.size; },
  };
}

describe("ApiClient", () => {
  it("logs in, keeps the access token in memory and only the refresh token in storage", async () => {
    const f = vi.fn(async () => json(200, tokens(1)));
    const storage = memStorage();
    const c = new ApiClient(f as unknown as typeof fetch, storage);
    expect(await c.login("dr.a", "pw")).toEqual(user);
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/auth/login");
    expect(JSON.parse(init.body as string)).toEqual({ username: "dr.a", password: "pw" });
    expect(storage.getItem(REFRESH_KEY)).toBe("rt1");
    expect(storage.length).toBe(1);
  });

  it("sends the bearer token and throws ApiError with the mapped message", async () => {
    const f = vi.fn()
      .mockResolvedValueOnce(json(200, tokens(1)))
      .mockResolvedValueOnce(json(403, { status: 403, code: "no_consent", title: "Forbidden" }, "application/problem+json"));
    const c = new ApiClient(f as unknown as typeof fetch, memStorage());
    await c.login("dr.a", "pw");
    const err = await c.report("r1").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe("no_consent");
    expect(err.message).toMatch(/not given you access/);
    const init = f.mock.calls[1][1] as RequestInit;
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer at1");
  });

  it("refreshes once on 401 and retries with the new token", async () => {
    const f = vi.fn()
      .mockResolvedValueOnce(json(200, tokens(1)))
      .mockResolvedValueOnce(json(401, { status: 401, code: "token_expired" }))
      .mockResolvedValueOnce(json(200, tokens(2)))
      .mockResolvedValueOnce(json(200, { items: [], bookmark: "" }));
    const storage = memStorage();
    const c = new ApiClient(f as unknown as typeof fetch, storage);
    await c.login("dr.a", "pw");
    expect(await c.patients("smith")).toEqual({ items: [], bookmark: "" });
    expect(f.mock.calls[2][0]).toBe("/api/v1/auth/refresh");
    expect(JSON.parse((f.mock.calls[2][1] as RequestInit).body as string)).toEqual({ refreshToken: "rt1" });
    expect(f.mock.calls[3][0]).toBe("/api/v1/patients?query=smith&pageSize=20");
    expect(((f.mock.calls[3][1] as RequestInit).headers as Record<string, string>).Authorization).toBe("Bearer at2");
    expect(storage.getItem(REFRESH_KEY)).toBe("rt2");
  });

  it("signs out when the refresh token is refused", async () => {
    const f = vi.fn()
      .mockResolvedValueOnce(json(200, tokens(1)))
      .mockResolvedValueOnce(json(401, { status: 401, code: "token_expired" }))
      .mockResolvedValueOnce(json(401, { status: 401, code: "invalid_refresh_token" }));
    const storage = memStorage();
    const c = new ApiClient(f as unknown as typeof fetch, storage);
    const events: Array<[unknown, unknown]> = [];
    c.onSession((u, r) => events.push([u, r]));
    await c.login("dr.a", "pw");
    await expect(c.me()).rejects.toBeInstanceOf(ApiError);
    expect(c.signedIn).toBe(false);
    expect(storage.getItem(REFRESH_KEY)).toBeNull();
    expect(events.at(-1)).toEqual([null, "expired"]);
  });

  it("resumes a session from the stored refresh token", async () => {
    const storage = memStorage();
    storage.setItem(REFRESH_KEY, "rt9");
    const f = vi.fn(async () => json(200, tokens(10)));
    const c = new ApiClient(f as unknown as typeof fetch, storage);
    expect(await c.resume()).toEqual(user);
    expect(c.signedIn).toBe(true);
  });

  it("deduplicates concurrent refreshes", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const f = vi.fn(async (url: string) => {
      if (url.endsWith("/auth/refresh")) {
        await gate;
        return json(200, tokens(3));
      }
      return json(200, tokens(1));
    });
    const c = new ApiClient(f as unknown as typeof fetch, memStorage());
    await c.login("dr.a", "pw");
    const a = c.refresh();
    const b = c.refresh();
    release();
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(f.mock.calls.filter((x) => String(x[0]).endsWith("/auth/refresh"))).toHaveLength(1);
  });

  it("reports network failures as a problem", async () => {
    const c = new ApiClient((async () => { throw new TypeError("failed"); }) as unknown as typeof fetch, memStorage());
    const err = await c.login("a", "b").catch((e) => e);
    expect(err.code).toBe("network_error");
  });

  it("logout clears tokens and tells the server", async () => {
    const f = vi.fn().mockResolvedValueOnce(json(200, tokens(1))).mockResolvedValueOnce(json(204, undefined));
    const storage = memStorage();
    const c = new ApiClient(f as unknown as typeof fetch, storage);
    await c.login("dr.a", "pw");
    await c.logout();
    expect(c.signedIn).toBe(false);
    expect(storage.length).toBe(0);
    expect(f.mock.calls[1][0]).toBe("/api/v1/auth/logout");
  });
});
