import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConsentGrantSchema, Purpose, SubjectType, type ConsentAttestation, type ConsentGrant } from "../../gen/credex/v1/types_pb.js";
import type { QueryRequest } from "../../gen/credex/v1/exchange_pb.js";
import { CredexError } from "../errors.js";
import { validateUscc } from "../identifiers/uscc.js";
import { validateResidentId } from "../identifiers/resident-id.js";
import type { Catalogue, PurposeName } from "../catalogue.js";
import type { Principal } from "../principal.js";
import { AGENCY_SIGNATURE_ALGORITHMS, agencySignatureValid } from "../agency-signature.js";
import { sectorRights } from "../sector-rights.js";

export interface ValidateDeps {
  readonly catalogue: Catalogue;
  readonly maxCategories: number;
}

/** The consent facts later stages need; the attestation itself is not kept. */
export interface VerifiedConsent {
  readonly consentId: string;
  readonly categories: ReadonlySet<string>;
  /** Written consent naming the sensitive categories (Art. 14.2). */
  readonly namesSensitiveCategories: boolean;
  readonly expiresAt: Date;
}

export interface ValidatedQuery {
  readonly subjectType: SubjectType;
  readonly subjectId: string;
  readonly categories: readonly string[];
  readonly purpose: PurposeName;
  readonly consent?: VerifiedConsent | undefined;
  readonly specialGrantId: string;
  readonly requestId: string;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{0,64}$/;

/**
 * Stage 2: is the request well formed and lawful to ask? Identifier check
 * characters (GB 32100-2015, GB 11643-1999), a stated purpose (Art. 18) and,
 * for natural persons, the subject's consent (Art. 13) collected and signed
 * by the requesting agency, unless the requester acts on a statutory duty of
 * its sector (a court enforcing a judgment: src/core/sector-rights.ts).
 */
export function validateQuery(deps: ValidateDeps, request: QueryRequest, principal: Principal, now: Date): ValidatedQuery {
  if (!REQUEST_ID_PATTERN.test(request.requestId)) throw new CredexError("FIELD_INVALID", "request_id must be at most 64 characters of [A-Za-z0-9._:-]", { field: "request_id" });
  const subject = request.subject;
  if (!subject || subject.id === "") throw new CredexError("SUBJECT_MISSING");
  validateSubjectId(subject.type, subject.id);

  if (request.purpose === Purpose.UNSPECIFIED) throw new CredexError("PURPOSE_MISSING");
  const purpose = Purpose[request.purpose] as PurposeName | undefined;
  if (purpose === undefined) throw new CredexError("PURPOSE_UNKNOWN", `purpose value ${request.purpose} is not known`, { purpose: String(request.purpose) });

  if (request.categories.length === 0) throw new CredexError("CATEGORIES_MISSING");
  if (request.categories.length > deps.maxCategories) {
    throw new CredexError("TOO_MANY_CATEGORIES", `${request.categories.length} categories, at most ${deps.maxCategories}`, { limit: String(deps.maxCategories) });
  }
  const categories = [...new Set(request.categories)];
  for (const category of categories) {
    if (!deps.catalogue.categories.has(category)) {
      throw new CredexError("CATEGORY_UNKNOWN", `category "${printable(category)}" is not in the catalogue`, { category: printable(category) });
    }
  }
  if (request.specialGrantId !== "" && !/^[A-Za-z0-9-]{1,64}$/.test(request.specialGrantId)) {
    throw new CredexError("FIELD_INVALID", "special_grant_id is malformed", { field: "special_grant_id" });
  }

  let consent: VerifiedConsent | undefined;
  if (request.consent) {
    consent = verifyConsent(request.consent, { subjectType: subject.type, subjectId: subject.id, purpose: request.purpose, categories, principal, now });
  } else if (subject.type === SubjectType.NATURAL_PERSON && request.specialGrantId === "" && !sectorRights(principal.sector).statutoryPurposes.includes(purpose)) {
    // A special grant stands in for consent only because its approval by the
    // owner, with a justification, is itself recorded; the grant is checked next.
    throw new CredexError("CONSENT_REQUIRED");
  }
  return { subjectType: subject.type, subjectId: subject.id, categories, purpose, consent, specialGrantId: request.specialGrantId, requestId: request.requestId };
}

export function validateSubjectId(type: SubjectType, id: string): void {
  switch (type) {
    case SubjectType.LEGAL_PERSON:
    case SubjectType.OTHER_ORG: {
      const result = validateUscc(id);
      if (!result.ok) throw new CredexError("USCC_INVALID", `the USCC is invalid: ${result.problem}`, { problem: result.problem });
      return;
    }
    case SubjectType.NATURAL_PERSON: {
      const result = validateResidentId(id);
      if (!result.ok) throw new CredexError("RESIDENT_ID_INVALID", `the resident identity number is invalid: ${result.problem}`, { problem: result.problem });
      return;
    }
    default:
      throw new CredexError("SUBJECT_TYPE_INVALID");
  }
}

interface ConsentExpectation {
  readonly subjectType: SubjectType;
  readonly subjectId: string;
  readonly purpose: Purpose;
  readonly categories: readonly string[];
  readonly principal: Principal;
  readonly now: Date;
}

export function verifyConsent(attestation: ConsentAttestation, expected: ConsentExpectation): VerifiedConsent {
  if (!(AGENCY_SIGNATURE_ALGORITHMS as readonly string[]).includes(attestation.algorithm)) {
    throw new CredexError("CONSENT_MALFORMED", `unsupported consent signature algorithm "${printable(attestation.algorithm)}"`);
  }
  let grant: ConsentGrant;
  try {
    grant = fromBinary(ConsentGrantSchema, attestation.grant);
  } catch (err) {
    throw new CredexError("CONSENT_MALFORMED", undefined, {}, { cause: err });
  }
  // The signature is checked before any field is trusted.
  if (agencySignatureValid(attestation.grant, attestation.signature, attestation.algorithm, expected.principal.publicKey) !== true) throw new CredexError("CONSENT_SIGNATURE_INVALID");
  if (grant.consentId === "" || !grant.grantedAt || !grant.expiresAt) throw new CredexError("CONSENT_MALFORMED", "the consent grant lacks its id or validity period");
  if (grant.requesterAgency !== expected.principal.agencyId) throw new CredexError("CONSENT_REQUESTER_MISMATCH");
  if (grant.subject?.type !== expected.subjectType || grant.subject.id !== expected.subjectId) throw new CredexError("CONSENT_SUBJECT_MISMATCH");
  if (grant.purpose !== expected.purpose) throw new CredexError("CONSENT_PURPOSE_MISMATCH");
  const grantedAt = timestampDate(grant.grantedAt);
  const expiresAt = timestampDate(grant.expiresAt);
  if (expected.now < grantedAt) throw new CredexError("CONSENT_NOT_YET_VALID", undefined, { consent_id: grant.consentId });
  if (expected.now >= expiresAt) throw new CredexError("CONSENT_EXPIRED", undefined, { consent_id: grant.consentId, expired_at: expiresAt.toISOString() });
  const covered = new Set(grant.categories);
  for (const category of expected.categories) {
    if (!covered.has(category)) throw new CredexError("CONSENT_CATEGORY_NOT_COVERED", `the consent does not cover "${category}"`, { category, consent_id: grant.consentId });
  }
  return { consentId: grant.consentId, categories: covered, namesSensitiveCategories: grant.namesSensitiveCategories, expiresAt };
}

/** Caller-supplied text echoed in an error: bounded and printable, so errors cannot carry hostile payloads. */
function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}
