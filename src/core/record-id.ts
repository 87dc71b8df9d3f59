/**
 * Record ids credex names outside a provider's answer (objections, the audit's
 * list of released records): 1-128 characters of [A-Za-z0-9._:-], so that a
 * provider's id can neither smuggle content into the audit nor bloat it.
 */
export const RECORD_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function isRecordId(id: string): boolean {
  return RECORD_ID_PATTERN.test(id);
}
