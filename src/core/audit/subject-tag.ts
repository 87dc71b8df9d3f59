import { createHmac } from "node:crypto";

/** Bytes of a subject tag: 128 bits, ample against collisions among one month's subjects. */
const TAG_BYTES = 16;

const tagKeys = new WeakMap<Uint8Array, Buffer>();

/** The tag key, derived from the ring's pseudonym key for this one use (HMAC as a PRF, RFC 2104). */
function tagKeyOf(pseudonymKey: Uint8Array): Buffer {
  let key = tagKeys.get(pseudonymKey);
  if (!key) tagKeys.set(pseudonymKey, (key = createHmac("sha256", pseudonymKey).update("credex/audit-subject-tag/v1", "utf8").digest()));
  return key;
}

/** The UTC calendar month of `at`, "YYYY-MM": the period a tag stays the same. */
export function tagMonth(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/**
 * The clear tag of an audit record's subject (SealedAuditRecord.subject_tag):
 * HMAC-SHA256 under a key derived from the pseudonym key, over the month and
 * the subject's pseudonym, truncated to 128 bits. The gateway computes the
 * tags of one subject for the months it searches and opens only the records
 * that carry them (the subject's query history opens nothing else). Anyone
 * who reads the topic without the key sees a value that changes every month:
 * it links a subject's events within a month, no further, and names no one.
 */
export function subjectTag(pseudonymKey: Uint8Array, subjectPseudonym: string, at: Date): Buffer {
  return createHmac("sha256", tagKeyOf(pseudonymKey)).update(`${tagMonth(at)}\0${subjectPseudonym}`, "utf8").digest().subarray(0, TAG_BYTES);
}

/** The first instant of every UTC month from `from` to `to`, inclusive (the months a history search covers). */
export function monthsBetween(from: Date, to: Date): Date[] {
  const months: Date[] = [];
  for (let y = from.getUTCFullYear(), m = from.getUTCMonth(); y < to.getUTCFullYear() || (y === to.getUTCFullYear() && m <= to.getUTCMonth()); m === 11 ? (y++, (m = 0)) : m++) {
    months.push(new Date(Date.UTC(y, m, 1)));
  }
  return months;
}
