export type Role = "admin" | "doctor" | "patient" | "auditor";

export interface User {
  username: string;
  role: Role;
  displayName: string;
  patientId?: string;
}

export interface TokenResponse {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  user: User;
}

export interface Page<T> {
  items: T[];
  bookmark?: string;
}

export interface Patient {
  patientId: string;
  name: string;
  birthDate: string;
  username?: string;
}

export interface Receipt {
  reportId: string;
  version: number;
  cid: string;
  contentHash: string;
  txId: string;
  blockNumber: number;
  blockHash: string;
  timestamp: string;
}

export interface ReportSummary {
  reportId: string;
  version: number;
  patientId: string;
  title: string;
  author: string;
  /** The author's hospital (MSP ID). */
  authorMsp?: string;
  createdAt: string;
  cid: string;
  emergency?: boolean;
}

export interface Attachment {
  index: number;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

export interface Report extends ReportSummary {
  diagnosis: string;
  content: string;
  attachments: Attachment[];
  contentHash: string;
  txId: string;
  blockNumber: number;
  blockHash: string;
  previousVersion?: number | string;
}

export interface Version {
  version: number;
  reportId: string;
  txId: string;
  blockNumber?: number;
  timestamp?: string;
  createdAt?: string;
  author: string;
  authorMsp?: string;
  cid: string;
  contentHash: string;
  reason?: string;
}

export interface Proof {
  reportId: string;
  version: number;
  cid: string;
  contentHash: string;
  txId: string;
  validationCode: string | number;
  blockNumber: number;
  blockHash: string;
  previousHash: string;
  dataHash: string;
  blockHeader?: string;
  envelope?: string;
  ordererSignature?: string;
  creatorCertificate?: string;
  endorserCertificate?: string;
  ordererCertificate?: string;
  caCertificate?: string;
}

export interface Consent {
  consentId: string;
  patientId: string;
  doctor: string;
  /** The doctor's hospital (MSP ID). */
  doctorMsp?: string;
  /** The granting patient's hospital (MSP ID). */
  patientMsp?: string;
  purpose: string;
  purposeCode?: string;
  expiresAt: string;
  grantedAt: string;
  revoked: boolean;
  revokedAt?: string;
}

/** GET /shared/consents: a consent, granted at any hospital, that names the signed-in doctor. */
export interface SharedConsent extends Consent {
  /** The patient's pseudonym (same as patientId), for /shared/patients/{patientRef}/reports. */
  patientRef: string;
  active: boolean;
}

/** GET /directory/organizations: a hospital's MSP ID and the name people know it by. */
export interface Organization {
  mspId: string;
  displayName: string;
  self?: boolean;
}

/** The consortium directory of clinicians (GET /directory/clinicians), published on the ledger by each hospital. */
export type ErasureReason = "patient_request" | "legal_order" | "retention_expired" | "entered_in_error";

/** The answer of POST /reports/{id}/erasure. */
export interface Erasure {
  reportId: string;
  reasonCode: ErasureReason;
  txId: string;
  blockNumber: number;
  erasedAt: string;
  erasedBy?: string;
  erasedByMsp?: string;
  keysDestroyed: number;
}

export interface Clinician {
  mspId: string;
  username: string;
  displayName: string;
  role: "doctor";
  active: boolean;
  publishedBy?: string;
  publishedByMsp?: string;
  publishedAt?: string;
}

export interface AccessEvent {
  eventId: string;
  kind: string;
  reportId?: string;
  patientId?: string;
  actor: string;
  /** The actor's hospital (MSP ID). */
  actorMsp?: string;
  actorRole?: string;
  purpose?: string;
  reason?: string;
  /** The break-glass reason was erased with its report (`medledger erase`). */
  reasonErased?: boolean;
  emergency?: boolean;
  timestamp: string;
  txId?: string;
  /** From the ledger's user records, on emergency events (auditor only). */
  actorEnrollmentRecorded?: boolean;
  actorEnrolledAt?: string;
  actorEnrolledBy?: string;
  recentlyEnrolled?: boolean;
}

export interface EmergencyGrant {
  grantId: string;
  reportId: string;
  doctor: string;
  reason: string;
  expiresAt: string;
}

export interface LedgerStatus {
  height: number;
  currentHash: string;
}

export interface LedgerVerify {
  ok: boolean;
  blocks: number;
  transactions: number;
  error?: string;
}

export interface Doctor {
  username: string;
  displayName: string;
}

export interface AuthConfig {
  oidc?: { issuer: string; authorizationEndpoint: string; clientId: string; scope?: string };
}

/** GET /api/v1/log/status: the newest checkpoint of the report log with its witnesses and time-stamp. */
export interface LogStatus {
  origin?: string;
  /** Leaves in the log now (may be ahead of the newest checkpoint). */
  treeSize: number;
  /** Absent until the log has published its first checkpoint. */
  checkpoint?: string;
  checkpointSize?: number;
  cosignatures?: string[];
  /** Base64 DER RFC 3161 token over SHA-256 of `checkpoint`; empty without a TSA. */
  timestampToken?: string;
  anchorTxId?: string;
  published?: number;
}

/** GET /api/v1/log/proof/consistency?from=&to= */
export interface ConsistencyProof {
  from: number;
  to: number;
  proof: string[];
}

/** A SMART on FHIR app registered by an administrator (GET /api/v1/apps). */
export interface SmartApp {
  clientId: string;
  name: string;
  redirectUris: string[];
  confidential: boolean;
  scope: string;
  createdBy: string;
  createdAt: string;
}

export interface SmartAppDraft {
  name: string;
  redirectUris: string[];
  confidential: boolean;
  scope: string;
}

/** What the consent screen shows (GET /api/v1/oauth2/requests/{id}). */
export interface SmartAuthorizationRequest {
  appName: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  scopes: Array<{ scope: string; description: string }>;
  offlineAccess: boolean;
  patient?: string;
}
