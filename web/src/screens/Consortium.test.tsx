import { describe, expect, it } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import App from "../App";
import { doctorTokens, fakeApi } from "../test/fakeApi";
import { hospitalName, loadDirectory, loadHospitalNames, makeDirectory } from "../lib/directory";
import { isDoctorId, matchClinicians } from "../components/ClinicianPicker";
import type { Clinician } from "../lib/types";

const PID = "a".repeat(64);
const patientTokens = { ...doctorTokens, user: { username: "alice", role: "patient", displayName: "Alice Patient", patientId: PID } };

const clinicians: Clinician[] = [
  { mspId: "HospitalAMSP", username: "dr.house", displayName: "Dr. Gregory House", role: "doctor", active: true },
  { mspId: "HospitalBMSP", username: "dr.jones", displayName: "Dr. Indiana Jones", role: "doctor", active: true },
  { mspId: "HospitalBMSP", username: "dr.gone", displayName: "Dr. Gone Away", role: "doctor", active: false },
];

async function signIn(user: ReturnType<typeof userEvent.setup>, username: string) {
  await user.type(await screen.findByLabelText(/Username/), username);
  await user.type(screen.getByLabelText(/Password/), "pw");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("the consortium directory", () => {
  it("loads every page, bounded, and names people with their hospital", async () => {
    const { client, calls } = fakeApi({
      "GET /directory/clinicians": (_b, url) =>
        url.searchParams.get("bookmark") ? { body: { items: clinicians.slice(1), bookmark: "" } } : { body: { items: clinicians.slice(0, 1), bookmark: "next" } },
    });
    const all = await loadDirectory(client);
    expect(all.map((c) => c.username)).toEqual(["dr.house", "dr.jones", "dr.gone"]);
    expect(calls.filter((c) => c.path === "/directory/clinicians")).toHaveLength(2);

    const endless = fakeApi({ "GET /directory/clinicians": () => ({ body: { items: clinicians.slice(0, 1), bookmark: "again" } }) });
    await loadDirectory(endless.client);
    expect(endless.calls).toHaveLength(20);

    const dir = makeDirectory(clinicians);
    expect(dir.nameOf("dr.jones", "HospitalBMSP")).toBe("Dr. Indiana Jones");
    expect(dir.nameOf("dr.jones", "HospitalAMSP")).toBeUndefined();
    expect(dir.hospital("HospitalBMSP")).toBe("HospitalBMSP");

    // Hospital names from the server; without the route (an older server) MSP IDs stay as they are.
    const named = fakeApi({ "GET /directory/organizations": () => ({ body: { items: [{ mspId: "HospitalBMSP", displayName: "Hospital B", self: false }] } }) });
    const names = await loadHospitalNames(named.client);
    expect(makeDirectory(clinicians, false, undefined, names).hospital("HospitalBMSP")).toBe("Hospital B");
    expect(await loadHospitalNames(fakeApi({}).client)).toEqual({});
    expect(hospitalName("constructor", names)).toBe("constructor");
    expect(hospitalName("toString", {})).toBe("toString");
  });

  it("searches active doctors by name, hospital or username and checks typed IDs", () => {
    const dir = makeDirectory(clinicians);
    const names = (q: string) => matchClinicians(clinicians, q, dir.hospital).map((c) => c.username);
    expect(names("")).toEqual(["dr.house", "dr.jones"]);
    expect(names("hospitalb")).toEqual(["dr.jones"]);
    expect(names("indiana JONES")).toEqual(["dr.jones"]);
    expect(names("gone")).toEqual([]);
    expect(isDoctorId("HospitalBMSP/dr.jones")).toBe(true);
    expect(isDoctorId("dr.jones")).toBe(false);
    expect(isDoctorId("Hospital B/dr.jones")).toBe(false);
    expect(isDoctorId("a/b/c")).toBe(false);
  });

  it("lets the patient choose a doctor of another hospital from the directory, or type an ID", async () => {
    const grants: unknown[] = [];
    const { client } = fakeApi({
      "GET /auth/config": () => ({ body: {} }),
      "POST /auth/login": () => ({ body: patientTokens }),
      "GET /patients/:id/reports": () => ({ body: { items: [], bookmark: "" } }),
      "GET /directory/clinicians": () => ({ body: { items: clinicians, bookmark: "" } }),
      "GET /patients/:id/consents": () => ({
        body: { items: [{ consentId: "c0", patientId: PID, doctor: "dr.jones", doctorMsp: "HospitalBMSP", purpose: "Treatment", expiresAt: "2999-01-01T00:00:00Z", grantedAt: "2026-01-01T00:00:00Z", revoked: false }] },
      }),
      "POST /patients/:id/consents": (body) => {
        grants.push(body);
        return { status: 201, body: { consentId: "c1" } };
      },
    });
    const user = userEvent.setup();
    render(<App client={client} />);
    await signIn(user, "alice");
    await user.click(await screen.findByRole("button", { name: "Sharing and consent" }));
    const doctors = await screen.findByRole("radiogroup", { name: "Doctors" });
    expect(within(doctors).getAllByRole("radio")).toHaveLength(2);  // the inactive doctor is not offered
    expect(doctors).toHaveTextContent("HospitalBMSP · dr.jones");
    // The active consent names the doctor with their published name and hospital.
    // The consents load on their own request: wait for them rather than racing it.
    const active = await screen.findByRole("table", { name: "Active consents" });
    await waitFor(() => expect(active).toHaveTextContent("Dr. Indiana Jones"));
    expect(active).toHaveTextContent("HospitalBMSP");

    await user.type(screen.getByLabelText("Search doctors"), "hospitalb");
    expect(within(doctors).getAllByRole("radio")).toHaveLength(1);
    await user.click(within(doctors).getByRole("radio", { name: /Dr. Indiana Jones/ }));
    await user.click(screen.getByRole("button", { name: "Grant access" }));
    expect(await screen.findByText(/Dr. Indiana Jones \(HospitalBMSP\) can now see your records/)).toBeInTheDocument();
    expect(grants[0]).toMatchObject({ doctor: "HospitalBMSP/dr.jones" });

    // The fallback: an ID typed by hand goes to the server as typed.
    await user.type(screen.getByLabelText("Or type a doctor ID"), "HospitalCMSP/dr.who");
    await user.click(screen.getByRole("button", { name: "Grant access" }));
    await screen.findByText(/dr.who \(HospitalCMSP\) can now see your records/);
    expect(grants[1]).toMatchObject({ doctor: "HospitalCMSP/dr.who" });
  });
});

describe("Shared with me", () => {
  it("lists the consents naming the doctor, then the patient's reports by pseudonym", async () => {
    const ref = "b".repeat(64);
    const { client, calls } = fakeApi({
      "GET /auth/config": () => ({ body: {} }),
      "POST /auth/login": () => ({ body: doctorTokens }),
      "GET /patients": () => ({ body: { items: [], bookmark: "" } }),
      "GET /directory/clinicians": () => ({ body: { items: clinicians, bookmark: "" } }),
      "GET /directory/organizations": () => ({ body: { items: [{ mspId: "HospitalBMSP", displayName: "Hospital B" }] } }),
      "GET /shared/consents": () => ({
        body: {
          items: [
            { consentId: "c1", patientId: ref, patientRef: ref, patientMsp: "HospitalBMSP", doctor: "dr.house", doctorMsp: "HospitalAMSP", purpose: "second_opinion", purposeCode: "second_opinion", expiresAt: "2999-01-01T00:00:00Z", grantedAt: "2026-01-01T00:00:00Z", revoked: false, active: true },
            { consentId: "c2", patientId: "c".repeat(64), patientRef: "c".repeat(64), doctor: "dr.house", purpose: "treatment", purposeCode: "treatment", expiresAt: "2026-01-02T00:00:00Z", grantedAt: "2026-01-01T00:00:00Z", revoked: true, active: false },
          ],
          bookmark: "",
        },
      }),
      "GET /shared/patients/:ref/reports": () => ({
        body: { items: [{ reportId: "r".repeat(32), version: 1, patientId: ref, title: "Cardiology", author: "dr.jones", authorMsp: "HospitalBMSP", createdAt: "2026-02-01T00:00:00Z", cid: "bafy" }], bookmark: "" },
      }),
    });
    const user = userEvent.setup();
    render(<App client={client} />);
    await signIn(user, "dr.house");
    await user.click(await screen.findByRole("button", { name: "Shared with me" }));
    const table = await screen.findByRole("table", { name: "Consents naming you" });
    await waitFor(() => expect(table).toHaveTextContent("Hospital B"));  // the server's name for HospitalBMSP
    expect(table).toHaveTextContent("Second opinion");
    expect(table).toHaveTextContent("Revoked");
    expect(screen.getByRole("button", { name: `Show reports of patient ${"c".repeat(12)}` })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: `Show reports of patient ${"b".repeat(12)}` }));
    const reports = await screen.findByRole("table", { name: "Reports" });
    expect(reports).toHaveTextContent("Cardiology");
    expect(reports).toHaveTextContent("Dr. Indiana Jones");
    expect(within(reports).getByTitle("Hospital (MSP ID HospitalBMSP)")).toHaveTextContent("Hospital B");
    expect(calls.some((c) => c.path === `/shared/patients/${ref}/reports`)).toBe(true);
    await user.click(within(reports).getByRole("button", { name: "Open Cardiology" }));
    // The existing report view opens it through the normal route.
    await waitFor(() => expect(calls.some((c) => c.path === `/reports/${"r".repeat(32)}`)).toBe(true));
  });

  it("shows the server's refusal when the consent is gone", async () => {
    const ref = "b".repeat(64);
    const { client } = fakeApi({
      "GET /auth/config": () => ({ body: {} }),
      "POST /auth/login": () => ({ body: doctorTokens }),
      "GET /patients": () => ({ body: { items: [], bookmark: "" } }),
      "GET /directory/clinicians": () => ({ body: { items: [], bookmark: "" } }),
      "GET /shared/consents": () => ({
        body: { items: [{ consentId: "c1", patientId: ref, patientRef: ref, doctor: "dr.house", purpose: "treatment", expiresAt: "2999-01-01T00:00:00Z", grantedAt: "2026-01-01T00:00:00Z", revoked: false, active: true }], bookmark: "" },
      }),
      "GET /shared/patients/:ref/reports": () => ({ status: 403, body: { status: 403, code: "no_consent", title: "Forbidden", detail: "no active consent of this patient names you" } }),
    });
    const user = userEvent.setup();
    render(<App client={client} />);
    await signIn(user, "dr.house");
    await user.click(await screen.findByRole("button", { name: "Shared with me" }));
    await user.click(await screen.findByRole("button", { name: `Show reports of patient ${"b".repeat(12)}` }));
    expect(await screen.findByText("Could not load the shared reports")).toBeInTheDocument();
  });
});

describe("publishing a doctor", () => {
  it("lets the administrator publish a local doctor under a checked display name", async () => {
    const posts: unknown[] = [];
    const { client } = fakeApi({
      "GET /auth/config": () => ({ body: {} }),
      "POST /auth/login": () => ({ body: { ...doctorTokens, user: { username: "admin", role: "admin", displayName: "Ada Admin" } } }),
      "GET /patients": () => ({ body: { items: [], bookmark: "" } }),
      "GET /users": () => ({ body: { items: [] } }),
      "GET /directory/clinicians": () => ({ body: { items: [], bookmark: "" } }),
      "GET /doctors": () => ({ body: { items: [{ username: "dr.grey", displayName: "Dr. Meredith Grey" }] } }),
      "POST /directory/clinicians": (body) => {
        posts.push(body);
        return { status: 201, body: { mspId: "HospitalAMSP", username: "dr.grey", displayName: (body as { displayName: string }).displayName, role: "doctor", active: true } };
      },
    });
    const user = userEvent.setup();
    render(<App client={client} />);
    await signIn(user, "admin");
    await user.click(await screen.findByRole("button", { name: "Users and roles" }));
    const form = await screen.findByRole("form", { name: "Publish a doctor" });
    await waitFor(() => expect(within(form).getAllByRole("option")).toHaveLength(2));
    await user.selectOptions(within(form).getByLabelText(/Doctor/), "dr.grey");
    const name = within(form).getByLabelText(/Name in the directory/);
    expect(name).toHaveValue("Dr. Meredith Grey");
    await user.clear(name);
    await user.type(name, "x".repeat(129));
    expect(within(form).getByText("One line of at most 128 bytes.")).toBeInTheDocument();
    expect(within(form).getByRole("button", { name: "Publish" })).toBeDisabled();
    await user.clear(name);
    await user.type(name, "  Dr. M. Grey ");
    await user.click(within(form).getByRole("button", { name: "Publish" }));
    expect(await within(form).findByText("Dr. M. Grey is listed in the directory as HospitalAMSP/dr.grey.")).toBeInTheDocument();
    expect(posts).toEqual([{ username: "dr.grey", displayName: "Dr. M. Grey" }]);
  });
});
