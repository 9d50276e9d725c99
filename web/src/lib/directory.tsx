// The consortium directory of clinicians (published on the ledger by each hospital's administrator), loaded
// once per session and shared by every screen that names a person: consent forms pick doctors from it, and
// actors (access log, audit, report authors) are shown with their published name and their hospital.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { ApiClient } from "./api";
import { useApi } from "./session";
import type { Clinician } from "./types";

/** At most this many pages of 100 entries are read: a bound on what one session loads. */
export const MAX_DIRECTORY_PAGES = 20;

/** MSP ID -> hospital name, from the server; an older server without the route leaves MSP IDs as they are. */
export async function loadHospitalNames(api: Pick<ApiClient, "organizations">): Promise<Record<string, string>> {
  try {
    const p = await api.organizations();
    return Object.fromEntries(p.items.filter((o) => o.mspId && o.displayName).map((o) => [o.mspId, o.displayName]));
  } catch {
    return {};
  }
}

export async function loadDirectory(api: Pick<ApiClient, "clinicians">): Promise<Clinician[]> {
  const all: Clinician[] = [];
  let bookmark: string | undefined;
  for (let page = 0; page < MAX_DIRECTORY_PAGES; page++) {
    const p = await api.clinicians(undefined, bookmark, 100);
    all.push(...p.items);
    if (!p.bookmark) break;
    bookmark = p.bookmark;
  }
  return all;
}

/** "<mspId>/<username>": how the ledger names a user, and the `doctor` of a consent to another hospital's doctor. */
export const clinicianId = (c: Pick<Clinician, "mspId" | "username">) => `${c.mspId}/${c.username}`;

/**
 * A hospital's name for display. The ledger knows hospitals by MSP ID; a name is shown when one is known
 * (`names`), otherwise the MSP ID itself, which is what every hospital's staff see in the directory.
 */
export function hospitalName(msp: string | undefined, names: Record<string, string> = {}): string {
  if (!msp) return "";
  // Own keys only: an MSP ID such as "constructor" must not name an Object.prototype member.
  return Object.hasOwn(names, msp) ? names[msp] : msp;
}

export interface Directory {
  clinicians: Clinician[];
  loading: boolean;
  error?: unknown;
  /** The published name of `username` at hospital `msp` (any hospital when `msp` is absent and the name is unique). */
  nameOf(username: string, msp?: string): string | undefined;
  hospital(msp?: string): string;
}

export function makeDirectory(clinicians: Clinician[], loading = false, error?: unknown, hospitals: Record<string, string> = {}): Directory {
  const byId = new Map(clinicians.map((c) => [clinicianId(c), c]));
  return {
    clinicians,
    loading,
    error,
    nameOf(username, msp) {
      if (msp) return byId.get(`${msp}/${username}`)?.displayName;
      const matches = clinicians.filter((c) => c.username === username);
      return matches.length === 1 ? matches[0].displayName : undefined;
    },
    hospital: (msp) => hospitalName(msp, hospitals),
  };
}

const EMPTY = makeDirectory([]);
const DirectoryContext = createContext<Directory>(EMPTY);

/** The directory for this session's screens; screens outside a provider (tests) see an empty one. */
export const useDirectory = () => useContext(DirectoryContext);

export function DirectoryProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [state, setState] = useState<{ items: Clinician[]; loading: boolean; error?: unknown; hospitals: Record<string, string> }>({ items: [], loading: true, hospitals: {} });
  useEffect(() => {
    let alive = true;
    Promise.all([loadDirectory(api), loadHospitalNames(api)]).then(
      ([items, hospitals]) => alive && setState({ items, loading: false, hospitals }),
      (error) => alive && setState({ items: [], loading: false, error, hospitals: {} }),
    );
    return () => {
      alive = false;
    };
  }, [api]);
  const value = useMemo(() => makeDirectory(state.items, state.loading, state.error, state.hospitals), [state]);
  return <DirectoryContext.Provider value={value}>{children}</DirectoryContext.Provider>;
}

/** A person as the ledger names them: published name (when listed) and username, with their hospital. */
export function Actor({ username, msp, role }: { username: string; msp?: string; role?: string }) {
  const dir = useDirectory();
  const name = dir.nameOf(username, msp);
  return (
    <span className="inline-flex flex-wrap items-baseline gap-x-1" data-actor={msp ? `${msp}/${username}` : username}>
      {name ? (
        <>
          <span>{name}</span>
          <span className="text-xs text-slate-500">{username}</span>
        </>
      ) : (
        <span>{username}</span>
      )}
      {role && <span className="text-xs text-slate-500">({role})</span>}
      {msp && <HospitalTag msp={msp} />}
    </span>
  );
}

export function HospitalTag({ msp }: { msp: string }) {
  const dir = useDirectory();
  return (
    <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700" title={`Hospital (MSP ID ${msp})`} aria-label={`hospital ${dir.hospital(msp)}`}>
      {dir.hospital(msp)}
    </span>
  );
}
