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

/** Negative information is no longer provided 5 years after the act or event ended (Art. 16). */
export const NEGATIVE_RETENTION_YEARS = 5;

export function negativeRecordExpired(endedAt: Date, now: Date): boolean {
  const limit = new Date(endedAt.getTime());
  limit.setUTCFullYear(limit.getUTCFullYear() + NEGATIVE_RETENTION_YEARS);
  return now.getTime() >= limit.getTime();
}
