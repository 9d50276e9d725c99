import { useState, type FormEvent } from "react";
import { Button } from "@heroui/react";
import { PatientPicker } from "../components/PatientPicker";
import { Badge, DefList, Empty, Field, Loading, Mono, Notice, Page, Panel, ProblemAlert, SelectField, Table } from "../components/ui";
import { useApi } from "../lib/session";
import type { Erasure, ErasureReason, Patient, User } from "../lib/types";
import { validatePatient, validateUser, type PatientDraft, type UserDraft } from "../lib/validation";
import { formatDay } from "../lib/format";
import { useForm } from "../lib/useForm";
import { useLoad } from "../lib/useLoad";

export function AdminPatients() {
  const api = useApi();
  const form = useForm<PatientDraft>({ mrn: "", name: "", birthDate: "", username: "" }, validatePatient);
  const { values: d, show: err, error, busy } = form;
  const set = (k: keyof PatientDraft) => (v: string) => form.set(k, v);
  const [created, setCreated] = useState<Patient | null>(null);
  const [picked, setPicked] = useState<Patient | null>(null);
  const [listKey, setListKey] = useState(0);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void form.submit(async (d) => {
      setCreated(null);
      const p = await api.createPatient({ mrn: d.mrn.trim(), name: d.name.trim(), birthDate: d.birthDate, username: d.username || undefined });
      setCreated(p);
      form.reset();
      setListKey((k) => k + 1);
    });
  };
  return (
    <Page title="Patients" subtitle="Register patients. On the ledger a patient is known only by a keyed pseudonym.">
      <div className="grid grid-cols-1 items-start gap-5 lg:grid-cols-2">
        <Panel title="Register a patient">
          <form onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label="Register a patient">
            {created && <Notice title={`${created.name} is registered`}>Patient ID <Mono>{created.patientId}</Mono></Notice>}
            <ProblemAlert error={error} title="The patient was not registered" />
            <Field label="Hospital number (MRN)" value={d.mrn} onChange={set("mrn")} required error={err("mrn")} />
            <Field label="Full name" value={d.name} onChange={set("name")} required error={err("name")} />
            <Field label="Date of birth" type="date" value={d.birthDate} onChange={set("birthDate")} required error={err("birthDate")} />
            <Field label="Patient login (optional)" value={d.username} onChange={set("username")} error={err("username")}
              description="Username of an existing patient account to link to this record." />
            <Button type="submit" isDisabled={busy} className="bg-teal-700">{busy ? "Registering…" : "Register patient"}</Button>
          </form>
        </Panel>
        <EraseReportPanel />
        <Panel title="Registered patients">
          <PatientPicker key={listKey} onPick={setPicked} selected={picked} actionLabel="Details" />
          {picked && (
            <div className="mt-4 rounded-lg border border-slate-200 p-3">
              <DefList rows={[
                ["Name", picked.name],
                ["Date of birth", formatDay(picked.birthDate)],
                ["Patient ID", <Mono>{picked.patientId}</Mono>, picked.patientId],
                ["Login", picked.username ?? "Not linked"],
              ]} />
            </div>
          )}
        </Panel>
      </div>
    </Page>
  );
}

const ROLE_TONE: Record<string, "info" | "success" | "warning" | "neutral"> = { doctor: "info", patient: "success", auditor: "warning", admin: "neutral" };

export function AdminUsers() {
  const api = useApi();
  const users = useLoad(() => api.users(), []);
  const form = useForm<UserDraft>({ username: "", displayName: "", role: "doctor", password: "" }, validateUser);
  const { values: d, show: err, error, busy } = form;
  const set = (k: keyof UserDraft) => (v: string) => form.set(k, v);
  const [created, setCreated] = useState<User | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void form.submit(async (d) => {
      setCreated(null);
      setCreated(await api.createUser({ ...d, displayName: d.displayName.trim() }));
      // The next user is often of the same role.
      form.reset({ username: "", displayName: "", role: d.role, password: "" });
      users.reload();
    });
  };
  return (
    <Page title="Users and roles" subtitle="Each user gets a ledger identity signed by the organisation's CA, with their role in the certificate.">
      <div className="grid grid-cols-1 items-start gap-5 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
        <Panel title="Create a user">
          <form onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label="Create a user">
            {created && <Notice title={`${created.displayName} (${created.username}) was created as ${created.role}`} />}
            <ProblemAlert error={error} title="The user was not created" />
            <Field label="Username" value={d.username} onChange={set("username")} required error={err("username")} autoComplete="off" />
            <Field label="Display name" value={d.displayName} onChange={set("displayName")} required error={err("displayName")} />
            <SelectField id="user-role" label="Role" value={d.role} onChange={set("role")} required error={err("role")}
              options={[{ value: "doctor", label: "Doctor" }, { value: "patient", label: "Patient" }, { value: "auditor", label: "Auditor" }, { value: "admin", label: "Administrator" }]} />
            <Field label="Initial password" type="password" value={d.password} onChange={set("password")} required error={err("password")} autoComplete="new-password" />
            <Button type="submit" isDisabled={busy} className="bg-teal-700">{busy ? "Creating…" : "Create user"}</Button>
          </form>
        </Panel>
        <PublishClinicianPanel />
        <Panel title="Users">
          {users.loading && <Loading />}
          <ProblemAlert error={users.error} title="Could not load users" />
          {users.data && (users.data.items.length === 0 ? <Empty title="No users" /> : (
            <Table caption="Users" head={["Username", "Name", "Role", "Patient record"]}>
              {users.data.items.map((u) => (
                <tr key={u.username}>
                  <td className="px-3 py-2 font-mono text-xs">{u.username}</td>
                  <td className="px-3 py-2">{u.displayName}</td>
                  <td className="px-3 py-2"><Badge tone={ROLE_TONE[u.role] ?? "neutral"}>{u.role}</Badge></td>
                  <td className="px-3 py-2 font-mono text-xs">{u.patientId ? u.patientId.slice(0, 12) : "—"}</td>
                </tr>
              ))}
            </Table>
          ))}
        </Panel>
      </div>
    </Page>
  );
}

/** Publishes this hospital's doctors in the consortium directory, so patients of every hospital can choose them. */
export function PublishClinicianPanel() {
  const api = useApi();
  const doctors = useLoad(() => api.doctors(), []);
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const nameError = displayName && (displayName.trim().length === 0 || new TextEncoder().encode(displayName.trim()).length > 128 || /[\u0000-\u001f\u007f]/.test(displayName))
    ? "One line of at most 128 bytes."
    : undefined;
  const publish = async (e: FormEvent) => {
    e.preventDefault();
    if (!username || !displayName.trim() || nameError) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const c = await api.publishClinician({ username, displayName: displayName.trim() });
      setDone(`${c.displayName} is listed in the directory as ${c.mspId}/${c.username}.`);
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title="Consortium directory">
      <form onSubmit={publish} noValidate className="flex flex-col gap-3" aria-label="Publish a doctor">
        <p className="text-sm text-slate-600">The directory is on the ledger: every hospital's patients see the name you publish.</p>
        {done && <Notice title={done} />}
        <ProblemAlert error={error ?? doctors.error} title="Not published" />
        <SelectField id="publish-doctor" label="Doctor" required value={username}
          onChange={(v) => {
            setUsername(v);
            setDisplayName(doctors.data?.items.find((d) => d.username === v)?.displayName ?? "");
          }}
          options={(doctors.data?.items ?? []).map((d) => ({ value: d.username, label: `${d.displayName} (${d.username})` }))} />
        <Field label="Name in the directory" value={displayName} onChange={setDisplayName} required error={nameError} />
        <div>
          <Button type="submit" isDisabled={busy || !username || !displayName.trim() || !!nameError}>{busy ? "Publishing…" : "Publish"}</Button>
        </div>
      </form>
    </Panel>
  );
}

const ERASURE_REASONS: Array<{ value: ErasureReason; label: string }> = [
  { value: "patient_request", label: "The patient's request" },
  { value: "legal_order", label: "A legal order" },
  { value: "retention_expired", label: "Retention period expired" },
  { value: "entered_in_error", label: "Entered in error" },
];
const REPORT_ID = /^[0-9a-f]{32}$/;
const MAX_NOTE_CHARS = 1000;

/**
 * Erasure on the ledger: administrators do not see reports, so the report is named by its ID (from the receipt or
 * the patient's request). The reason code goes on the ledger; the note stays on this hospital's server.
 */
export function EraseReportPanel() {
  const api = useApi();
  const [reportId, setReportId] = useState("");
  const [reason, setReason] = useState<ErasureReason | "">("");
  const [note, setNote] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Erasure | null>(null);
  const id = reportId.trim().toLowerCase();
  const idError = reportId && !REPORT_ID.test(id) ? "A report ID is 32 hexadecimal characters." : undefined;
  const noteError = [...note].length > MAX_NOTE_CHARS ? `At most ${MAX_NOTE_CHARS} characters.` : undefined;
  const ready = REPORT_ID.test(id) && reason !== "" && !noteError;
  const ask = (e: FormEvent) => {
    e.preventDefault();
    if (ready) setConfirming(true);
  };
  const erase = async () => {
    if (!ready) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await api.eraseReport(id, reason as ErasureReason, note.trim() || undefined));
      setReportId("");
      setNote("");
      setReason("");
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <Panel title="Erase a report">
      <form onSubmit={ask} noValidate className="flex flex-col gap-3" aria-label="Erase a report">
        <p className="text-sm text-slate-600">
          Destroys the report's keys: nobody can read its content again, in any version. The ledger keeps its record and
          records this erasure with its reason.
        </p>
        {done && (
          <Notice title={`Report ${done.reportId} is erased`}>
            {done.keysDestroyed} key{done.keysDestroyed === 1 ? "" : "s"} destroyed; ledger transaction <Mono>{done.txId}</Mono> (block {done.blockNumber}).
          </Notice>
        )}
        <ProblemAlert error={error} title="The report was not erased" />
        <Field label="Report ID" value={reportId} onChange={(v) => { setReportId(v); setConfirming(false); }} required error={idError} autoComplete="off" />
        <SelectField id="erase-reason" label="Reason" required value={reason} onChange={(v) => { setReason(v as ErasureReason); setConfirming(false); }}
          options={ERASURE_REASONS} />
        <Field label="Note (kept on this server only)" value={note} onChange={setNote} error={noteError} multiline rows={3}
          description="Free text for your records, e.g. the request's reference. It never goes on the ledger." />
        <div>
          <Button type="submit" isDisabled={busy || !ready} className="bg-red-700">Erase report…</Button>
        </div>
        {confirming && (
          <div role="alertdialog" aria-label="Confirm erasure" className="rounded-lg border border-red-300 bg-red-50 p-3">
            <p className="text-sm">Erase report <Mono>{id}</Mono> for good? This cannot be undone.</p>
            <div className="mt-3 flex gap-2">
              <Button onPress={() => void erase()} isDisabled={busy} className="bg-red-700">{busy ? "Erasing…" : "Erase for good"}</Button>
              <Button onPress={() => setConfirming(false)} isDisabled={busy} variant="secondary">Cancel</Button>
            </div>
          </div>
        )}
      </form>
    </Panel>
  );
}
