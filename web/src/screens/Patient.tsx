import { useMemo, useState, type FormEvent } from "react";
import { Button } from "@heroui/react";
import { ClinicianPicker } from "../components/ClinicianPicker";
import { ReportList } from "../components/ReportList";
import { Badge, Empty, Field, Loading, Notice, Page, Panel, ProblemAlert, Table } from "../components/ui";
import { Actor, useDirectory } from "../lib/directory";
import { useApi, useSession } from "../lib/session";
import type { AccessEvent } from "../lib/types";
import { validateConsent, type ConsentDraft } from "../lib/validation";
import { formatDate, formatDay } from "../lib/format";
import { useForm } from "../lib/useForm";
import { useLoad } from "../lib/useLoad";

function NoPatientLink() {
  return <Notice status="warning" title="Your account is not linked to a patient record">Ask the hospital's records office to link it.</Notice>;
}

export function MyRecords() {
  const api = useApi();
  const { user } = useSession();
  const pid = user?.patientId;
  const r = useLoad(() => (pid ? api.patientReports(pid) : Promise.resolve({ items: [] })), [pid]);
  if (!pid) return <Page title="My records"><NoPatientLink /></Page>;
  return (
    <Page title="My records" subtitle="Every report written about you. Open one to read it, see its versions and verify it.">
      {r.loading && <Loading />}
      <ProblemAlert error={r.error} title="Could not load your records" />
      {r.data && <ReportList items={r.data.items} emptyTitle="No reports yet" emptyText="Reports your doctors write will appear here." />}
    </Page>
  );
}

export const KIND_LABELS: Record<string, string> = {
  read: "Read a report",
  emergency: "Emergency (break-glass) access",
  emergency_access: "Emergency (break-glass) access",
  consent_granted: "Consent granted",
  consent_revoked: "Consent revoked",
  report_created: "Report created",
  report_amended: "Report amended",
  patient_registered: "Patient registered",
  lookup: "Opened your patient record",
  search: "Found you in a patient search",
  clinician_published: "Clinician published in the directory",
};

export const kindLabel = (k: string) => KIND_LABELS[k] ?? k.replace(/_/g, " ");

export function EventTable({ items: unsorted, caption }: { items: AccessEvent[]; caption: string }) {
  const items = [...unsorted].sort((a, b) => (b.timestamp ?? "").localeCompare(a.timestamp ?? ""));
  return (
    <Table caption={caption} head={["When", "Who", "What", "Why", "Report"]}>
      {items.map((e) => (
        <tr key={e.eventId} className={e.emergency ? "bg-red-50" : undefined} data-emergency={e.emergency ? "true" : undefined}>
          <td className="whitespace-nowrap px-3 py-2">{formatDate(e.timestamp)}</td>
          <td className="px-3 py-2">
            <Actor username={e.actor} msp={e.actorMsp} role={e.actorRole} />
          </td>
          <td className="px-3 py-2">
            {e.emergency ? <Badge tone="danger">⚠ {kindLabel(e.kind)}</Badge> : kindLabel(e.kind)}
          </td>
          <td className="px-3 py-2">{e.reason ?? e.purpose ?? "—"}</td>
          <td className="px-3 py-2 font-mono text-xs">{e.reportId ? e.reportId.slice(0, 12) : "—"}</td>
        </tr>
      ))}
    </Table>
  );
}

export function AccessLog() {
  const api = useApi();
  const { user } = useSession();
  const pid = user?.patientId;
  const r = useLoad(() => (pid ? api.accessLog(pid) : Promise.resolve({ items: [] as AccessEvent[], bookmark: "" })), [pid]);
  // Newest first from the server; older pages are appended as the patient asks for them.
  const [older, setOlder] = useState<{ items: AccessEvent[]; bookmark?: string; loading: boolean; error?: unknown }>({ items: [], loading: false });
  const bookmark = older.bookmark ?? r.data?.bookmark;
  const items = useMemo(() => [...(r.data?.items ?? []), ...older.items], [r.data, older.items]);
  const emergencies = items.filter((e) => e.emergency).length;
  const loadOlder = async () => {
    if (!pid || !bookmark) return;
    setOlder((o) => ({ ...o, loading: true, error: undefined }));
    try {
      const p = await api.accessLog(pid, bookmark);
      setOlder((o) => ({ items: [...o.items, ...p.items], bookmark: p.bookmark ?? "", loading: false }));
    } catch (error) {
      setOlder((o) => ({ ...o, loading: false, error }));
    }
  };
  if (!pid) return <Page title="Who accessed my records"><NoPatientLink /></Page>;
  return (
    <Page title="Who accessed my records" subtitle="Every access is recorded on the ledger and cannot be removed.">
      {emergencies > 0 && (
        <Notice status="danger" title={`${emergencies} emergency (break-glass) access${emergencies > 1 ? "es" : ""}`}>
          A clinician opened your record without your consent, stating an emergency. These accesses are reviewed by an auditor.
        </Notice>
      )}
      {r.loading && <Loading />}
      <ProblemAlert error={r.error ?? older.error} title="Could not load the access log" />
      {r.data && (items.length === 0 ? <Empty title="No one has accessed your records yet" /> : <EventTable items={items} caption="Access log" />)}
      {r.data && bookmark && (
        <div className="mt-3">
          <Button variant="secondary" isDisabled={older.loading} onPress={() => void loadOlder()}>Show older accesses</Button>
        </div>
      )}
    </Page>
  );
}

function inDays(n: number) {
  const d = new Date();
  d.setDate(d.getDate() + n);
  return d.toISOString().slice(0, 10);
}

export function ConsentScreen() {
  const api = useApi();
  const { user } = useSession();
  const pid = user?.patientId;
  const consents = useLoad(() => (pid ? api.consents(pid) : Promise.resolve({ items: [] })), [pid]);
  const dir = useDirectory();
  // Client errors appear from the first submit on, not while typing, as this form has always shown them.
  const form = useForm<ConsentDraft>({ doctor: "", purpose: "Treatment", expiresAt: inDays(90) }, validateConsent, { touchOnChange: false });
  const { values: d, show: err, error, setError, busy } = form;
  const [done, setDone] = useState<string | null>(null);
  // A consent's doctor is "<MSP>/<username>" when chosen from the directory, a bare username for this hospital.
  const doctorName = (doctor: string, msp?: string) => {
    const slash = doctor.indexOf("/");
    const [m, u] = slash >= 0 ? [doctor.slice(0, slash), doctor.slice(slash + 1)] : [msp, doctor];
    const name = dir.nameOf(u, m) ?? u;
    return m ? `${name} (${dir.hospital(m)})` : name;
  };

  if (!pid) return <Page title="Sharing and consent"><NoPatientLink /></Page>;

  const grant = (e: FormEvent) => {
    e.preventDefault();
    void form.submit(async (d) => {
      setDone(null);
      await api.grantConsent(pid, { doctor: d.doctor, purpose: d.purpose.trim(), expiresAt: new Date(d.expiresAt + "T23:59:59Z").toISOString() });
      setDone(`${doctorName(d.doctor)} can now see your records until ${formatDay(d.expiresAt)}.`);
      // Purpose and expiry usually carry over to the next doctor.
      form.reset({ ...d, doctor: "" });
      consents.reload();
    });
  };
  const revoke = async (consentId: string, doctor: string, msp?: string) => {
    setError(null);
    setDone(null);
    try {
      await api.revokeConsent(pid, consentId);
      setDone(`${doctorName(doctor, msp)} can no longer see your records.`);
      consents.reload();
    } catch (x) {
      setError(x);
    }
  };
  const now = Date.now();
  const active = (consents.data?.items ?? []).filter((c) => !c.revoked && Date.parse(c.expiresAt) > now);
  const past = (consents.data?.items ?? []).filter((c) => c.revoked || Date.parse(c.expiresAt) <= now);

  return (
    <Page title="Sharing and consent" subtitle="Choose which doctors may read your records, for what purpose and until when.">
      {done && <Notice title={done} />}
      <ProblemAlert error={error} title="The change was not saved" />
      <div className="grid grid-cols-1 items-start gap-5 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
        <Panel title="Give a doctor access">
          <form onSubmit={grant} noValidate className="flex flex-col gap-4" aria-label="Grant consent">
            <ClinicianPicker value={d.doctor} error={err("doctor")} onChange={(v) => form.set("doctor", v)} />
            <Field label="Purpose" value={d.purpose} onChange={(v) => form.set("purpose", v)} required error={err("purpose")} />
            <Field label="Access until" type="date" value={d.expiresAt} onChange={(v) => form.set("expiresAt", v)} required error={err("expiresAt")} />
            <Button type="submit" isDisabled={busy} className="bg-teal-700">{busy ? "Saving…" : "Grant access"}</Button>
          </form>
        </Panel>
        <Panel title="Doctors who can see your records">
          {consents.loading && <Loading />}
          <ProblemAlert error={consents.error} title="Could not load your consents" />
          {consents.data && active.length === 0 && <Empty title="No one else has access">Only the doctors who wrote your reports can read them.</Empty>}
          {active.length > 0 && (
            <Table caption="Active consents" head={["Doctor", "Purpose", "Until", ""]}>
              {active.map((c) => (
                <tr key={c.consentId}>
                  <td className="px-3 py-2 font-medium">
                    <Actor username={c.doctor} msp={c.doctorMsp} />
                  </td>
                  <td className="px-3 py-2">{c.purpose}</td>
                  <td className="px-3 py-2">{formatDay(c.expiresAt)}</td>
                  <td className="px-3 py-2 text-right">
                    <Button size="sm" variant="danger-soft" onPress={() => revoke(c.consentId, c.doctor, c.doctorMsp)} aria-label={`Revoke access for ${doctorName(c.doctor, c.doctorMsp)}`}>Revoke</Button>
                  </td>
                </tr>
              ))}
            </Table>
          )}
          {past.length > 0 && (
            <details className="mt-4 text-sm">
              <summary className="cursor-pointer text-slate-700">Past consents ({past.length})</summary>
              <ul className="mt-2 flex flex-col gap-1 text-slate-700">
                {past.map((c) => (
                  <li key={c.consentId}>
                    {doctorName(c.doctor, c.doctorMsp)} — {c.purpose} — {c.revoked ? `revoked ${formatDate(c.revokedAt)}` : `expired ${formatDay(c.expiresAt)}`}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </Panel>
      </div>
    </Page>
  );
}
