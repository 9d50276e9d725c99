import { describe, expect, it } from "vitest";
import { LIMITS, validateAmendment, validateAttachment, validateConsent, validatePatient, validateReport, validateUser } from "./validation";

const file = (name: string, type: string, size: number) => ({ name, type, size }) as File;
const ok = { patientId: "p1", title: "Chest pain", diagnosis: "Angina", content: "Stable.", attachments: [] as File[] };

describe("report validation", () => {
  it("accepts a complete report", () => {
    expect(validateReport(ok)).toEqual({});
  });
  it("requires patient, title, diagnosis and text", () => {
    const e = validateReport({ patientId: "", title: " ", diagnosis: "", content: "", attachments: [] });
    expect(Object.keys(e).sort()).toEqual(["content", "diagnosis", "patientId", "title"]);
  });
  it("enforces sizes", () => {
    expect(validateReport({ ...ok, title: "x".repeat(LIMITS.titleMax + 1) }).title).toMatch(/at most/);
    expect(validateReport({ ...ok, content: "é".repeat(LIMITS.contentMax / 2 + 1) }).content).toMatch(/KB/);
  });
  it("rejects active content in the text", () => {
    expect(validateReport({ ...ok, content: "see <script>alert(1)</script>" }).content).toMatch(/HTML or script/);
  });
  it("checks attachment types, sizes and count", () => {
    expect(validateAttachment(file("scan.pdf", "application/pdf", 1000))).toBeUndefined();
    expect(validateAttachment(file("image.JPG", "", 1000))).toBeUndefined();
    expect(validateAttachment(file("run.exe", "application/x-msdownload", 1000))).toMatch(/only PDF/);
    expect(validateAttachment(file("big.pdf", "application/pdf", LIMITS.attachmentMax + 1))).toMatch(/larger than/);
    expect(validateAttachment(file("empty.txt", "text/plain", 0))).toMatch(/empty/);
    const many = Array.from({ length: LIMITS.attachmentsMax + 1 }, (_, i) => file(`${i}.txt`, "text/plain", 1));
    expect(validateReport({ ...ok, attachments: many }).attachments).toMatch(/At most/);
  });
});

describe("other forms", () => {
  it("amendment needs a reason", () => {
    expect(validateAmendment({ title: "t", diagnosis: "d", content: "c", reason: "" }).reason).toBeDefined();
    expect(validateAmendment({ title: "t", diagnosis: "d", content: "c", reason: "typo" })).toEqual({});
  });
  it("patient registration", () => {
    const today = new Date("2026-01-01");
    expect(validatePatient({ mrn: "MRN-001", name: "A B", birthDate: "1980-02-03", username: "" }, today)).toEqual({});
    const e = validatePatient({ mrn: "a", name: "", birthDate: "2030-01-01", username: "Bad Name" }, today);
    expect(Object.keys(e).sort()).toEqual(["birthDate", "mrn", "name", "username"]);
  });
  it("user creation", () => {
    expect(validateUser({ username: "dr.who", displayName: "Dr Who", role: "doctor", password: "correct horse" })).toEqual({});
    const e = validateUser({ username: "", displayName: "", role: "root", password: "short" });
    expect(Object.keys(e).sort()).toEqual(["displayName", "password", "role", "username"]);
  });
  it("consent expiry must be in the future", () => {
    const today = new Date("2026-06-01T12:00:00Z");
    expect(validateConsent({ doctor: "d", purpose: "Treatment", expiresAt: "2026-07-01" }, today)).toEqual({});
    expect(validateConsent({ doctor: "", purpose: "", expiresAt: "2026-05-01" }, today)).toEqual({
      doctor: "Choose a doctor.",
      purpose: "State the purpose.",
      expiresAt: "The expiry must be in the future.",
    });
  });
});
