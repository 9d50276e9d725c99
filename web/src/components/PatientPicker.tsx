import { useEffect, useState } from "react";
import { Button, Label, SearchField } from "@heroui/react";
import { useApi } from "../lib/session";
import type { Patient } from "../lib/types";
import { Empty, Loading, Mono, ProblemAlert } from "./ui";
import { formatDay } from "../lib/format";

/** Search registered patients by name or hospital number and choose one. */
export function PatientPicker({ onPick, selected, actionLabel = "Select" }: { onPick: (p: Patient) => void; selected?: Patient | null; actionLabel?: string }) {
  const api = useApi();
  const [query, setQuery] = useState("");
  const [items, setItems] = useState<Patient[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let alive = true;
    setLoading(true);
    const t = setTimeout(() => {
      api.patients(query.trim()).then(
        (p) => {
          if (!alive) return;
          setItems(p.items ?? []);
          setError(null);
          setLoading(false);
        },
        (e) => {
          if (!alive) return;
          setError(e);
          setLoading(false);
        },
      );
    }, 250);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [api, query]);

  return (
    <div className="flex flex-col gap-3">
      <SearchField value={query} onChange={setQuery} className="flex flex-col gap-1">
        <Label>Find a patient</Label>
        <SearchField.Group>
          <SearchField.SearchIcon />
          <SearchField.Input placeholder="Name or hospital number" />
          <SearchField.ClearButton />
        </SearchField.Group>
      </SearchField>
      <ProblemAlert error={error} title="Could not search patients" />
      {loading && !items && <Loading label="Searching…" />}
      {items && items.length === 0 && <Empty title="No matching patients">Check the spelling or search by hospital number.</Empty>}
      {items && items.length > 0 && (
        <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200" aria-label="Patients">
          {items.map((p) => {
            const isSel = selected?.patientId === p.patientId;
            return (
              <li key={p.patientId} className={`flex items-center justify-between gap-3 px-3 py-2 ${isSel ? "bg-teal-50" : ""}`}>
                <div className="min-w-0">
                  <p className="font-medium text-slate-900">{p.name}</p>
                  <p className="text-xs text-slate-600">
                    Born {formatDay(p.birthDate)} · ID <Mono>{p.patientId.slice(0, 12)}</Mono>
                  </p>
                </div>
                <Button size="sm" variant={isSel ? "primary" : "secondary"} onPress={() => onPick(p)} aria-label={`${actionLabel} ${p.name}`}>
                  {isSel ? "Selected" : actionLabel}
                </Button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
