import { createHash } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { SubjectRequestKind, SubjectRequestSchema, type SubjectRequest, type SubjectRequestAttestation } from "../../gen/credex/v1/types_pb.js";
import { agencySignatureValid } from "../agency-signature.js";
import type { Principal } from "../principal.js";

/** What the subject's request must name to give the presenting agency standing. */
export interface SubjectRequestExpectation {
  readonly kind: SubjectRequestKind;
  readonly subjectType: number;
  readonly subjectId: string;
  readonly ownerAgency: string;
  readonly recordId: string;
  readonly principal: Principal;
  readonly now: Date;
}

/** Why an attestation gives no standing: for the audit only, never told to the caller (no existence oracle). */
export type SubjectRequestRefusal =
  | "ALGORITHM_UNSUPPORTED"
  | "MALFORMED"
  | "SIGNATURE_INVALID"
  | "REQUESTER_MISMATCH"
  | "KIND_MISMATCH"
  | "SUBJECT_MISMATCH"
  | "RECORD_MISMATCH"
  | "NOT_YET_VALID"
  | "EXPIRED";

export type SubjectRequestCheck =
  | { readonly ok: true; readonly requestId: string; readonly digest: string }
  | { readonly ok: false; readonly refusal: SubjectRequestRefusal; readonly digest: string };

/**
 * Checks a subject's request as the consent attestation is checked
 * (src/core/stages/validate.ts): signed by the presenting agency's
 * certificate key, collected by that agency, of the expected kind, naming
 * this subject and this record, within its validity. The signature is
 * checked before any field is trusted. `digest` (SHA-256 of the signed
 * bytes) lets the audit prove which statement was presented.
 */
export function checkSubjectRequest(attestation: SubjectRequestAttestation, expected: SubjectRequestExpectation): SubjectRequestCheck {
  const digest = createHash("sha256").update(attestation.request).digest("hex");
  const refuse = (refusal: SubjectRequestRefusal): SubjectRequestCheck => ({ ok: false, refusal, digest });
  const signed = agencySignatureValid(attestation.request, attestation.signature, attestation.algorithm, expected.principal.publicKey);
  if (signed === undefined) return refuse("ALGORITHM_UNSUPPORTED");
  if (!signed) return refuse("SIGNATURE_INVALID");
  let request: SubjectRequest;
  try {
    request = fromBinary(SubjectRequestSchema, attestation.request);
  } catch {
    return refuse("MALFORMED");
  }
  if (request.requestId === "" || !request.grantedAt || !request.expiresAt) return refuse("MALFORMED");
  if (request.requesterAgency !== expected.principal.agencyId) return refuse("REQUESTER_MISMATCH");
  if (request.kind !== expected.kind) return refuse("KIND_MISMATCH");
  if (request.subject?.type !== expected.subjectType || request.subject.id !== expected.subjectId) return refuse("SUBJECT_MISMATCH");
  if (request.ownerAgency !== expected.ownerAgency || request.recordId !== expected.recordId) return refuse("RECORD_MISMATCH");
  if (expected.now < timestampDate(request.grantedAt)) return refuse("NOT_YET_VALID");
  if (expected.now >= timestampDate(request.expiresAt)) return refuse("EXPIRED");
  return { ok: true, requestId: request.requestId, digest };
}
