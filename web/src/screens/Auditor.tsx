import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { Button, Checkbox, Label } from "@heroui/react";
import { DefList, Empty, Field, Loading, Mono, Notice, Page, Panel, ProblemAlert, SelectField } from "../components/ui";
import { useApi } from "../lib/session";
import type { AccessEvent, LedgerVerify } from "../lib/types";
import type { AuditFilter } from "../lib/api";
import { auditLog, type LogAudit } from "../lib/logAudit";
import { Fingerprint } from "../components/ReceiptChecks";
import { EventTable, KIND_LABELS } from "./Patient";
import { Actor } from "../lib/directory";
import { useLoad } from "../lib/useLoad";

function useEvents(initial: AuditFilter) {
  const api = useApi();
  const [filter, setFilter] = useState<AuditFilter>(initial);
  const [pages, setPages] = useState<{ items: AccessEvent[]; bookmark?: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const load = async (f: AuditFilter, more = false) => {
    setLoading(true);
    setError(null);
    try {
      const p = await api.auditEvents({ ...f, bookmark: more ? pages?.bookmark : undefined });
      setPages((old) => ({ items: more && old ? [...old.items, ...p.items] : p.items, bookmark: p.bookmark || undefined }));
      setFilter(f);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  return { filter, pages, error, loading, load };
}

export function AuditEvents() {
  const ev = useEvents({});
  const [f, setF] = useState<AuditFilter>({});
  useEffect(() => {
    void ev.load({});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void ev.load(f);
  };
  return (
    <Page title="Audit events" subtitle="Accesses and ledger events, newest first.">
      <Panel title="Filters">
        <form onSubmit={submit} className="grid grid-cols-1 items-end gap-3 md:grid-cols-5" aria-label="Audit filters">
          <SelectField id="f-kind" label="Kind" value={f.kind ?? ""} onChange={(v) => setF((x) => ({ ...x, kind: v || undefined }))}
            options={Object.entries(KIND_LABELS).filter(([k]) => k !== "emergency_access").map(([value, label]) => ({ value, label }))} />
          <Field label="Actor (username)" value={f.actor ?? ""} onChange={(v) => setF((x) => ({ ...x, actor: v || undefined }))} />
          <Field label="Patient ID" value={f.patientId ?? ""} onChange={(v) => setF((x) => ({ ...x, patientId: v || undefined }))} />
          <Checkbox isSelected={!!f.emergencyOnly} onChange={(v) => setF((x) => ({ ...x, emergencyOnly: v }))} className="pb-2">
            <Checkbox.Control><Checkbox.Indicator /></Checkbox.Control>
            <Checkbox.Content><Label>Break-glass only</Label></Checkbox.Content>
          </Checkbox>
          <Button type="submit" className="bg-teal-700">Apply filters</Button>
        </form>
      </Panel>
      <ProblemAlert error={ev.error} title="Could not load audit events" />
      {ev.loading && !ev.pages && <Loading />}
      {ev.pages && (ev.pages.items.length === 0 ? <Empty title="No events match these filters" /> : <EventTable items={ev.pages.items} caption="Audit events" />)}
      {ev.pages?.bookmark && (
        <div>
          <Button variant="secondary" isDisabled={ev.loading} onPress={() => ev.load(ev.filter, true)}>Load more</Button>
        </div>
      )}
    </Page>
  );
}

/** An administrator who makes themselves a doctor and breaks the glass looks like this: a break-glass by an account
 * enrolled (or given its role) shortly before, or one whose enrolment the ledger never saw. Shown first and loudly. */
export function SuspiciousActors({ items }: { items: AccessEvent[] }) {
  const flagged = items.filter((e) => e.kind === "emergency" && (e.recentlyEnrolled || e.actorEnrollmentRecorded === false));
  if (flagged.length === 0) return null;
  return (
    <Notice status="danger" title={`${flagged.length} break-glass access${flagged.length > 1 ? "es" : ""} by a recently enrolled or unrecorded account`}>
      <ul className="list-disc pl-5" aria-label="Break-glass by recently enrolled accounts">
        {flagged.map((e) => (
          <li key={e.eventId}>
            <strong><Actor username={e.actor} msp={e.actorMsp} /></strong> broke the glass on report <Mono>{e.reportId ?? "?"}</Mono> at {new Date(e.timestamp).toLocaleString()}
            {e.recentlyEnrolled
              ? <> — enrolled {new Date(e.actorEnrolledAt ?? e.timestamp).toLocaleString()} by <strong>{e.actorEnrolledBy ?? "?"}</strong></>
              : <> — no enrolment of this account is on the ledger</>}
            {e.reasonErased ? " (reason erased)" : e.reason ? `: “${e.reason}”` : ""}
          </li>
        ))}
      </ul>
    </Notice>
  );
}

export function BreakGlassReview() {
  const api = useApi();
  const r = useLoad(() => api.auditEvents({ emergencyOnly: true, pageSize: 100 }), []);
  const items = r.data?.items ?? [];
  return (
    <Page title="Break-glass review" subtitle="Emergency accesses opened without the patient's consent. Check each stated reason.">
      {r.loading && <Loading />}
      <ProblemAlert error={r.error} title="Could not load emergency accesses" />
      {r.data && (items.length === 0 ? <Empty title="No emergency accesses to review" /> : (
        <>
          <Notice status="warning" title={`${items.length} emergency access${items.length > 1 ? "es" : ""} recorded`} />
          <SuspiciousActors items={items} />
          <EventTable items={items} caption="Emergency accesses" />
        </>
      ))}
    </Page>
  );
}

export function ChainStatus() {
  const api = useApi();
  const status = useLoad(() => api.ledgerStatus(), []);
  const [result, setResult] = useState<LedgerVerify | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.verifyLedger());
      status.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Ledger" subtitle="The hash-chained, signed blocks that record every report, consent and access.">
      <Panel title="Current state">
        {status.loading && <Loading />}
        <ProblemAlert error={status.error} title="Could not read the ledger status" />
        {status.data && (
          <DefList rows={[
            ["Height (blocks)", <Mono>{String(status.data.height)}</Mono>],
            ["Current block hash", <Mono>{status.data.currentHash}</Mono>, status.data.currentHash],
          ]} />
        )}
      </Panel>
      <PublicLogPanel />
      <Panel title="Chain verification">
        <div className="flex flex-col gap-3">
          <div className="flex items-center gap-3">
            <Button onPress={verify} isDisabled={busy} className="bg-teal-700">{busy ? "Verifying…" : "Verify the whole chain"}</Button>
            <span className="text-sm text-slate-600">Checks every block's hash link, signatures and transaction validation.</span>
          </div>
          <ProblemAlert error={error} title="Verification could not run" />
          <div aria-live="polite">
            {result?.ok && (
              <Notice status="success" title="Chain intact">
                {result.blocks} blocks and {result.transactions} transactions verified.
              </Notice>
            )}
            {result && !result.ok && (
              <Notice status="danger" title="Chain verification FAILED">
                {result.error ?? "The chain does not verify."} ({result.blocks} blocks checked)
              </Notice>
            )}
          </div>
        </div>
      </Panel>
    </Page>
  );
}

const browserStorage = (): Pick<Storage, "getItem" | "setItem"> | null => (typeof localStorage !== "undefined" ? localStorage : null);

/** The public report log: its newest checkpoint, checked in this browser against the organisation's pinned keys. */
export function PublicLogPanel({ storage = browserStorage() }: { storage?: Pick<Storage, "getItem" | "setItem"> | null }) {
  const api = useApi();
  const [audit, setAudit] = useState<LogAudit | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = async () => {
    if (!storage) return;
    setBusy(true);
    setError(null);
    try {
      setAudit(await auditLog(api, storage));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const c = audit?.consistency;
  return (
    <Panel title="Public log" actions={<Button size="sm" variant="secondary" isDisabled={busy} onPress={load}>{busy ? "Checking…" : "Check again"}</Button>}>
      <div className="flex flex-col gap-3" data-testid="public-log">
        {busy && !audit && <Loading />}
        <ProblemAlert error={error} title="Could not check the public log" />
        {audit && (
          <>
            {audit.trust.kind === "changed" && (
              <Notice status="danger" title="The server now presents different keys for this organisation">
                The keys remembered in this browser were used (fingerprint <Fingerprint hex={audit.trust.fingerprint} />).
              </Notice>
            )}
            {!audit.logSignatureOk && <Notice status="danger" title="The newest checkpoint is NOT signed by the organisation's log key" />}
            {c?.status === "inconsistent" && (
              <Notice status="danger" title="NOT consistent with the last checkpoint you saw">
                {c.detail}. Last seen: size {c.previous.size}, root <Mono>{c.previous.root}</Mono>. Keep this as evidence and report it.
              </Notice>
            )}
            {c?.status === "consistent" && <Notice status="success" title="Consistent with the last checkpoint you saw">{c.detail}.</Notice>}
            {c?.status === "same" && <Notice status="success" title="Unchanged since the last checkpoint you saw" />}
            {c?.status === "first" && <Notice status="accent" title="First checkpoint seen in this browser">{c.detail}.</Notice>}
            {c?.status === "unchecked" && <Notice status="warning" title="Consistency not checked">{c.detail}.</Notice>}
            <DefList rows={[
              ["Log", <Mono>{audit.origin}</Mono>],
              ["Entries", <><Mono>{String(audit.size)}</Mono>{audit.pending > 0 && <span className="text-sm text-slate-600"> (+{audit.pending} awaiting the next checkpoint)</span>}</>],
              ["Root hash", <Mono>{audit.rootHex}</Mono>, audit.rootHex],
              ["Log signature", audit.logSignatureOk ? "Valid (organisation's log key)" : "INVALID"],
              ["Witnesses", `${audit.validWitnesses} valid of ${audit.minWitnesses} required` + (audit.cosigners.length ? ": " + audit.cosigners.map((w) => `${w.name} (${w.status === "valid" ? `cosigned ${new Date(w.time * 1000).toISOString()}` : w.status === "unknown" ? "unknown witness, not counted" : "INVALID: " + w.reason})`).join(", ") : "")],
              ["Time-stamp", audit.timestamp.ok ? `${audit.timestamp.tsa} at ${audit.timestamp.genTime.toISOString()}` : `none valid: ${audit.timestamp.error}`],
              ...(audit.anchorTxId ? [["Anchored on the ledger in transaction", <Mono>{audit.anchorTxId}</Mono>, audit.anchorTxId] as [string, ReactNode, string]] : []),
            ]} />
          </>
        )}
      </div>
    </Panel>
  );
}
