import { useEffect, useState } from "react";
import { Button } from "@heroui/react";
import { PatientPicker } from "../components/PatientPicker";
import { ReportList } from "../components/ReportList";
import { Badge, Empty, Field, Loading, Mono, Page, Panel, ProblemAlert, Table } from "../components/ui";
import { useDirectory } from "../lib/directory";
import { useApi, useSession } from "../lib/session";
import { useNav } from "../lib/nav";
import type { Patient, ReportSummary, SharedConsent } from "../lib/types";
import { sessionReceipts } from "./NewReport";
import { formatDate, formatDay } from "../lib/format";
import { useLoad } from "../lib/useLoad";

function PatientReports({ patient, onlyMine }: { patient: Patient; onlyMine?: boolean }) {
  const api = useApi();
  const { user } = useSession();
  const r = useLoad(() => api.patientReports(patient.patientId), [patient.patientId]);
  const items = (r.data?.items ?? []).filter((x) => !onlyMine || x.author === user?.username);
  return (
    <Panel title={`Reports — ${patient.name}`} actions={<Button size="sm" variant="ghost" onPress={r.reload}>Refresh</Button>}>
      <p className="mb-3 text-sm text-slate-600">Born {formatDay(patient.birthDate)}</p>
      {r.loading && <Loading />}
      <ProblemAlert error={r.error} title="Could not load the reports" />
      {r.data && (
        <ReportList
          items={items}
          highlightAuthor={user?.username}
          emptyTitle={onlyMine ? "You have no reports for this patient" : "No reports you may see"}
          emptyText={onlyMine ? undefined : "You see reports you wrote and those the patient has consented to share with you."}
        />
      )}
    </Panel>
  );
}

function OpenById() {
  const { go } = useNav();
  const [id, setId] = useState("");
  return (
    <form
      aria-label="Open a report by ID"
      className="flex flex-col gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        if (id.trim()) go({ screen: "report", reportId: id.trim() });
      }}
    >
      <Field label="Report ID" value={id} onChange={setId} description="Open a specific report, e.g. one referred to you. Without consent you can request emergency access." />
      <div>
        <Button type="submit" size="sm" variant="secondary">Open report</Button>
      </div>
    </form>
  );
}

export function DoctorPatients() {
  const [patient, setPatient] = useState<Patient | null>(null);
  return (
    <Page title="Patients" subtitle="Find a patient to see the reports you may access.">
      <div className="grid grid-cols-1 items-start gap-5 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
        <div className="flex flex-col gap-5">
          <Panel title="Find a patient">
            <PatientPicker onPick={setPatient} selected={patient} actionLabel="Open" />
          </Panel>
          <Panel title="Open a report by ID">
            <OpenById />
          </Panel>
        </div>
        {patient ? <PatientReports patient={patient} /> : <Empty title="No patient selected">Search on the left and choose a patient.</Empty>}
      </div>
    </Page>
  );
}

export function MyReports() {
  const { go } = useNav();
  const [patient, setPatient] = useState<Patient | null>(null);
  return (
    <Page title="My reports" subtitle="Reports you submitted in this session, and your reports for any patient.">
      <Panel title="Submitted in this session">
        {sessionReceipts.length === 0 ? (
          <Empty title="Nothing submitted in this session yet" />
        ) : (
          <Table caption="Reports submitted in this session" head={["Title", "Recorded", "Block", "Report ID", ""]}>
            {sessionReceipts.map((r) => (
              <tr key={r.reportId + r.version}>
                <td className="px-3 py-2 font-medium">{r.title}</td>
                <td className="px-3 py-2">{formatDate(r.timestamp)}</td>
                <td className="px-3 py-2"><Mono>{String(r.blockNumber)}</Mono></td>
                <td className="px-3 py-2"><Mono>{r.reportId}</Mono></td>
                <td className="px-3 py-2 text-right">
                  <Button size="sm" variant="secondary" onPress={() => go({ screen: "report", reportId: r.reportId })}>Open</Button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
      <div className="grid grid-cols-1 items-start gap-5 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
        <Panel title="By patient">
          <PatientPicker onPick={setPatient} selected={patient} actionLabel="Show" />
        </Panel>
        {patient ? <PatientReports patient={patient} onlyMine /> : <Empty title="No patient selected" />}
      </div>
    </Page>
  );
}

export const PURPOSE_LABELS: Record<string, string> = {
  treatment: "Treatment",
  second_opinion: "Second opinion",
  care_coordination: "Care coordination",
  other: "Other",
};

function consentStatus(c: SharedConsent): { label: string; tone: "success" | "neutral" | "warning" } {
  if (c.active) return { label: "Active", tone: "success" };
  if (c.revoked) return { label: "Revoked", tone: "neutral" };
  return { label: "Expired", tone: "warning" };
}

/** One consenting patient's reports, by pseudonym, wherever the patient is registered. */
export function SharedReports({ consent }: { consent: SharedConsent }) {
  const api = useApi();
  const dir = useDirectory();
  const [pages, setPages] = useState<{ items: ReportSummary[]; bookmark?: string; loading: boolean; error?: unknown }>({ items: [], loading: true });
  const ref = consent.patientRef;
  useEffect(() => {
    let alive = true;
    setPages({ items: [], loading: true });
    api.sharedReports(ref).then(
      (p) => alive && setPages({ items: p.items, bookmark: p.bookmark, loading: false }),
      (error) => alive && setPages({ items: [], loading: false, error }),
    );
    return () => {
      alive = false;
    };
  }, [api, ref]);
  const more = async () => {
    if (!pages.bookmark) return;
    setPages((p) => ({ ...p, loading: true }));
    try {
      const p = await api.sharedReports(ref, pages.bookmark);
      setPages((o) => ({ items: [...o.items, ...p.items], bookmark: p.bookmark, loading: false }));
    } catch (error) {
      setPages((o) => ({ ...o, loading: false, error }));
    }
  };
  return (
    <Panel title="Shared reports">
      <p className="mb-3 text-sm text-slate-600">
        Patient <Mono>{ref.slice(0, 16)}</Mono>
        {consent.patientMsp && <> · {dir.hospital(consent.patientMsp)}</>}
      </p>
      {pages.loading && pages.items.length === 0 && <Loading />}
      <ProblemAlert error={pages.error} title="Could not load the shared reports" />
      {!pages.error && !(pages.loading && pages.items.length === 0) && (
        <ReportList items={pages.items} emptyTitle="No reports for this patient yet" />
      )}
      {pages.bookmark && (
        <div className="mt-3">
          <Button size="sm" variant="secondary" isDisabled={pages.loading} onPress={() => void more()}>More reports</Button>
        </div>
      )}
    </Panel>
  );
}

/** The doctor's "Shared with me": consents naming them, at any hospital -> that patient's reports -> a report. */
export function SharedWithMe() {
  const api = useApi();
  const dir = useDirectory();
  const r = useLoad(() => api.sharedConsents(), []);
  const [selected, setSelected] = useState<SharedConsent | null>(null);
  const items = r.data?.items ?? [];
  return (
    <Page title="Shared with me" subtitle="Patients, at this hospital or another, who consented to share their records with you.">
      {/* Stacked: both tables need the full width to show their columns. */}
      <div className="flex flex-col gap-5">
        <Panel title="Consents naming you" actions={<Button size="sm" variant="ghost" onPress={r.reload}>Refresh</Button>}>
          {r.loading && <Loading />}
          <ProblemAlert error={r.error} title="Could not load the consents" />
          {r.data && items.length === 0 && <Empty title="No patient has shared records with you">When a patient gives you access, it appears here.</Empty>}
          {items.length > 0 && (
            <Table caption="Consents naming you" head={["Patient", "Hospital", "Purpose", "Until", "Status", ""]}>
              {items.map((c) => {
                const status = consentStatus(c);
                return (
                  <tr key={c.consentId} className={selected?.consentId === c.consentId ? "bg-teal-50" : undefined}>
                    <td className="px-3 py-2"><Mono>{c.patientRef.slice(0, 12)}</Mono></td>
                    <td className="px-3 py-2">{c.patientMsp ? dir.hospital(c.patientMsp) : "—"}</td>
                    <td className="px-3 py-2">{PURPOSE_LABELS[c.purposeCode ?? c.purpose] ?? c.purposeCode ?? c.purpose}</td>
                    <td className="px-3 py-2 whitespace-nowrap">{formatDay(c.expiresAt)}</td>
                    <td className="px-3 py-2"><Badge tone={status.tone}>{status.label}</Badge></td>
                    <td className="px-3 py-2 text-right">
                      <Button size="sm" variant="secondary" isDisabled={!c.active} onPress={() => setSelected(c)} aria-label={`Show reports of patient ${c.patientRef.slice(0, 12)}`}>
                        Reports
                      </Button>
                    </td>
                  </tr>
                );
              })}
            </Table>
          )}
        </Panel>
        {selected ? <SharedReports key={selected.consentId} consent={selected} /> : <Empty title="No patient selected">Choose an active consent to see that patient's reports.</Empty>}
      </div>
    </Page>
  );
}
