import { useEffect, useState, type FormEvent } from "react";
import { Button } from "@heroui/react";
import { Field, Notice, ProblemAlert } from "../components/ui";
import { beginOidcSignIn, takeOidcCallback } from "../lib/oidc";
import { useSession } from "../lib/session";
import type { AuthConfig } from "../lib/types";

export function SignIn() {
  const { login, loginWithOidc, notice, api } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [config, setConfig] = useState<AuthConfig>({});

  useEffect(() => {
    api.authConfig().then(setConfig, () => setConfig({}));
  }, [api]);

  // Back from the organisation's sign-in page: take the code out of the address bar at once, then redeem it.
  useEffect(() => {
    const callback = takeOidcCallback(window.location.search, window.sessionStorage);
    if (callback.kind === "none") return;
    window.history.replaceState(null, "", window.location.pathname);
    if (callback.kind === "error") {
      setError(new Error(callback.message));
      return;
    }
    setBusy(true);
    loginWithOidc(callback.redemption)
      .catch(setError)
      .finally(() => setBusy(false));
  }, [loginWithOidc]);

  const signInWithOrganisation = async () => {
    if (!config.oidc) return;
    setError(null);
    const url = await beginOidcSignIn(config.oidc, window.location.origin + "/", window.sessionStorage);
    window.location.assign(url);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!username || !password) return;
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
    } catch (err) {
      setError(err);
      setPassword("");
    } finally {
      setBusy(false);
    }
  };

  const oidc = config.oidc;

  return (
    <main className="flex min-h-screen items-center justify-center bg-slate-100 px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <div className="mx-auto mb-2 flex h-10 w-10 items-center justify-center rounded-lg bg-teal-700 text-lg font-bold text-white" aria-hidden>
            M
          </div>
          <h1 className="text-2xl font-semibold text-slate-900">medledger</h1>
          <p className="text-sm text-slate-600">Secure medical records with a verifiable audit trail</p>
        </div>
        <form onSubmit={submit} noValidate className="flex flex-col gap-4 rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-label="Sign in">
          {notice && <Notice status="warning" title={notice} />}
          <ProblemAlert error={error} title="Sign-in failed" />
          <Field label="Username" name="username" value={username} onChange={setUsername} autoComplete="username" required autoFocus
            error={touched && !username ? "Enter your username." : undefined} />
          <Field label="Password" name="password" type="password" value={password} onChange={setPassword} autoComplete="current-password" required
            error={touched && !password ? "Enter your password." : undefined} />
          <Button type="submit" isDisabled={busy} className="w-full bg-teal-700">
            {busy ? "Signing in…" : "Sign in"}
          </Button>
          {oidc && (
            <Button type="button" variant="secondary" isDisabled={busy} className="w-full" onPress={signInWithOrganisation}>
              Sign in with your organisation
            </Button>
          )}
        </form>
        <p className="mt-4 text-center text-xs text-slate-500">For authorised clinical staff and patients. All access is recorded.</p>
      </div>
    </main>
  );
}
