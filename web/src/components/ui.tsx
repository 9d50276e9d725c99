import { useEffect, useState, type ReactNode } from "react";
import { Alert, Button, Card, Description, FieldError, Input, Label, Spinner, TextArea, TextField } from "@heroui/react";
import { errorText } from "../lib/format";
import { ApiError } from "../lib/problems";

export function Page({ title, subtitle, actions, children }: { title: string; subtitle?: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section aria-labelledby="page-title" className="flex flex-col gap-5">
      <header className="flex flex-wrap items-end justify-between gap-3 border-b border-slate-200 pb-3">
        <div>
          <h1 id="page-title" className="text-xl font-semibold text-slate-900">
            {title}
          </h1>
          {subtitle && <p className="mt-0.5 text-sm text-slate-600">{subtitle}</p>}
        </div>
        {actions && <div className="flex gap-2">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Panel({ title, children, actions, className = "" }: { title?: string; children: ReactNode; actions?: ReactNode; className?: string }) {
  return (
    <Card className={`border border-slate-200 shadow-none ${className}`}>
      {(title || actions) && (
        <Card.Header className="flex flex-row items-center justify-between gap-2">
          {title && <Card.Title className="text-base font-semibold text-slate-900">{title}</Card.Title>}
          {actions}
        </Card.Header>
      )}
      <Card.Content>{children}</Card.Content>
    </Card>
  );
}

export function ProblemAlert({ error, title = "Something went wrong" }: { error: unknown; title?: string }) {
  if (!error) return null;
  const detail = error instanceof ApiError && error.problem.detail && error.problem.detail !== error.message ? error.problem.detail : undefined;
  return (
    <Alert status="danger" role="alert">
      <Alert.Indicator />
      <Alert.Content>
        <Alert.Title>{title}</Alert.Title>
        <Alert.Description>
          {errorText(error)}
          {detail && <span className="block text-xs opacity-80">{detail}</span>}
        </Alert.Description>
      </Alert.Content>
    </Alert>
  );
}

export function Notice({ status = "success", title, children }: { status?: "success" | "warning" | "accent" | "danger" | "default"; title: string; children?: ReactNode }) {
  return (
    <Alert status={status} role="status">
      <Alert.Indicator />
      <Alert.Content>
        <Alert.Title>{title}</Alert.Title>
        {children && <Alert.Description>{children}</Alert.Description>}
      </Alert.Content>
    </Alert>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div role="status" aria-live="polite" className="flex items-center gap-2 py-6 text-sm text-slate-600">
      <Spinner size="sm" aria-hidden />
      {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-slate-50 px-4 py-8 text-center">
      <p className="font-medium text-slate-800">{title}</p>
      {children && <p className="mt-1 text-sm text-slate-600">{children}</p>}
    </div>
  );
}

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <Button
      size="sm"
      variant="ghost"
      aria-label={`Copy ${label}`}
      className="print:hidden"
      onPress={async () => {
        try {
          await navigator.clipboard.writeText(value);
        } catch {
          const ta = document.createElement("textarea");
          ta.value = value;
          document.body.appendChild(ta);
          ta.select();
          document.execCommand("copy");
          ta.remove();
        }
        setCopied(true);
      }}
    >
      {copied ? "Copied" : "Copy"}
    </Button>
  );
}

export function Mono({ children }: { children: ReactNode }) {
  return <code className="break-all font-mono text-[13px] text-slate-800">{children}</code>;
}

interface FieldProps {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  description?: string;
  required?: boolean;
  type?: string;
  name?: string;
  placeholder?: string;
  multiline?: boolean;
  rows?: number;
  autoComplete?: string;
  maxLength?: number;
  autoFocus?: boolean;
}

/** A labelled text field whose error (if any) is shown under it and announced to screen readers. */
export function Field({ label, value, onChange, error, description, required, type = "text", name, placeholder, multiline, rows = 6, autoComplete, autoFocus }: FieldProps) {
  return (
    <TextField
      className="flex w-full flex-col gap-1"
      value={value}
      onChange={onChange}
      isInvalid={!!error}
      isRequired={required}
      name={name}
      type={multiline ? undefined : type}
      validationBehavior="aria"
      autoFocus={autoFocus}
    >
      <Label>{label}</Label>
      {multiline ? (
        <TextArea rows={rows} placeholder={placeholder} className="font-normal" />
      ) : (
        <Input placeholder={placeholder} autoComplete={autoComplete} />
      )}
      {description && !error && <Description>{description}</Description>}
      <FieldError>{error}</FieldError>
    </TextField>
  );
}

export function SelectField({ label, value, onChange, options, error, required, id }: {
  label: string; value: string; onChange: (v: string) => void; options: Array<{ value: string; label: string }>; error?: string; required?: boolean; id: string;
}) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium text-slate-800">
        {label}
        {required && <span aria-hidden className="text-red-700"> *</span>}
      </label>
      <select
        id={id}
        value={value}
        required={required}
        aria-invalid={!!error}
        aria-describedby={error ? `${id}-err` : undefined}
        onChange={(e) => onChange(e.target.value)}
        className="h-9 rounded-lg border border-slate-300 bg-white px-2 text-sm text-slate-900 focus:outline-2 focus:outline-offset-1 focus:outline-teal-700 aria-[invalid=true]:border-red-600"
      >
        <option value="">Choose…</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error && (
        <span id={`${id}-err`} className="text-xs text-red-700">
          {error}
        </span>
      )}
    </div>
  );
}

export function Badge({ tone = "neutral", children }: { tone?: "neutral" | "danger" | "success" | "warning" | "info"; children: ReactNode }) {
  const tones = {
    neutral: "bg-slate-100 text-slate-800 ring-slate-300",
    danger: "bg-red-50 text-red-800 ring-red-300",
    success: "bg-emerald-50 text-emerald-800 ring-emerald-300",
    warning: "bg-amber-50 text-amber-900 ring-amber-300",
    info: "bg-sky-50 text-sky-900 ring-sky-300",
  } as const;
  return <span className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${tones[tone]}`}>{children}</span>;
}

export function Table({ caption, head, children }: { caption: string; head: string[]; children: ReactNode }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200">
      <table className="w-full border-collapse text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-600">
          <tr>
            {head.map((h) => (
              <th key={h} scope="col" className="px-3 py-2 font-semibold">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-200">{children}</tbody>
      </table>
    </div>
  );
}

export function DefList({ rows, stacked }: { rows: Array<[string, ReactNode, string?]>; stacked?: boolean }) {
  if (stacked)
    return (
      <dl className="flex flex-col gap-2 text-sm">
        {rows.map(([k, v, copy]) => (
          <div key={k} className="flex items-start justify-between gap-2 border-b border-slate-100 pb-2 last:border-0">
            <div className="min-w-0">
              <dt className="text-xs font-semibold uppercase tracking-wide text-slate-500">{k}</dt>
              <dd className="text-slate-900">{v}</dd>
            </div>
            {copy && <CopyButton value={copy} label={k} />}
          </div>
        ))}
      </dl>
    );
  return (
    <dl className="grid grid-cols-1 gap-x-4 gap-y-2 text-sm sm:grid-cols-[12rem_1fr]">
      {rows.map(([k, v, copy]) => (
        <div key={k} className="contents">
          <dt className="font-medium text-slate-600">{k}</dt>
          <dd className="flex items-start justify-between gap-2 text-slate-900">
            <span className="min-w-0">{v}</span>
            {copy && <CopyButton value={copy} label={k} />}
          </dd>
        </div>
      ))}
    </dl>
  );
}
