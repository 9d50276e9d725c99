import { useState } from "react";
import { Button } from "@heroui/react";
import { PatientPicker } from "../components/PatientPicker";
import { ReportList } from "../components/ReportList";
import { Empty, Field, formatDate, formatDay, Loading, Mono, Page, Panel, ProblemAlert, Table, useLoad } from "../components/ui";
import { useApi, useSession } from "../lib/session";
import { useNav } from "../lib/nav";
import type { Patient } from "../lib/types";
import { sessionReceipts } from "./NewReport";

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
