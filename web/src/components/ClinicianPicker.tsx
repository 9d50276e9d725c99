// Choosing a doctor for a consent: a searchable list of the consortium directory (name, hospital, username),
// with typing an ID "<MSP ID>/<username>" as a fallback for a doctor the list does not show.
import { useId, useMemo, useState } from "react";
import { clinicianId, useDirectory } from "../lib/directory";
import type { Clinician } from "../lib/types";
import { Field, Loading, ProblemAlert } from "./ui";

/** How many matches are listed at once: the patient narrows the search instead of scrolling a thousand names. */
export const MAX_SHOWN = 50;

// The ledger's caller ID: an MSP ID and a username, each [A-Za-z0-9._:-] (usernames also '@').
const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}\/[A-Za-z0-9._:@-]{1,128}$/;

export function isDoctorId(s: string): boolean {
  return ID_PATTERN.test(s);
}

export function matchClinicians(items: Clinician[], query: string, hospital: (msp: string) => string): Clinician[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return items
    .filter((c) => c.active && c.role === "doctor")
    .filter((c) => {
      const text = `${c.displayName} ${c.username} ${c.mspId} ${hospital(c.mspId)}`.toLowerCase();
      return words.every((w) => text.includes(w));
    })
    .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.mspId.localeCompare(b.mspId));
}

export function ClinicianPicker({ value, onChange, error }: { value: string; onChange: (id: string) => void; error?: string }) {
  const dir = useDirectory();
  const id = useId();
  const [query, setQuery] = useState("");
  const listed = useMemo(() => new Set(dir.clinicians.map(clinicianId)), [dir.clinicians]);
  const [typed, setTyped] = useState(() => (value && !listed.has(value) ? value : ""));
  const matches = useMemo(() => matchClinicians(dir.clinicians, query, dir.hospital), [dir, query]);
  const shown = matches.slice(0, MAX_SHOWN);
  const typedError = typed && !isDoctorId(typed) ? "Type the ID as MSP/username, e.g. HospitalBMSP/dr.jones." : undefined;

  return (
    <fieldset className="flex flex-col gap-2" aria-describedby={error ? `${id}-err` : undefined}>
      <legend className="text-sm font-medium text-slate-800">
        Doctor<span aria-hidden className="text-red-700"> *</span>
      </legend>
      <Field label="Search doctors" value={query} onChange={setQuery} placeholder="Name, hospital or username" />
      {dir.loading && <Loading label="Loading the directory…" />}
      <ProblemAlert error={dir.error} title="Could not load the directory of doctors" />
      {!dir.loading && !dir.error && (
        <div role="radiogroup" aria-label="Doctors" className="max-h-64 overflow-auto rounded-lg border border-slate-200">
          {shown.length === 0 ? (
            <p className="px-3 py-2 text-sm text-slate-600">{dir.clinicians.length ? "No doctor matches this search." : "The directory lists no doctors yet."}</p>
          ) : (
            shown.map((c) => {
              const cid = clinicianId(c);
              return (
                <label key={cid} className="flex cursor-pointer items-start gap-2 border-b border-slate-100 px-3 py-2 text-sm last:border-b-0 hover:bg-slate-50">
                  <input
                    type="radio"
                    name={`${id}-doctor`}
                    value={cid}
                    checked={value === cid}
                    onChange={() => {
                      setTyped("");
                      onChange(cid);
                    }}
                    className="mt-1"
                  />
                  <span className="flex flex-col">
                    <span className="font-medium text-slate-900">{c.displayName}</span>
                    <span className="text-xs text-slate-600">
                      {dir.hospital(c.mspId)} · {c.username}
                    </span>
                  </span>
                </label>
              );
            })
          )}
          {matches.length > shown.length && (
            <p className="px-3 py-2 text-xs text-slate-600">{matches.length - shown.length} more: refine the search.</p>
          )}
        </div>
      )}
      <Field
        label="Or type a doctor ID"
        value={typed}
        placeholder="MSP/username"
        description="For a doctor not listed above: their hospital's MSP ID and their username."
        error={typedError}
        onChange={(v) => {
          setTyped(v);
          onChange(v.trim());
        }}
      />
      {error && (
        <span id={`${id}-err`} className="text-xs text-red-700">
          {error}
        </span>
      )}
    </fieldset>
  );
}
