// Pure formatters shared by every screen: dates, sizes and error messages as the user reads them.
import { ApiError, humanMessage } from "./problems";

/** A timestamp in the user's locale, e.g. "7 Dec 2026, 15:18"; "—" when absent, the input when unparsable. */
export function formatDate(iso?: string): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A calendar day in the user's locale. A bare YYYY-MM-DD is read as local midnight so it does not shift a day. */
export function formatDay(iso?: string): string {
  if (!iso) return "—";
  const d = new Date(iso.length === 10 ? iso + "T00:00:00" : iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** A byte count in B, KB or MB (binary multiples) with one decimal. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The sentence to show for a caught error; anything that is not an Error gets the generic server message. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return humanMessage({ code: "internal", status: 500 });
}
