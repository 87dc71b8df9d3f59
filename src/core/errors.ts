/**
 * The one error catalogue of credex. Every refusal the gateway or the CLI can
 * give has a machine-readable reason here, with its gRPC status code. The
 * reason travels in google.rpc.ErrorInfo (domain "credex") in the
 * `grpc-status-details-bin` trailer (gRPC rich error model, AIP-193).
 *
 * The internal `cause` is kept for logs and never sent on the wire.
 */

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

export const ERROR_DOMAIN = "credex";

const U = GrpcCode.UNAUTHENTICATED;
const P = GrpcCode.PERMISSION_DENIED;
const I = GrpcCode.INVALID_ARGUMENT;
const R = GrpcCode.RESOURCE_EXHAUSTED;
const N = GrpcCode.UNAVAILABLE;

/** reason → [gRPC code, what it means]. Reasons are stable API: never rename one. */
export const ERROR_CATALOGUE = {
  // authenticate: the caller's certificate and identity
  CLIENT_CERT_MISSING: [U, "no client certificate was presented"],
  CLIENT_CERT_UNTRUSTED: [U, "the client certificate does not chain to the exchange CA"],
  CLIENT_CERT_EXPIRED: [U, "the client certificate has expired"],
  CLIENT_CERT_NOT_YET_VALID: [U, "the client certificate is not yet valid"],
  CLIENT_CERT_REVOKED: [U, "the client certificate has been revoked"],
  CLIENT_CERT_WRONG_USAGE: [U, "the client certificate is not issued for client authentication"],
  CLIENT_CERT_IS_CA: [U, "a CA certificate cannot be used as a client certificate"],
  CLIENT_IDENTITY_MISSING: [U, "the client certificate has no spiffe agency identity in its URI SAN"],
  CLIENT_IDENTITY_MISMATCH: [U, "the client certificate does not match the agency registry entry"],
  AGENCY_UNKNOWN: [U, "the agency is not in the registry"],
  AGENCY_SUSPENDED: [P, "the agency is suspended"],
  ADMIN_ROLE_REQUIRED: [P, "this call needs an administrator certificate with another role"],
  // administrators' second factor (GB/T 22239-2019 8.1.4.1 d; TOTP, RFC 6238)
  ADMIN_TOTP_REQUIRED: [U, "administrator calls need a TOTP code in the x-credex-totp metadata"],
  ADMIN_TOTP_NOT_ENROLLED: [U, "no TOTP secret is enrolled for this administrator certificate"],
  ADMIN_TOTP_INVALID: [U, "the TOTP code is wrong or outside its time window"],
  ADMIN_TOTP_REPLAYED: [U, "the TOTP code was already used (RFC 6238 §5.2); wait for the next one"],

  // validate: the request itself
  REQUEST_MALFORMED: [I, "the request is not a valid protobuf message"],
  REQUEST_TOO_LARGE: [R, "the request is larger than the configured limit"],
  SUBJECT_MISSING: [I, "the subject is missing"],
  SUBJECT_TYPE_INVALID: [I, "the subject type is missing or unknown"],
  USCC_INVALID: [I, "the Unified Social Credit Code is invalid (GB 32100-2015)"],
  RESIDENT_ID_INVALID: [I, "the resident identity number is invalid (GB 11643-1999)"],
  PURPOSE_MISSING: [I, "a purpose is required (Credit Investigation Regulation Art. 18)"],
  PURPOSE_UNKNOWN: [I, "the purpose is not a known value"],
  CATEGORIES_MISSING: [I, "at least one category is required"],
  CATEGORY_UNKNOWN: [I, "a category is not in the catalogue"],
  TOO_MANY_CATEGORIES: [I, "too many categories in one request"],
  FIELD_INVALID: [I, "a request field is invalid"],

  // consent (Credit Investigation Regulation Art. 13, 14.2, 18; PIPL Art. 23, 29)
  CONSENT_REQUIRED: [P, "a natural-person query needs the subject's consent attestation"],
  CONSENT_MALFORMED: [I, "the consent attestation cannot be parsed"],
  CONSENT_SIGNATURE_INVALID: [P, "the consent attestation is not signed by the requesting agency"],
  CONSENT_EXPIRED: [P, "the consent attestation has expired"],
  CONSENT_NOT_YET_VALID: [P, "the consent attestation is not yet valid"],
  CONSENT_SUBJECT_MISMATCH: [P, "the consent attestation is for another subject"],
  CONSENT_PURPOSE_MISMATCH: [P, "the consent attestation is for another purpose"],
  CONSENT_CATEGORY_NOT_COVERED: [P, "the consent attestation does not cover a requested category"],
  CONSENT_REQUESTER_MISMATCH: [P, "the consent attestation was collected by another agency"],
  // a special grant widens a natural person's release only with consent naming those categories (PIPL Art. 29)
  SPECIAL_GRANT_CONSENT_REQUIRED: [P, "a special grant for a natural person needs the subject's consent naming the categories (written, naming sensitive ones)"],
  // statutory exemptions from consent (Art. 18 "except where the law provides"); policies/exemptions.yaml
  STATUTORY_EXEMPTION_UNKNOWN: [P, "the statutory exemption is not in the gateway's exemptions policy"],
  STATUTORY_EXEMPTION_NOT_APPLICABLE: [P, "the statutory exemption does not cover this requester, purpose or category"],
  // who queried (Art. 22)
  OPERATOR_REQUIRED: [I, "a natural-person query must name the human operator inside the requesting agency"],

  // authorize
  PURPOSE_NOT_PERMITTED: [P, "the policy does not allow this purpose for the requested categories"],
  CATEGORY_NOT_PERMITTED: [P, "the policy does not allow the requested categories"],
  EXPLICITLY_DENIED: [P, "an explicit deny rule matches the request"],
  RESTRICTED_MODE: [P, "the gateway is in restricted mode: only level-1 data flows"],
  // GB/T 22239-2019 (等级保护) — categories.yaml minimumProtectionLevel
  PROTECTION_LEVEL_INSUFFICIENT: [P, "the requesting agency's declared security-protection level is below what the category's classification requires"],
  // member types (src/core/sector-rights.ts): bounds of the requester's sector, whatever the policy says
  SECTOR_LEVEL_NOT_PERMITTED: [P, "the requester's sector never receives this classification level through the exchange (a credit bureau never receives level-4 data)"],
  SECTOR_CONSENT_REQUIRED: [P, "the requester's sector receives this classification level only with the subject's consent attestation, whatever the subject's type"],

  // special applications (Planning Outline §3(5)); separation of duties
  SPECIAL_APPLICATION_UNKNOWN: [GrpcCode.NOT_FOUND, "no such special application"],
  SPECIAL_APPLICATION_DECIDED: [GrpcCode.FAILED_PRECONDITION, "the special application was already decided"],
  APPROVER_NOT_OWNER: [P, "only an approver of the owning agency may decide this application"],
  SEPARATION_OF_DUTIES: [P, "the approver must belong to another agency than the requester"],
  SPECIAL_GRANT_UNKNOWN: [P, "the special grant does not exist or was not approved"],
  SPECIAL_GRANT_MISMATCH: [P, "the special grant does not cover this request"],
  SPECIAL_GRANT_EXPIRED: [P, "the special grant has lapsed"],
  SPECIAL_GRANT_EXHAUSTED: [P, "the special grant has no uses left"],

  // limits
  RATE_LIMITED: [R, "the agency exceeded its request rate"],
  TOO_MANY_CONCURRENT_CALLS: [R, "the agency exceeded its concurrent call limit"],
  TOO_MANY_CONNECTIONS: [R, "the agency holds too many connections to the gateway"],
  REQUEST_RECEIVE_TIMEOUT: [R, "the request was not received in full within the configured time; the stream was released"],

  // audit: no audit, no answer
  AUDIT_UNAVAILABLE: [N, "the audit record could not be made durable; nothing is released"],
  AUDIT_SPOOL_FULL: [N, "the audit spool is full; the gateway fails closed"],
  SHUTTING_DOWN: [N, "the gateway is shutting down"],

  // joint reward and punishment lists (Planning Outline §4(1)); policies/lists.yaml
  LIST_UNKNOWN: [I, "the list is not in the list catalogue"],
  LIST_NOT_OWNED: [P, "the caller does not own this list and may not publish to it"],
  LIST_NOT_PERMITTED: [P, "the policy does not allow the caller to publish or receive this list"],
  LIST_ENTRY_INVALID: [I, "a list entry is invalid"],
  TOO_MANY_LIST_ENTRIES: [I, "too many entries in one publish request"],
  CURSOR_INVALID: [I, "the list cursor cannot be read or belongs to another list log"],
  LIST_LOG_UNAVAILABLE: [N, "the list log could not be written or read"],

  // objections (Credit Investigation Regulation Art. 25)
  OBJECTION_NOT_FOUND: [GrpcCode.NOT_FOUND, "no such objection"],
  OBJECTION_NOT_OWNER: [P, "only the agency owning the record answers its objection"],
  OBJECTION_ALREADY_RESOLVED: [GrpcCode.FAILED_PRECONDITION, "the objection is already resolved"],
  OBJECTION_INVALID: [I, "the objection is incomplete or invalid"],
  RECORD_NOT_FOUND: [GrpcCode.NOT_FOUND, "the owning agency holds no such record about that subject"],
  OWNER_UNAVAILABLE: [N, "the owning agency could not be reached; the objection was not filed"],

  // the subject's view of the queries about them (Art. 22; PIPL Art. 45)
  SUBJECT_REQUEST_REQUIRED: [P, "the call needs the subject's signed request"],
  SUBJECT_REQUEST_INVALID: [P, "the subject's signed request does not give the calling agency standing for this call"],
  // the public disclosure feed (双公示, NDRC 发改办财金〔2015〕2700号); policies/disclosure.yaml
  DISCLOSURE_CATEGORY_UNKNOWN: [I, "the category is not carried by the disclosure feed"],
  DISCLOSURE_NOT_PUBLIC: [P, "only level-1 (PUBLIC) categories are disclosed"],
  DISCLOSURE_NOT_OWNER: [P, "the caller's sector does not own this category (catalogue owners)"],
  DISCLOSURE_ENTRY_INVALID: [I, "a disclosure entry is invalid"],
  DISCLOSURE_ENTRY_NOT_FOUND: [GrpcCode.NOT_FOUND, "the caller has no such current disclosure entry"],
  TOO_MANY_DISCLOSURE_ENTRIES: [I, "too many entries in one publish request"],
  DISCLOSURE_FEED_UNAVAILABLE: [N, "the disclosure feed could not be written"],

  // providers (CreditProvider side): the caller must be this trust domain's gateway; the owner's own ceiling
  CALLER_NOT_GATEWAY: [U, "only the exchange gateway may call this provider"],
  CALLER_FOREIGN_TRUST_DOMAIN: [U, "the caller's certificate names another trust domain"],
  NOT_PERMITTED_BY_PROVIDER: [P, "the providing agency's own ceiling releases none of the requested categories to this requester"],

  // incidents and the admin API
  INCIDENT_NOT_FOUND: [GrpcCode.NOT_FOUND, "no incident with this id"],
  INCIDENT_STATE_INVALID: [GrpcCode.FAILED_PRECONDITION, "the incident cannot move to that state from its current one"],
  ADMIN_TARGET_UNKNOWN: [GrpcCode.NOT_FOUND, "the agency or certificate named is not known to the gateway"],
  CONTROL_PUBLISH_FAILED: [N, "the setting is in force on this replica, but the control topic did not take it: the other replicas do not have it"],
  // only the authority that revoked a certificate lifts the revocation
  REVOCATION_NOT_LIFTABLE: [P, "the certificate is revoked by the CA (CRL or signed control item); an officer cannot lift that revocation"],

  TLS_RELOAD_REFUSED: [GrpcCode.FAILED_PRECONDITION, "the TLS material on disk was refused (unusable, mismatched, stale or replayed CRL); the material in use stays"],

  INTERNAL: [GrpcCode.INTERNAL, "internal error"],
} as const satisfies Record<string, readonly [GrpcCode, string]>;

export type ErrorReason = keyof typeof ERROR_CATALOGUE;

export function codeOf(reason: ErrorReason): GrpcCode {
  return ERROR_CATALOGUE[reason][0];
}

export class CredexError extends Error {
  readonly reason: ErrorReason;
  readonly code: GrpcCode;
  /** Value-free details for the caller (ErrorInfo.metadata). */
  readonly metadata: Readonly<Record<string, string>>;

  constructor(reason: ErrorReason, message?: string, metadata: Record<string, string> = {}, options?: { cause?: unknown }) {
    super(message ?? ERROR_CATALOGUE[reason][1], options);
    this.name = "CredexError";
    this.reason = reason;
    this.code = codeOf(reason);
    this.metadata = Object.freeze({ ...metadata });
  }
}

/** Any thrown value as a CredexError; unknown errors become INTERNAL with the original as cause. */
export function toCredexError(err: unknown): CredexError {
  if (err instanceof CredexError) return err;
  return new CredexError("INTERNAL", undefined, {}, { cause: err });
}
