import { useRef, useState, type FormEvent } from "react";
import { Button, ProgressBar, Label } from "@heroui/react";
import { Field, Mono, Page, Panel, ProblemAlert } from "../components/ui";
import { PatientPicker } from "../components/PatientPicker";
import { ReceiptPanel } from "../components/Receipt";
import { useApi } from "../lib/session";
import { useNav } from "../lib/nav";
import type { Patient, Receipt } from "../lib/types";
import { ALLOWED_TYPES, LIMITS, validateReport, type ReportDraft } from "../lib/validation";
import { formatBytes, formatDay } from "../lib/format";
import { useForm } from "../lib/useForm";

/** Receipts of reports submitted in this tab (memory only), shown under "My reports". */
export const sessionReceipts: Array<Receipt & { title: string; patientId: string }> = [];

export function NewReport() {
  const api = useApi();
  const { go } = useNav();
  const [patient, setPatient] = useState<Patient | null>(null);
  const form = useForm<ReportDraft>({ patientId: "", title: "", diagnosis: "", content: "", attachments: [] }, validateReport);
  const { values: draft, set, show, errors, touched, error, busy } = form;
  // Upload share while busy: 0..1, then 1 while the ledger records the report.
  const [progress, setProgress] = useState(0);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void form.submit(async (d) => {
      setProgress(0);
      const r = await api.submitReport(d, setProgress);
      sessionReceipts.unshift({ ...r, title: d.title, patientId: d.patientId });
      setReceipt(r);
    });
  };

  const reset = () => {
    setReceipt(null);
    form.reset();
    setPatient(null);
  };

  if (receipt)
    return (
      <Page title="Report submitted" subtitle="Keep the proof below: it identifies this exact version of the report on the ledger.">
        <ReceiptPanel receipt={receipt} onOpen={() => go({ screen: "report", reportId: receipt.reportId })} />
        <div>
          <Button variant="secondary" onPress={reset}>
            Write another report
          </Button>
        </div>
      </Page>
    );

  return (
    <Page title="New case report" subtitle="The report is encrypted, stored by content address and recorded on the ledger.">
      <div className="grid grid-cols-1 items-start gap-5 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
        <Panel title="1. Patient">
          {patient ? (
            <div className="flex flex-col gap-2" data-testid="selected-patient">
              <p className="font-medium text-slate-900">{patient.name}</p>
              <p className="text-sm text-slate-600">
                Born {formatDay(patient.birthDate)} · ID <Mono>{patient.patientId.slice(0, 12)}</Mono>
              </p>
              <div>
                <Button size="sm" variant="secondary" onPress={() => { setPatient(null); set("patientId", ""); }}>
                  Change patient
                </Button>
              </div>
            </div>
          ) : (
            <>
              <PatientPicker onPick={(p) => { setPatient(p); set("patientId", p.patientId); }} />
              {touched.patientId && errors.patientId && <p className="mt-2 text-sm text-red-700" role="alert">{errors.patientId}</p>}
            </>
          )}
        </Panel>
        <Panel title="2. Report">
          <form onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label="Case report">
            <ProblemAlert error={error} title="The report was not submitted" />
            <Field label="Title" name="title" value={draft.title} onChange={(v) => set("title", v)} required error={show("title")}
              description={`${draft.title.length}/${LIMITS.titleMax} characters`} />
            <Field label="Diagnosis" name="diagnosis" value={draft.diagnosis} onChange={(v) => set("diagnosis", v)} required error={show("diagnosis")}
              placeholder="e.g. Community-acquired pneumonia (J18.9)" />
            <Field label="Report text" name="content" value={draft.content} onChange={(v) => set("content", v)} required multiline rows={9}
              error={show("content")} description="History, findings, assessment and plan. Plain text." />
            <div className="flex flex-col gap-1">
              <Label htmlFor="attachments">Attachments</Label>
              <input
                id="attachments"
                ref={fileInput}
                type="file"
                multiple
                accept={Object.keys(ALLOWED_TYPES).join(",") + ",.dcm"}
                aria-describedby="attachments-help"
                aria-invalid={!!show("attachments")}
                onChange={(e) => set("attachments", Array.from(e.target.files ?? []))}
                className="text-sm file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-50"
              />
              <span id="attachments-help" className="text-xs text-slate-600">
                PDF, PNG, JPEG, plain text or DICOM; up to {LIMITS.attachmentsMax} files of {formatBytes(LIMITS.attachmentMax)} each.
              </span>
              {show("attachments") && <span className="text-xs text-red-700" role="alert">{show("attachments")}</span>}
              {draft.attachments.length > 0 && (
                <ul className="mt-1 text-sm text-slate-700">
                  {draft.attachments.map((f) => (
                    <li key={f.name}>
                      {f.name} <span className="text-slate-500">({formatBytes(f.size)})</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
            {busy && (
              <ProgressBar aria-label="Upload progress" value={Math.round(progress * 100)} className="flex flex-col gap-1">
                <div className="flex justify-between text-sm text-slate-700">
                  <span>{progress < 1 ? "Uploading…" : "Recording on the ledger…"}</span>
                  <ProgressBar.Output />
                </div>
                <ProgressBar.Track>
                  <ProgressBar.Fill />
                </ProgressBar.Track>
              </ProgressBar>
            )}
            <div className="flex justify-end gap-2">
              <Button type="submit" isDisabled={busy} className="bg-teal-700">
                {busy ? "Submitting…" : "Submit report"}
              </Button>
            </div>
          </form>
        </Panel>
      </div>
    </Page>
  );
}
