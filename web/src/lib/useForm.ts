import { useCallback, useMemo, useRef, useState } from "react";
import { ApiError, fieldErrors } from "./problems";
import { hasErrors, type Errors } from "./validation";

export interface FormOptions {
  /**
   * true (the default): a field's client error shows as soon as the user changes it ("validated as you type").
   * false: client errors show only from the first submit on, for every field at once.
   */
  touchOnChange?: boolean;
}

/**
 * The state every form repeats: values, client validation, which fields were touched, the server's per-field
 * errors (problem+json `errors`), the request error and the busy flag. A field shows its client error once
 * touched, else the server's; changing a field drops the server's error for it.
 */
export function useForm<T extends object>(initial: T, validate: (v: T) => Errors<T>, { touchOnChange = true }: FormOptions = {}) {
  const first = useRef(initial);
  const [values, setValues] = useState<T>(initial);
  const [touched, setTouched] = useState<Partial<Record<keyof T, boolean>>>({});
  const [server, setServer] = useState<Partial<Record<keyof T, string>>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = useMemo(() => validate(values), [validate, values]);

  const set = useCallback(
    <K extends keyof T>(k: K, v: T[K]) => {
      setValues((x) => ({ ...x, [k]: v }));
      if (touchOnChange) setTouched((t) => ({ ...t, [k]: true }));
      setServer((s) => {
        if (!(k in s)) return s;
        const rest = { ...s };
        delete rest[k];
        return rest;
      });
    },
    [touchOnChange],
  );

  const touchAll = useCallback(() => {
    setTouched(Object.fromEntries(Object.keys(first.current).map((k) => [k, true])) as Partial<Record<keyof T, boolean>>);
  }, []);

  /** Back to the initial values (or `next`), nothing touched, no errors. */
  const reset = useCallback((next?: T) => {
    setValues(next ?? first.current);
    setTouched({});
    setServer({});
    setError(null);
  }, []);

  const show = (k: keyof T): string | undefined => (touched[k] ? errors[k] : undefined) ?? server[k];

  /**
   * Touches every field and, when the client finds no error, runs `action` with the values while busy. A failure
   * is kept in `error` (and its field problems under their fields) and gives undefined.
   */
  const submit = async <R>(action: (v: T) => Promise<R>): Promise<R | undefined> => {
    touchAll();
    if (hasErrors(errors)) return undefined;
    setBusy(true);
    setError(null);
    try {
      return await action(values);
    } catch (x) {
      setError(x);
      if (x instanceof ApiError) setServer(fieldErrors(x.problem) as Partial<Record<keyof T, string>>);
      return undefined;
    } finally {
      setBusy(false);
    }
  };

  return { values, set, errors, touched, show, touchAll, reset, busy, error, setError, submit };
}
