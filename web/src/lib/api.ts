// The API client. The access token lives only in memory; the refresh token in memory and in
// sessionStorage (so a reload of the tab keeps the session; closing the tab ends it). Nothing else is
// stored in the browser. Requests that fail with 401 refresh once and are retried, so a form in
// progress is never lost to an expired access token.
import { ApiError, toProblem } from "./problems";
import { attachmentType } from "./validation";
import type {
  AccessEvent, AuthConfig, Clinician, Erasure, ErasureReason, Organization, ConsistencyProof, Consent, Doctor, EmergencyGrant, LedgerStatus, LedgerVerify, LogStatus, Page, Patient, Proof,
  Receipt, Report, ReportSummary, SharedConsent, SmartApp, SmartAppDraft, SmartAuthorizationRequest, TokenResponse, User, Version,
} from "./types";

export const REFRESH_KEY = "medledger.rt";
const BASE = "/api/v1";

export interface ReportInput {
  patientId: string;
  title: string;
  diagnosis: string;
  content: string;
  attachments: File[];
}

export interface AmendInput {
  title?: string;
  diagnosis?: string;
  content: string;
  reason: string;
}

export interface AuditFilter {
  kind?: string;
  actor?: string;
  patientId?: string;
  emergencyOnly?: boolean;
  pageSize?: number;
  bookmark?: string;
}

type Listener = (user: User | null, reason?: string) => void;

function qs(params: Record<string, string | number | boolean | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "" && v !== false) u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}

export class ApiClient {
  private accessToken: string | null = null;
  private refreshToken: string | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<boolean> | null = null;
  private listeners = new Set<Listener>();
  user: User | null = null;

  constructor(
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
    private readonly storage: Storage | null = typeof sessionStorage !== "undefined" ? sessionStorage : null,
  ) {}

  onSession(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(reason?: string) {
    for (const l of this.listeners) l(this.user, reason);
  }

  get signedIn() {
    return this.accessToken !== null;
  }

  private setTokens(t: TokenResponse) {
    this.accessToken = t.accessToken;
    this.refreshToken = t.refreshToken;
    this.user = t.user;
    this.storage?.setItem(REFRESH_KEY, t.refreshToken);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    // Refresh silently at 80% of the access token's lifetime.
    const ms = Math.max(5_000, (t.expiresIn || 300) * 800);
    this.refreshTimer = setTimeout(() => void this.refresh(), ms);
  }

  private clearTokens() {
    this.accessToken = null;
    this.refreshToken = null;
    this.user = null;
    this.storage?.removeItem(REFRESH_KEY);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  async login(username: string, password: string): Promise<User> {
    const t = await this.raw<TokenResponse>("POST", "/auth/login", { username, password }, false);
    this.setTokens(t);
    this.emit();
    return t.user;
  }

  /** Finishes "Sign in with your organisation": the server redeems the provider's code. */
  async loginWithOidc(redemption: { code: string; codeVerifier: string; redirectUri: string; nonce: string }): Promise<User> {
    const t = await this.raw<TokenResponse>("POST", "/auth/oidc/token", redemption, false);
    this.setTokens(t);
    this.emit();
    return t.user;
  }

  /** Resumes a session after a reload using the refresh token kept in sessionStorage. */
  async resume(): Promise<User | null> {
    const rt = this.storage?.getItem(REFRESH_KEY);
    if (!rt) return null;
    this.refreshToken = rt;
    const ok = await this.refresh();
    return ok ? this.user : null;
  }

  refresh(): Promise<boolean> {
    if (this.refreshing) return this.refreshing;
    const rt = this.refreshToken;
    if (!rt) return Promise.resolve(false);
    this.refreshing = (async () => {
      try {
        const t = await this.raw<TokenResponse>("POST", "/auth/refresh", { refreshToken: rt }, false);
        const changed = this.user?.username !== t.user?.username;
        this.setTokens(t);
        if (changed) this.emit();
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
          this.clearTokens();
          this.emit("expired");
        }
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  async logout(reason?: string): Promise<void> {
    const rt = this.refreshToken;
    const at = this.accessToken;
    this.clearTokens();
    this.emit(reason);
    if (rt) {
      try {
        await this.fetchImpl(`${BASE}/auth/logout`, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...(at ? { Authorization: `Bearer ${at}` } : {}) },
          body: JSON.stringify({ refreshToken: rt }),
        });
      } catch {
        /* best effort */
      }
    }
  }

  private async raw<T>(method: string, path: string, body?: unknown, auth = true, accept = "json", mediaType = "application/json", base = BASE): Promise<T> {
    const headers: Record<string, string> = { Accept: `${mediaType}, application/problem+json` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    let res: Response;
    try {
      res = await this.fetchImpl(base + path, {
        method,
        headers,
        body: body !== undefined ? JSON.stringify(body) : undefined,
        cache: "no-store",
      });
    } catch {
      throw new ApiError({ status: 0, code: "network_error" });
    }
    if (!res.ok) {
      let b: unknown = null;
      try {
        b = await res.json();
      } catch {
        /* not JSON */
      }
      throw new ApiError(toProblem(res.status, b));
    }
    if (accept === "bytes") return new Uint8Array(await res.arrayBuffer()) as T;
    if (accept === "blob") return (await res.blob()) as T;
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** An authenticated request: on 401 refreshes the access token once and retries. */
  async request<T>(method: string, path: string, body?: unknown, accept = "json", mediaType?: string): Promise<T> {
    try {
      return await this.raw<T>(method, path, body, true, accept, mediaType);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && this.refreshToken) {
        if (await this.refresh()) return this.raw<T>(method, path, body, true, accept, mediaType);
      }
      throw e;
    }
  }

  // --- endpoints -------------------------------------------------------------------------------
  authConfig = () => this.raw<AuthConfig>("GET", "/auth/config", undefined, false);
  me = () => this.request<User>("GET", "/me");
  // SMART on FHIR: the consent screen's authorization request and decision; the administrator's app registry.
  authorizationRequest = (id: string) => this.request<SmartAuthorizationRequest>("GET", `/oauth2/requests/${encodeURIComponent(id)}`);
  decideAuthorization = (id: string, approve: boolean) =>
    this.request<{ redirectUri: string }>("POST", `/oauth2/requests/${encodeURIComponent(id)}/decision`, { approve });
  smartApps = () => this.request<Page<SmartApp>>("GET", "/apps");
  createSmartApp = (a: SmartAppDraft) => this.request<SmartApp & { clientSecret?: string }>("POST", "/apps", a);
  deleteSmartApp = (clientId: string) => this.request<void>("DELETE", `/apps/${encodeURIComponent(clientId)}`);
  users = () => this.request<Page<User>>("GET", "/users");
  createUser = (u: { username: string; role: string; displayName: string; password: string }) =>
    this.request<User>("POST", "/users", u);
  doctors = () => this.request<Page<Doctor>>("GET", "/doctors");
  /** The consortium directory: every hospital's published doctors (or one hospital's, by MSP ID). */
  clinicians = (org?: string, bookmark?: string, pageSize = 100) =>
    this.request<Page<Clinician>>("GET", `/directory/clinicians${qs({ org, pageSize, bookmark })}`);
  /** The hospitals the server can name (itself and the consortium's other members). */
  organizations = () => this.request<Page<Organization>>("GET", "/directory/organizations");
  /** Erasure on the ledger (administrators): recorded with the administrator's identity, then the keys destroyed. */
  eraseReport = (reportId: string, reason: ErasureReason, note?: string) =>
    this.request<Erasure>("POST", `/reports/${encodeURIComponent(reportId)}/erasure`, note ? { reason, note } : { reason });
  publishClinician = (c: { username: string; displayName: string; active?: boolean }) =>
    this.request<Clinician>("POST", "/directory/clinicians", c);
  /** The consents, at any hospital, that name the signed-in doctor. */
  sharedConsents = (bookmark?: string, pageSize = 100) =>
    this.request<Page<SharedConsent>>("GET", `/shared/consents${qs({ pageSize, bookmark })}`);
  /** A consenting patient's reports, by pseudonym (403 no_consent without an active consent). */
  sharedReports = (patientRef: string, bookmark?: string, pageSize = 50) =>
    this.request<Page<ReportSummary>>("GET", `/shared/patients/${encodeURIComponent(patientRef)}/reports${qs({ pageSize, bookmark })}`);
  patients = (query = "", bookmark?: string, pageSize = 20) =>
    this.request<Page<Patient>>("GET", `/patients${qs({ query, pageSize, bookmark })}`);
  createPatient = (p: { mrn: string; name: string; birthDate: string; username?: string }) =>
    this.request<Patient>("POST", "/patients", p);
  patient = (id: string) => this.request<Patient>("GET", `/patients/${encodeURIComponent(id)}`);
  patientReports = (id: string, bookmark?: string, pageSize = 50) =>
    this.request<Page<ReportSummary>>("GET", `/patients/${encodeURIComponent(id)}/reports${qs({ pageSize, bookmark })}`);
  report = (id: string) => this.request<Report>("GET", `/reports/${encodeURIComponent(id)}`);
  reportDocument = (id: string) =>
    this.request<Uint8Array>("GET", `/reports/${encodeURIComponent(id)}/document`, undefined, "bytes");
  reportCiphertext = (id: string) =>
    this.request<Uint8Array>("GET", `/reports/${encodeURIComponent(id)}/ciphertext`, undefined, "bytes");
  attachment = (id: string, n: number) =>
    this.request<Blob>("GET", `/reports/${encodeURIComponent(id)}/attachments/${n}`, undefined, "blob");
  history = (id: string) => this.request<Page<Version>>("GET", `/reports/${encodeURIComponent(id)}/history`);
  /** The self-contained receipt (docs/RECEIPTS.md), kept as parsed JSON: the verifier checks it, not the client. */
  receipt = (id: string, version?: number) =>
    this.request<unknown>("GET", `/reports/${encodeURIComponent(id)}/receipt${qs({ version })}`, undefined, "json", "application/vnd.medledger.receipt+json");
  // The public log (tiles, checkpoint, trust bundle) is served under /log/, outside the API, without sign-in.
  /** The organisation's published keys. */
  trustBundle = () => this.raw<unknown>("GET", "/log/trust.json", undefined, false, "json", "application/json", "");
  logStatus = () => this.request<LogStatus>("GET", "/log/status");
  consistencyProof = (from: number, to: number) => this.request<ConsistencyProof>("GET", `/log/proof/consistency${qs({ from, to })}`);
  proof = (id: string) => this.request<Proof>("GET", `/reports/${encodeURIComponent(id)}/proof`);
  amend = (id: string, a: AmendInput) =>
    this.request<Receipt>("POST", `/reports/${encodeURIComponent(id)}/amendments`, a);
  consents = (patientId: string) =>
    this.request<Page<Consent>>("GET", `/patients/${encodeURIComponent(patientId)}/consents`);
  grantConsent = (patientId: string, c: { doctor: string; purpose: string; expiresAt: string }) =>
    this.request<Consent>("POST", `/patients/${encodeURIComponent(patientId)}/consents`, c);
  revokeConsent = (patientId: string, consentId: string) =>
    this.request<void>(
      "DELETE",
      `/patients/${encodeURIComponent(patientId)}/consents/${encodeURIComponent(consentId)}`,
    );
  emergencyAccess = (reportId: string, reason: string) =>
    this.request<EmergencyGrant>("POST", `/reports/${encodeURIComponent(reportId)}/emergency-access`, { reason });
  accessLog = (patientId: string, bookmark?: string, pageSize = 50) =>
    this.request<Page<AccessEvent>>("GET", `/patients/${encodeURIComponent(patientId)}/access-log${qs({ pageSize, bookmark })}`);
  auditEvents = (f: AuditFilter) =>
    this.request<Page<AccessEvent>>(
      "GET",
      `/audit/events${qs({ kind: f.kind, actor: f.actor, patientId: f.patientId, emergencyOnly: f.emergencyOnly, pageSize: f.pageSize ?? 50, bookmark: f.bookmark })}`,
    );
  ledgerStatus = () => this.request<LedgerStatus>("GET", "/ledger/status");
  verifyLedger = () => this.request<LedgerVerify>("POST", "/ledger/verify");

  /**
   * Submits a report through XMLHttpRequest so the upload progress of the attachments can be shown.
   * The body is the JSON form of POST /reports (attachments base64-encoded), which every server
   * build accepts. Retries once after a silent refresh on 401.
   */
  async submitReport(input: ReportInput, onProgress?: (fraction: number) => void): Promise<Receipt> {
    const attachments = await Promise.all(
      input.attachments.map(async (f) => ({
        filename: f.name,
        contentType: attachmentType(f),
        data: toBase64(new Uint8Array(await f.arrayBuffer())),
      })),
    );
    const payload = JSON.stringify({
      patientId: input.patientId,
      title: input.title,
      diagnosis: input.diagnosis,
      content: input.content,
      ...(attachments.length ? { attachments } : {}),
    });
    const attempt = () =>
      new Promise<Receipt>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", `${BASE}/reports`);
        xhr.setRequestHeader("Accept", "application/json, application/problem+json");
        xhr.setRequestHeader("Content-Type", "application/json");
        if (this.accessToken) xhr.setRequestHeader("Authorization", `Bearer ${this.accessToken}`);
        xhr.upload.onprogress = (ev) => {
          if (ev.lengthComputable && onProgress) onProgress(ev.loaded / ev.total);
        };
        xhr.onerror = () => reject(new ApiError({ status: 0, code: "network_error" }));
        xhr.onload = () => {
          let body: unknown = null;
          try {
            body = JSON.parse(xhr.responseText);
          } catch {
            /* not JSON */
          }
          if (xhr.status >= 200 && xhr.status < 300) {
            onProgress?.(1);
            resolve(body as Receipt);
          } else reject(new ApiError(toProblem(xhr.status, body)));
        };
        xhr.send(payload);
      });
    try {
      return await attempt();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && this.refreshToken && (await this.refresh())) return attempt();
      throw e;
    }
  }
}

export const api = new ApiClient();

export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
