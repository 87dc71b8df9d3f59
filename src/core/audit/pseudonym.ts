import { createHmac } from "node:crypto";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";

/**
 * The keyed pseudonym of a subject: HMAC-SHA256(key, "<type>:<id>") in
 * lowercase hex, <type> being the SubjectType name (e.g. "LEGAL_PERSON").
 * DOMAIN.md: subject ids never appear in clear in audit or logs; a keyed
 * HMAC (RFC 2104) cannot be reversed by enumerating the id space without the key.
 */
export function subjectPseudonym(key: Uint8Array, subjectType: SubjectType, id: string): string {
  // An unknown type comes only with a refused request, which must still be audited
  // (no audit, no answer): it gets its own namespace instead of an exception.
  const typeName = SubjectType[subjectType] ?? `UNKNOWN_TYPE_${subjectType}`;
  return createHmac("sha256", key).update(`${typeName}:${id}`, "utf8").digest("hex");
}

/**
 * The keyed pseudonym of the human operator who made a query (Art. 22: who
 * queried), bound to the agency that names them: HMAC-SHA256(key,
 * "OPERATOR:<agency>:<operator>"). The "OPERATOR" namespace is no SubjectType
 * name, so an operator's pseudonym never equals a subject's.
 */
export function operatorPseudonym(key: Uint8Array, agencyId: string, operator: string): string {
  return createHmac("sha256", key).update(`OPERATOR:${agencyId}:${operator}`, "utf8").digest("hex");
}
