import { useState, type FormEvent } from "react";
import { Button } from "@heroui/react";
import { Badge, Empty, Field, Loading, Mono, Notice, Page, Panel, ProblemAlert, Table } from "../components/ui";
import { useApi } from "../lib/session";
import { useLoad } from "../lib/useLoad";
import { formatDay } from "../lib/format";
import type { SmartApp } from "../lib/types";

/** The authorization request id when the page was opened by GET /oauth2/authorize (/smart/authorize?request=…). */
export function pendingAuthorization(location: Pick<Location, "pathname" | "search"> = window.location): string | null {
  if (location.pathname !== "/smart/authorize") return null;
  const id = new URLSearchParams(location.search).get("request");
  return id && /^[0-9a-f]{32}$/.test(id) ? id : null;
}

/** The SMART consent screen: which app asks for what, in plain words; Approve or Deny sends the browser back to the app. */
export function SmartAuthorize({ requestId, navigate = (url: string) => window.location.assign(url) }: { requestId: string; navigate?: (url: string) => void }) {
  const api = useApi();
  const request = useLoad(() => api.authorizationRequest(requestId), [requestId]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const decide = async (approve: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const { redirectUri } = await api.decideAuthorization(requestId, approve);
      navigate(redirectUri);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const r = request.data;
  return (
    <div className="min-h-screen bg-slate-50 px-4 py-10 text-slate-900">
      <div className="mx-auto max-w-lg">
        <Panel title="An app asks to use your records">
          {request.loading && <Loading />}
          <ProblemAlert error={request.error} title="This request cannot be shown (it may have expired; start again from the app)" />
          <ProblemAlert error={error} title="Your answer was not recorded" />
          {r && (
            <div className="flex flex-col gap-4">
              <p>
                <strong data-testid="smart-app-name">{r.appName}</strong> would like to connect to your medledger account.
              </p>
              {r.scopes.length === 0 ? (
                <Notice status="warning" title="Nothing this app asks for can be granted to your account." />
              ) : (
                <ul className="flex list-disc flex-col gap-1 pl-5" aria-label="What the app asks for">
                  {r.scopes.map((s) => (
                    <li key={s.scope}>{s.description}</li>
                  ))}
                </ul>
              )}
              {r.offlineAccess && <p className="text-sm text-slate-700">The app can keep this access after you close it, until you change your password.</p>}
              <p className="text-sm text-slate-600">
                After your answer you go back to <Mono>{new URL(r.redirectUri).host}</Mono>. Every read the app makes is recorded, as your own are.
              </p>
              <div className="flex gap-3">
                <Button className="bg-teal-700" isDisabled={busy || r.scopes.length === 0} onPress={() => void decide(true)}>Approve</Button>
                <Button variant="secondary" isDisabled={busy} onPress={() => void decide(false)}>Deny</Button>
              </div>
            </div>
          )}
        </Panel>
      </div>
    </div>
  );
}

/** Administrator: register and remove SMART on FHIR apps. */
export function AdminApps() {
  const api = useApi();
  const apps = useLoad(() => api.smartApps(), []);
  const [name, setName] = useState("");
  const [uris, setUris] = useState("");
  const [scope, setScope] = useState("launch/patient patient/*.rs offline_access");
  const [confidential, setConfidential] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<(SmartApp & { clientSecret?: string }) | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const redirectUris = uris.split(/\s+/).filter(Boolean);
      setCreated(await api.createSmartApp({ name: name.trim(), redirectUris, confidential, scope: scope.trim() }));
      setName("");
      setUris("");
      apps.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (clientId: string) => {
    setError(null);
    try {
      await api.deleteSmartApp(clientId);
      apps.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Page title="Apps" subtitle="SMART on FHIR apps that patients and clinicians may connect to their account.">
      <div className="grid grid-cols-1 items-start gap-5 lg:grid-cols-[minmax(0,24rem)_minmax(0,1fr)]">
        <Panel title="Register an app">
          <form onSubmit={(e) => void submit(e)} noValidate className="flex flex-col gap-4" aria-label="Register an app">
            {created && (
              <Notice title={`${created.name} is registered`}>
                Client ID <Mono>{created.clientId}</Mono>
                {created.clientSecret && <> · Client secret (shown once) <Mono>{created.clientSecret}</Mono></>}
              </Notice>
            )}
            <ProblemAlert error={error} title="The app was not registered" />
            <Field label="Name" value={name} onChange={setName} required />
            <Field label="Redirect URIs" value={uris} onChange={setUris} required multiline rows={3}
              description="One per line; https, or http on 127.0.0.1 / localhost. Matched exactly." />
            <Field label="Allowed scopes" value={scope} onChange={setScope} required
              description="SMART v2 scopes, e.g. patient/DiagnosticReport.rs user/*.rs launch/patient offline_access" />
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={confidential} onChange={(e) => setConfidential(e.target.checked)} />
              Confidential client (gets a secret; for apps with a server)
            </label>
            <Button type="submit" isDisabled={busy} className="bg-teal-700">{busy ? "Registering…" : "Register app"}</Button>
          </form>
        </Panel>
        <Panel title="Registered apps">
          {apps.loading && <Loading />}
          <ProblemAlert error={apps.error} title="Could not load apps" />
          {apps.data && (apps.data.items.length === 0 ? <Empty title="No apps registered" /> : (
            <Table caption="Registered apps" head={["Name", "Client ID", "Type", "Scopes", "Registered", ""]}>
              {apps.data.items.map((a) => (
                <tr key={a.clientId}>
                  <td className="px-3 py-2">{a.name}</td>
                  <td className="px-3 py-2 font-mono text-xs">{a.clientId}</td>
                  <td className="px-3 py-2"><Badge tone={a.confidential ? "info" : "neutral"}>{a.confidential ? "confidential" : "public"}</Badge></td>
                  <td className="px-3 py-2 font-mono text-xs">{a.scope}</td>
                  <td className="px-3 py-2">{formatDay(a.createdAt)}</td>
                  <td className="px-3 py-2"><Button size="sm" variant="secondary" onPress={() => void remove(a.clientId)}>Remove</Button></td>
                </tr>
              ))}
            </Table>
          ))}
        </Panel>
      </div>
    </Page>
  );
}
