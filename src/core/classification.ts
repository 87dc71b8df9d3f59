/**
 * Classification levels (分类分级, DESIGN.md) as numbers, matching the
 * credex.v1.Level enum values.
 */
export const Level = {
  PUBLIC: 1,
  SHARED: 2,
  RESTRICTED: 3,
  SENSITIVE: 4,
  PROHIBITED: 5,
} as const;
export type LevelNumber = 1 | 2 | 3 | 4 | 5;

export const LEVEL_NAMES: Record<number, string> = { 1: "PUBLIC", 2: "SHARED", 3: "RESTRICTED", 4: "SENSITIVE", 5: "PROHIBITED" };

/**
 * Field names that are never collected or passed on, whatever level a
 * provider gives them: Credit Investigation Regulation Art. 14.1 (religion,
 * genes, fingerprints, blood type, disease and medical history).
 */
const PROHIBITED_FIELD_PATTERN = /(^|_)(religion|religious_belief|gene|genes|genetic|dna|fingerprint|fingerprints|blood_type|blood_group|disease|diseases|medical|medical_history|diagnosis|health)(_|$)/i;

export function isProhibitedFieldName(name: string): boolean {
  return PROHIBITED_FIELD_PATTERN.test(name);
}

/** Negative information is no longer provided 5 years after the act or event ended (Art. 16). */
export const NEGATIVE_RETENTION_YEARS = 5;

export function negativeRecordExpired(endedAt: Date, now: Date): boolean {
  const limit = new Date(endedAt.getTime());
  limit.setUTCFullYear(limit.getUTCFullYear() + NEGATIVE_RETENTION_YEARS);
  return now.getTime() >= limit.getTime();
}
