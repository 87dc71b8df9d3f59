/**
 * When an objection's answer is due.
 *
 * Credit Investigation Regulation Art. 25: the owner checks and answers
 * "within 20 days of the day it received the objection" (自收到异议之日起20日内).
 * Periods in days are counted as the Civil Code says (Art. 200–204):
 * - Art. 201: the day the period starts (the day of receipt) is not counted;
 *   day 1 is the next day;
 * - Art. 203 ¶1: when the last day is a statutory rest day, the period ends
 *   on the first day after the rest days;
 * - Art. 203 ¶2: the last day ends at 24:00.
 * Days are calendar days in China Standard Time (UTC+8, no daylight saving
 * since 1991): an objection received at 23:00 on 1 March in Beijing is due at
 * the end of 21 March there, whatever the gateway's own time zone.
 */
export const OBJECTION_ANSWER_DAYS = 20;

const DAY_MS = 86_400_000;
/** China Standard Time is UTC+8 all year. */
const CST_OFFSET_MS = 8 * 3_600_000;

/** Days since 1970-01-01 of the calendar day `at` falls on in China Standard Time. */
function cstDayNumber(at: Date): number {
  return Math.floor((at.getTime() + CST_OFFSET_MS) / DAY_MS);
}

/** "YYYY-MM-DD" of a CST day number. */
function isoDateOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export interface AnswerDeadlineOptions {
  /** Days to answer: 20 (Art. 25), or fewer when the exchange's rules ask for a quicker answer. */
  readonly days: number;
  /**
   * Statutory rest days ("YYYY-MM-DD", China Standard Time) from the State
   * Council's yearly holiday calendar, weekends that are not working days
   * included. Only the days the operator lists move a deadline (a fixed
   * weekend rule would be wrong: some weekends are working days, 调休).
   */
  readonly restDays?: ReadonlySet<string>;
}

/**
 * The moment the answer to an objection received at `receivedAt` is due:
 * 24:00 CST of the last day, i.e. 00:00 CST of the day after it.
 */
export function objectionDueAt(receivedAt: Date, options: AnswerDeadlineOptions): Date {
  let lastDay = cstDayNumber(receivedAt) + options.days;
  // Art. 203 ¶1: a period ending on a rest day ends on the first working day after it.
  while (options.restDays?.has(isoDateOfDay(lastDay))) lastDay++;
  return new Date((lastDay + 1) * DAY_MS - CST_OFFSET_MS);
}

/**
 * Calendar days (CST) from today to the last day of the period: 20 on the
 * day of receipt, 0 on the last day ("answer today"), -1 on the first day
 * after it, and so on.
 */
export function daysLeftUntil(due: Date, now: Date): number {
  return cstDayNumber(new Date(due.getTime() - 1)) - cstDayNumber(now);
}
