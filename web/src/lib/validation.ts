// Client-side validation of the report and admin forms, run as the user types. The server re-checks
// everything; these rules only give early, friendly feedback.
import { formatBytes } from "./format";

export const LIMITS = {
  titleMax: 200,
  diagnosisMax: 500,
  contentMax: 64 * 1024,
  attachmentMax: 10 * 1024 * 1024,
  attachmentsMax: 5,
  reasonMax: 500,
};

export const ALLOWED_TYPES: Record<string, string> = {
  "application/pdf": ".pdf",
  "image/png": ".png",
  "image/jpeg": ".jpg",
  "text/plain": ".txt",
  "application/dicom": ".dcm",
};

const EXT_TYPES: Record<string, string> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  txt: "text/plain",
  dcm: "application/dicom",
};

export type Errors<T> = Partial<Record<keyof T, string>>;

export interface ReportDraft {
  patientId: string;
  title: string;
  diagnosis: string;
  content: string;
  attachments: File[];
}

export function attachmentType(file: { name: string; type: string }): string | undefined {
  if (file.type && ALLOWED_TYPES[file.type]) return file.type;
  const ext = file.name.split(".").pop()?.toLowerCase() ?? "";
  return EXT_TYPES[ext];
}

export function validateAttachment(file: { name: string; type: string; size: number }): string | undefined {
  if (!attachmentType(file)) return `${file.name}: only PDF, PNG, JPEG, plain text and DICOM files are allowed.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > LIMITS.attachmentMax) return `${file.name} is larger than ${formatBytes(LIMITS.attachmentMax)}.`;
  return undefined;
}

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

export function validateReport(d: ReportDraft): Errors<ReportDraft> {
  const e: Errors<ReportDraft> = {};
  if (!d.patientId) e.patientId = "Choose a patient.";
  if (!d.title.trim()) e.title = "Title is required.";
  else if (d.title.length > LIMITS.titleMax) e.title = `Title must be at most ${LIMITS.titleMax} characters.`;
  if (!d.diagnosis.trim()) e.diagnosis = "Diagnosis is required.";
  else if (d.diagnosis.length > LIMITS.diagnosisMax)
    e.diagnosis = `Diagnosis must be at most ${LIMITS.diagnosisMax} characters.`;
  if (!d.content.trim()) e.content = "Report text is required.";
  else if (utf8Length(d.content) > LIMITS.contentMax)
    e.content = `Report text must be at most ${LIMITS.contentMax / 1024} KB.`;
  else if (/<\s*(script|iframe|object|embed|html)\b/i.test(d.content))
    e.content = "Report text must not contain HTML or script.";
  if (d.attachments.length > LIMITS.attachmentsMax) e.attachments = `At most ${LIMITS.attachmentsMax} attachments.`;
  else {
    for (const f of d.attachments) {
      const msg = validateAttachment(f);
      if (msg) {
        e.attachments = msg;
        break;
      }
    }
  }
  return e;
}

export interface AmendDraft {
  title: string;
  diagnosis: string;
  content: string;
  reason: string;
}

export function validateAmendment(d: AmendDraft): Errors<AmendDraft> {
  const e: Errors<AmendDraft> = {};
  const base = validateReport({ patientId: "x", title: d.title, diagnosis: d.diagnosis, content: d.content, attachments: [] });
  if (base.title) e.title = base.title;
  if (base.diagnosis) e.diagnosis = base.diagnosis;
  if (base.content) e.content = base.content;
  if (!d.reason.trim()) e.reason = "Give the reason for the amendment.";
  else if (d.reason.length > LIMITS.reasonMax) e.reason = `Reason must be at most ${LIMITS.reasonMax} characters.`;
  return e;
}

export interface PatientDraft {
  mrn: string;
  name: string;
  birthDate: string;
  username: string;
}

export function validatePatient(d: PatientDraft, today = new Date()): Errors<PatientDraft> {
  const e: Errors<PatientDraft> = {};
  if (!d.mrn.trim()) e.mrn = "Hospital number is required.";
  else if (!/^[A-Za-z0-9-]{3,32}$/.test(d.mrn.trim())) e.mrn = "Use 3–32 letters, digits or dashes.";
  if (!d.name.trim()) e.name = "Name is required.";
  else if (d.name.length > 200) e.name = "Name must be at most 200 characters.";
  if (!d.birthDate) e.birthDate = "Date of birth is required.";
  else if (!/^\d{4}-\d{2}-\d{2}$/.test(d.birthDate) || Number.isNaN(Date.parse(d.birthDate)))
    e.birthDate = "Use the format YYYY-MM-DD.";
  else if (new Date(d.birthDate) > today) e.birthDate = "Date of birth cannot be in the future.";
  if (d.username && !/^[a-z0-9._-]{3,64}$/.test(d.username))
    e.username = "Use 3–64 lower-case letters, digits, dots, dashes or underscores.";
  return e;
}

export interface UserDraft {
  username: string;
  displayName: string;
  role: string;
  password: string;
}

export function validateUser(d: UserDraft): Errors<UserDraft> {
  const e: Errors<UserDraft> = {};
  if (!d.username) e.username = "Username is required.";
  else if (!/^[a-z0-9._-]{3,64}$/.test(d.username))
    e.username = "Use 3–64 lower-case letters, digits, dots, dashes or underscores.";
  if (!d.displayName.trim()) e.displayName = "Display name is required.";
  if (!["admin", "doctor", "patient", "auditor"].includes(d.role)) e.role = "Choose a role.";
  if (d.password.length < 8) e.password = "Password must be at least 8 characters.";
  return e;
}

export interface ConsentDraft {
  doctor: string;
  purpose: string;
  expiresAt: string; // YYYY-MM-DD
}

export function validateConsent(d: ConsentDraft, today = new Date()): Errors<ConsentDraft> {
  const e: Errors<ConsentDraft> = {};
  if (!d.doctor) e.doctor = "Choose a doctor.";
  if (!d.purpose.trim()) e.purpose = "State the purpose.";
  if (!d.expiresAt) e.expiresAt = "Choose an expiry date.";
  else if (Number.isNaN(Date.parse(d.expiresAt))) e.expiresAt = "Use the format YYYY-MM-DD.";
  else if (new Date(d.expiresAt + "T23:59:59Z") <= today) e.expiresAt = "The expiry must be in the future.";
  return e;
}

export const hasErrors = (e: object) => Object.values(e).some(Boolean);
