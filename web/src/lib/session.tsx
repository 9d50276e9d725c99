import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { api as defaultApi, type ApiClient } from "./api";
import type { OidcRedemption } from "./oidc";
import type { User } from "./types";

export const IDLE_TIMEOUT_MS = 15 * 60 * 1000;
export const IDLE_WARNING_MS = 60 * 1000;

interface SessionValue {
  api: ApiClient;
  user: User | null;
  ready: boolean;
  notice: string | null;
  login(username: string, password: string): Promise<void>;
  loginWithOidc(redemption: OidcRedemption): Promise<void>;
  logout(reason?: string): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error("useSession outside SessionProvider");
  return v;
}

export const useApi = () => useSession().api;

const REASONS: Record<string, string> = {
  idle: "You were signed out after a period of inactivity.",
  expired: "Your session has ended. Please sign in again.",
  manual: "You have signed out.",
};

export function SessionProvider({ children, client = defaultApi }: { children: ReactNode; client?: ApiClient }) {
  const [user, setUser] = useState<User | null>(client.user);
  const [ready, setReady] = useState(client.signedIn);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    const off = client.onSession((u, reason) => {
      setUser(u);
      if (!u && reason) setNotice(REASONS[reason] ?? null);
    });
    if (!client.signedIn) {
      client
        .resume()
        .then((u) => setUser(u))
        .finally(() => setReady(true));
    }
    return () => void off();
  }, [client]);

  const login = useCallback(
    async (username: string, password: string) => {
      const u = await client.login(username, password);
      setNotice(null);
      setUser(u);
    },
    [client],
  );
  const loginWithOidc = useCallback(
    async (redemption: OidcRedemption) => {
      const u = await client.loginWithOidc(redemption);
      setNotice(null);
      setUser(u);
    },
    [client],
  );
  const logout = useCallback((reason = "manual") => client.logout(reason), [client]);

  return (
    <SessionContext.Provider value={{ api: client, user, ready, notice, login, loginWithOidc, logout }}>{children}</SessionContext.Provider>
  );
}

/**
 * Signs the user out after `timeoutMs` without keyboard, pointer or scroll activity; `warning` turns
 * true `warnMs` before that so the UI can offer to stay signed in.
 */
export function useIdleLogout(active: boolean, onIdle: () => void, timeoutMs = IDLE_TIMEOUT_MS, warnMs = IDLE_WARNING_MS) {
  const [warning, setWarning] = useState(false);
  const timers = useRef<ReturnType<typeof setTimeout>[]>([]);
  const onIdleRef = useRef(onIdle);
  onIdleRef.current = onIdle;

  const arm = useCallback(() => {
    timers.current.forEach(clearTimeout);
    setWarning(false);
    timers.current = [
      setTimeout(() => setWarning(true), Math.max(0, timeoutMs - warnMs)),
      setTimeout(() => onIdleRef.current(), timeoutMs),
    ];
  }, [timeoutMs, warnMs]);

  useEffect(() => {
    if (!active) return;
    arm();
    let last = 0;
    const activity = () => {
      const now = Date.now();
      if (now - last < 1000) return; // throttle
      last = now;
      arm();
    };
    const events = ["pointerdown", "keydown", "wheel", "touchstart", "mousemove"] as const;
    events.forEach((e) => window.addEventListener(e, activity, { passive: true }));
    return () => {
      events.forEach((e) => window.removeEventListener(e, activity));
      timers.current.forEach(clearTimeout);
      setWarning(false);
    };
  }, [active, arm]);

  return { warning, stayActive: arm };
}
