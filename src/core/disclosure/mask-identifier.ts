import { SubjectType } from "../../gen/credex/v1/types_pb.js";

/**
 * A natural person's identity number as the courts publish it on the list of
 * dishonest judgment debtors: the first 6 characters (the registration place)
 * and the last 4 kept, the birth date and sequence between them starred
 * ("310105********123X"). Organisations' Unified Social Credit Codes are public
 * identifiers (GB 32100-2015) and stay whole.
 */
export function publicSubjectId(type: SubjectType, id: string): string {
  if (type !== SubjectType.NATURAL_PERSON) return id;
  if (id.length <= 10) return "*".repeat(id.length);
  return `${id.slice(0, 6)}${"*".repeat(id.length - 10)}${id.slice(-4)}`;
}
