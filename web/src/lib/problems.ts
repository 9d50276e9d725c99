// RFC 9457 problem+json -> plain, human messages. Codes are the server's stable snake_case codes.

export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code: string;
  errors?: FieldProblem[];
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(humanMessage(problem));
    this.name = "ApiError";
    this.problem = problem;
  }
  get status() {
    return this.problem.status;
  }
  get code() {
    return this.problem.code;
  }
}

const MESSAGES: Record<string, string> = {
  invalid_credentials: "The username or password is not correct.",
  token_revoked: "Your session was ended (password change, sign-out or an administrator). Please sign in again.",
  account_pending_approval: "This account is waiting for a second administrator's approval.",
  invalid_bookmark: "This list changed or the link expired. Start again from the first page.",
  invalid_page_size: "The page size must be between 1 and 100.",
  bidi_control: "The text contains hidden direction-override characters, which are not allowed.",
  server_busy: "The server is busy. Please try again in a moment.",
  too_many_connections_from_address: "Too many connections from your network. Please try again in a moment.",
  not_implemented_on_fabric: "Whole-chain verification runs on the peers in a Fabric network, not here.",
  account_locked: "This account is temporarily locked after too many attempts. Try again later.",
  unauthenticated: "Your session has ended. Please sign in again.",
  invalid_token: "Your session has ended. Please sign in again.",
  token_expired: "Your session has expired. Please sign in again.",
  invalid_refresh_token: "Your session has ended. Please sign in again.",
  permission_denied: "You do not have permission to do this.",
  forbidden: "You do not have permission to do this.",
  no_consent: "The patient has not given you access to this record.",
  consent_required: "The patient has not given you access to this record.",
  not_found: "The requested item was not found.",
  patient_not_found: "No patient with this identifier is registered.",
  report_not_found: "This report was not found.",
  user_not_found: "This user was not found.",
  validation_failed: "Some fields need attention.",
  invalid_argument: "The request was not valid.",
  invalid_request: "The request was not valid.",
  invalid_json: "The request was not valid.",
  too_large: "The file or text is too large.",
  payload_too_large: "The file or text is too large.",
  attachment_too_large: "An attachment is larger than allowed.",
  unsupported_type: "This file type is not allowed.",
  unsupported_media_type: "This file type is not allowed.",
  active_content: "The content contains active content (HTML, script or an executable), which is not allowed.",
  active_content_rejected: "The content contains active content (HTML, script or an executable), which is not allowed.",
  already_exists: "An item with this identifier already exists.",
  report_exists: "A report with this identifier already exists.",
  patient_exists: "A patient with this hospital number is already registered.",
  user_exists: "A user with this username already exists.",
  conflict: "Someone else changed this at the same time. Please try again.",
  mvcc_conflict: "Someone else changed this at the same time. Please try again.",
  not_author: "Only the author of a report can amend it.",
  consent_not_found: "This consent was not found.",
  consent_already_revoked: "This consent has already been revoked.",
  consent_revoked: "The patient has withdrawn their consent for you to read this record.",
  consent_expired: "The patient's consent for you to read this record has expired. Ask the patient to renew it.",
  key_holder_unavailable: "The hospital that holds this report cannot be reached right now. Please try again shortly.",
  content_unavailable: "No copy of this report's content can be reached right now. Please try again shortly.",
  key_already_released: "This read was already used to open the report. Open it again.",
  access_expired: "This read is too old to open the report. Open it again.",
  rate_limited: "Too many requests. Please wait a moment and try again.",
  resource_exhausted: "The server is busy. Please wait a moment and try again.",
  unavailable: "The service is temporarily unavailable. Please try again shortly.",
  timeout: "The service did not answer in time. Please try again.",
  corruption: "The stored record failed its integrity check.",
  integrity_error: "The stored record failed its integrity check.",
  content_corrupted: "The stored record failed its integrity check.",
  content_hash_mismatch: "The stored record does not match the hash recorded on the ledger.",
  decrypt_failed: "The stored record could not be decrypted: it fails its integrity check.",
  oidc_user_unknown: "Your organisation signed you in, but you are not enrolled in medledger. Ask an administrator to enroll you.",
  oidc_role_mismatch: "Your organisation's role for you differs from your medledger role. Ask an administrator to check it.",
  oidc_role_unmapped: "Your organisation's role for you gives no access to medledger.",
  oidc_unavailable: "Your organisation's sign-in service cannot be reached. Try again, or sign in with your password.",
  oidc_exchange_failed: "The sign-in with your organisation could not be completed. Please try again.",
  oidc_nonce_mismatch: "The sign-in with your organisation could not be completed. Please try again.",
  oidc_token_invalid: "Your organisation's sign-in could not be verified. Please try again.",
  content_erased: "This record's content has been erased at the patient's or hospital's request; its ledger record and proof remain.",
  receipt_not_ready: "The receipt is not ready yet: the hospital's public log has not yet published a checkpoint that includes this record. Try again in a few seconds.",
  log_unavailable: "The hospital's public log is temporarily unavailable. Try again shortly.",
  internal: "Something went wrong on the server. Please try again.",
  network_error: "Cannot reach the server. Check your connection and try again.",
};

const BY_STATUS: Record<number, string> = {
  400: "The request was not valid.",
  401: "Your session has ended. Please sign in again.",
  403: "You do not have permission to do this.",
  404: "The requested item was not found.",
  409: "This conflicts with the current state. Please reload and try again.",
  410: "This content has been erased and can no longer be read.",
  413: "The file or text is too large.",
  415: "This file type is not allowed.",
  422: "Some fields need attention.",
  429: "Too many requests. Please wait a moment and try again.",
  503: "The service is temporarily unavailable. Please try again shortly.",
  504: "The service did not answer in time. Please try again.",
};

export function humanMessage(p: Pick<Problem, "code" | "status" | "title">): string {
  if (p.code && MESSAGES[p.code]) return MESSAGES[p.code];
  if (BY_STATUS[p.status]) return BY_STATUS[p.status];
  if (p.status >= 500) return MESSAGES.internal;
  return p.title || "Something went wrong.";
}

export function isIntegrityProblem(p: Problem): boolean {
  return ["corruption", "integrity_error", "content_corrupted", "content_hash_mismatch", "cid_mismatch", "hash_mismatch", "decrypt_failed"].includes(
    p.code,
  );
}

/** Field errors keyed by field name, e.g. {"title": "Title is required"}. */
export function fieldErrors(p: Problem): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of p.errors ?? []) {
    const key = e.field.replace(/^\/|^body\./, "").split(/[./[]/)[0];
    if (!out[key]) out[key] = e.message || humanMessage({ code: e.code, status: 422 });
  }
  return out;
}

/** Parses a response body into a Problem, tolerating non-JSON error bodies. */
export function toProblem(status: number, body: unknown): Problem {
  if (body && typeof body === "object" && "code" in body) {
    const b = body as Partial<Problem>;
    return {
      type: b.type,
      title: b.title,
      status: typeof b.status === "number" ? b.status : status,
      detail: b.detail,
      code: String(b.code),
      errors: Array.isArray(b.errors) ? b.errors : undefined,
    };
  }
  return { status, code: status >= 500 ? "internal" : `http_${status}`, title: `HTTP ${status}` };
}
