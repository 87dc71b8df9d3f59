/**
 * Working days between a decision and its publication, for the "double
 * publicity" rule (双公示): administrative licence and penalty decisions go
 * online within 7 working days of the decision (NDRC 发改办财金〔2015〕2700号).
 *
 * Days are China Standard Time calendar days (UTC+8, no daylight saving).
 * Saturdays and Sundays are not working days; public holidays and the
 * make-up working weekends of the State Council's yearly calendar are not
 * modelled (the count can then be higher than the official one, never lower:
 * a holiday week raises a lag incident an officer may dismiss).
 */

/** The rule's limit. */
export const MAX_PUBLICATION_LAG_WORKING_DAYS = 7;

const CST_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 in China Standard Time. */
function cstDay(at: Date): number {
  return Math.floor((at.getTime() + CST_OFFSET_MS) / DAY_MS);
}

/** 1970-01-01 was a Thursday: day 0 → weekday 4 (0 = Sunday). */
function isWorkingDay(day: number): boolean {
  const weekday = (((day + 4) % 7) + 7) % 7;
  return weekday !== 0 && weekday !== 6;
}

/**
 * Working days after the decision's day up to and including the publication's
 * day: a decision on Monday published on Tuesday is 1; published the same day, 0;
 * published before the decision (a clock error), 0.
 */
export function workingDaysBetween(decision: Date, publication: Date): number {
  const from = cstDay(decision);
  const to = cstDay(publication);
  if (to <= from) return 0;
  const days = to - from;
  let count = Math.floor(days / 7) * 5;
  for (let d = from + Math.floor(days / 7) * 7 + 1; d <= to; d++) if (isWorkingDay(d)) count++;
  return count;
}
