import { useMemo, useState, type FormEvent } from "react";
import { Button } from "@heroui/react";
import { Badge, DefList, Empty, Field, Loading, Mono, Page, Panel, ProblemAlert, Table, Notice } from "../components/ui";
import { ReceiptPanel } from "../components/Receipt";
import { VerifyPanel } from "../components/Verify";
import { ApiError, isIntegrityProblem } from "../lib/problems";
import { useApi, useSession } from "../lib/session";
import { useNav } from "../lib/nav";
import { Actor, useDirectory } from "../lib/directory";
import type { Receipt, Report } from "../lib/types";
import { validateAmendment, type AmendDraft } from "../lib/validation";
import { saveBlob } from "../lib/download";
import { formatBytes, formatDate } from "../lib/format";
import { useForm } from "../lib/useForm";
import { useLoad } from "../lib/useLoad";

export function ReportView({ reportId }: { reportId: string }) {
  const api = useApi();
  const { user } = useSession();
  const { back } = useNav();
  const dir = useDirectory();
  const [reload, setReload] = useState(0);
  const report = useLoad(() => api.report(reportId), [reportId, reload]);
  const [mode, setMode] = useState<"view" | "amend">("view");
  const [amended, setAmended] = useState<Receipt | null>(null);

  const denied = report.error instanceof ApiError && report.error.status === 403;
  const corrupt = report.error instanceof ApiError && (isIntegrityProblem(report.error.problem) || report.error.status >= 500);
  return (
    <Page
      title={report.data ? report.data.title : "Report"}
      subtitle={report.data ? `Version ${report.data.version} · by ${dir.nameOf(report.data.author, report.data.authorMsp) ?? report.data.author}${report.data.authorMsp ? ` (${dir.hospital(report.data.authorMsp)})` : ""} · ${formatDate(report.data.createdAt)}` : undefined}
      actions={
        <Button variant="secondary" onPress={back}>
          Back
        </Button>
      }
    >
      {report.loading && <Loading label="Opening report…" />}
      {!!report.error && !denied && <ProblemAlert error={report.error} title="Could not open the report" />}
      {corrupt && (
        <Panel title="Integrity">
          <VerifyPanel reportId={reportId} />
        </Panel>
      )}
      {denied && user?.role === "doctor" && <BreakGlass reportId={reportId} onGranted={() => setReload((n) => n + 1)} />}
      {denied && user?.role !== "doctor" && <ProblemAlert error={report.error} title="Access denied" />}
      {amended && <ReceiptPanel receipt={amended} title="Amendment recorded on the ledger" />}
      {report.data && mode === "amend" && (
        <AmendForm
          report={report.data}
          onCancel={() => setMode("view")}
          onDone={(r) => {
            setAmended(r);
            setMode("view");
            setReload((n) => n + 1);
          }}
        />
      )}
      {report.data && mode === "view" && (
        <ReportBody report={report.data} canAmend={user?.role === "doctor" && user.username === report.data.author} onAmend={() => { setAmended(null); setMode("amend"); }} />
      )}
    </Page>
  );
}

function ReportBody({ report, canAmend, onAmend }: { report: Report; canAmend: boolean; onAmend: () => void }) {
  const api = useApi();
  const [dlError, setDlError] = useState<unknown>(null);
  const download = async (index: number, filename: string) => {
    setDlError(null);
    try {
      saveBlob(await api.attachment(report.reportId, index), filename);
    } catch (e) {
      setDlError(e);
    }
  };
  return (
    <div className="grid grid-cols-1 items-start gap-5 xl:grid-cols-[minmax(0,1fr)_minmax(0,26rem)]">
      <div className="flex flex-col gap-5">
        <Panel
          title="Clinical content"
          actions={
            canAmend && (
              <Button size="sm" variant="secondary" onPress={onAmend}>
                Amend
              </Button>
            )
          }
        >
          <div className="flex flex-col gap-3">
            {report.emergency && <Badge tone="danger">Opened under emergency access</Badge>}
            <div>
              <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Diagnosis</h3>
              <p className="text-slate-900" data-testid="diagnosis">{report.diagnosis}</p>
            </div>
            <div>
              <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Report</h3>
              <p className="whitespace-pre-wrap text-slate-900" data-testid="content">{report.content}</p>
            </div>
            <div>
              <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Attachments</h3>
              <ProblemAlert error={dlError} title="Could not download the attachment" />
              {report.attachments?.length ? (
                <ul className="mt-1 flex flex-col gap-1">
                  {report.attachments.map((a) => (
                    <li key={a.index} className="flex items-center justify-between gap-2 text-sm">
                      <span>
                        {a.filename} <span className="text-slate-500">({a.contentType}, {formatBytes(a.size)})</span>
                      </span>
                      <Button size="sm" variant="ghost" onPress={() => download(a.index, a.filename)} aria-label={`Download ${a.filename}`}>
                        Download
                      </Button>
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="text-sm text-slate-600">None</p>
              )}
            </div>
          </div>
        </Panel>
        <Versions reportId={report.reportId} />
      </div>
      <div className="flex flex-col gap-5">
        <Panel title="Integrity">
          <VerifyPanel reportId={report.reportId} />
        </Panel>
        <Panel title="Ledger record">
          <DefList
            stacked
            rows={[
              ["Report ID", <Mono>{report.reportId}</Mono>, report.reportId],
              ["CID", <Mono>{report.cid}</Mono>, report.cid],
              ["Content hash", <Mono>{report.contentHash}</Mono>, report.contentHash],
              ["Transaction", <Mono>{report.txId}</Mono>, report.txId],
              ["Block", <Mono>{String(report.blockNumber)}</Mono>],
              ["Block hash", <Mono>{report.blockHash}</Mono>, report.blockHash],
            ]}
          />
        </Panel>
      </div>
    </div>
  );
}

function Versions({ reportId }: { reportId: string }) {
  const api = useApi();
  const h = useLoad(() => api.history(reportId), [reportId]);
  const items = useMemo(() => [...(h.data?.items ?? [])].sort((a, b) => b.version - a.version), [h.data]);
  return (
    <Panel title="Versions">
      {h.loading && <Loading />}
      <ProblemAlert error={h.error} title="Could not load the versions" />
      {h.data && items.length === 0 && <Empty title="No versions recorded" />}
      {items.length > 0 && (
        <Table caption="Versions of this report" head={["Version", "Recorded", "Author", "Reason", "Block"]}>
          {items.map((v) => (
            <tr key={v.version}>
              <td className="px-3 py-2 font-medium">v{v.version}</td>
              <td className="px-3 py-2">{formatDate(v.timestamp ?? v.createdAt)}</td>
              <td className="px-3 py-2">
                <Actor username={v.author} msp={v.authorMsp} />
              </td>
              <td className="px-3 py-2">{v.reason ?? (v.version === 1 ? "Original" : "—")}</td>
              <td className="px-3 py-2"><Mono>{v.blockNumber ?? "—"}</Mono></td>
            </tr>
          ))}
        </Table>
      )}
    </Panel>
  );
}

function AmendForm({ report, onCancel, onDone }: { report: Report; onCancel: () => void; onDone: (r: Receipt) => void }) {
  const api = useApi();
  // Client errors appear from the first submit on, not while typing, as this form has always shown them.
  const form = useForm<AmendDraft>({ title: report.title, diagnosis: report.diagnosis, content: report.content, reason: "" }, validateAmendment, { touchOnChange: false });
  const { values: d, show: err, error, busy } = form;
  const set = (k: keyof AmendDraft) => (v: string) => form.set(k, v);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void form.submit(async (d) => onDone(await api.amend(report.reportId, { title: d.title, diagnosis: d.diagnosis, content: d.content, reason: d.reason })));
  };
  return (
    <Panel title={`Amend version ${report.version}`}>
      <form onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label="Amend report">
        <Notice status="accent" title="An amendment creates a new version">The original stays on the ledger and remains visible in the version history.</Notice>
        <ProblemAlert error={error} title="The amendment was not recorded" />
        <Field label="Title" value={d.title} onChange={set("title")} required error={err("title")} />
        <Field label="Diagnosis" value={d.diagnosis} onChange={set("diagnosis")} required error={err("diagnosis")} />
        <Field label="Report text" value={d.content} onChange={set("content")} required multiline rows={9} error={err("content")} />
        <Field label="Reason for amendment" value={d.reason} onChange={set("reason")} required error={err("reason")} placeholder="e.g. Corrected dosage after pharmacy review" />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onPress={onCancel}>Cancel</Button>
          <Button type="submit" isDisabled={busy} className="bg-teal-700">{busy ? "Recording…" : "Record amendment"}</Button>
        </div>
      </form>
    </Panel>
  );
}

function BreakGlass({ reportId, onGranted }: { reportId: string; onGranted: () => void }) {
  const api = useApi();
  const [reason, setReason] = useState("");
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const err = touched && reason.trim().length < 10 ? "Describe the emergency (at least 10 characters)." : undefined;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (reason.trim().length < 10) return;
    setBusy(true);
    try {
      await api.emergencyAccess(reportId, reason.trim());
      onGranted();
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="rounded-xl border-2 border-amber-400 bg-amber-50 p-5">
      <h2 className="text-base font-semibold text-amber-950">You do not have consent to view this record</h2>
      <p className="mt-1 text-sm text-amber-950">
        In an emergency you may open it with break-glass access. The access is time-limited, recorded on the ledger, shown to the patient and reviewed by an auditor.
      </p>
      <form onSubmit={submit} noValidate className="mt-3 flex flex-col gap-3" aria-label="Emergency access">
        <ProblemAlert error={error} title="Emergency access was not granted" />
        <Field label="Reason for emergency access" value={reason} onChange={setReason} required error={err} multiline rows={3} />
        <div>
          <Button type="submit" variant="danger" isDisabled={busy}>
            {busy ? "Requesting…" : "Break glass and open"}
          </Button>
        </div>
      </form>
    </div>
  );
}
