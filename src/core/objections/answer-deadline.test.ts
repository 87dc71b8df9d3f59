import { describe, expect, it } from "vitest";
import { daysLeftUntil, objectionDueAt } from "./answer-deadline.js";

// Credit Investigation Regulation Art. 25 (20 days from the day of receipt), counted as
// the Civil Code counts periods: Art. 201 (the first day is not counted), Art. 203
// (a last day that is a rest day moves on; the last day ends at 24:00). China Standard Time.
describe("the answer to an objection is due at 24:00 CST of the 20th day after the day of receipt (Art. 25; Civil Code Art. 201, 203)", () => {
  const due = (receivedAt: string, restDays: string[] = []) => objectionDueAt(new Date(receivedAt), { days: 20, restDays: new Set(restDays) }).toISOString();

  it.each([
    // Received 1 March 16:00 CST: day 1 is 2 March, day 20 is 21 March, ending at 24:00 CST (16:00 UTC).
    ["ok/the day of receipt is not counted", "2026-03-01T08:00:00Z", "2026-03-21T16:00:00.000Z"],
    // Received 1 March 00:30 CST (still 28 February in UTC): the CST day decides, not the gateway's.
    ["ok/counted in China time, not UTC", "2026-02-28T16:30:00Z", "2026-03-21T16:00:00.000Z"],
    // Received 1 March 23:59 CST: still the whole of day 20 to answer.
    ["ok/a late receipt does not shorten the period", "2026-03-01T15:59:00Z", "2026-03-21T16:00:00.000Z"],
    ["ok/across a month end", "2026-01-20T02:00:00Z", "2026-02-09T16:00:00.000Z"],
  ])("%s", (_name, receivedAt, expected) => {
    expect(due(receivedAt)).toBe(expected);
  });

  it("fail/the count that used to be made (receipt + 20 x 24 h) ended the period 8 hours early for this receipt", () => {
    const receivedAt = new Date("2026-03-01T08:00:00Z");
    const old = new Date(receivedAt.getTime() + 20 * 86_400_000);
    expect(old.getTime()).toBeLessThan(objectionDueAt(receivedAt, { days: 20 }).getTime());
  });

  it("ok/a last day that is a listed rest day moves to the day after the rest days (Art. 203 ¶1)", () => {
    // Received 11 September 2026: day 20 is 1 October, the National Day holiday (1-7 October).
    const holiday = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"];
    expect(due("2026-09-11T02:00:00Z")).toBe("2026-10-01T16:00:00.000Z");
    expect(due("2026-09-11T02:00:00Z", holiday)).toBe("2026-10-08T16:00:00.000Z");
    // A rest day inside the period does not lengthen it.
    expect(due("2026-09-10T02:00:00Z", holiday)).toBe("2026-09-30T16:00:00.000Z");
  });

  it("ok/fewer days when the exchange's rules ask for a quicker answer", () => {
    expect(objectionDueAt(new Date("2026-03-01T08:00:00Z"), { days: 5 }).toISOString()).toBe("2026-03-06T16:00:00.000Z");
  });
});

describe("days left are calendar days in China time to the last day of the period", () => {
  const dueAt = new Date("2026-03-21T16:00:00Z"); // 24:00 CST, 21 March
  it.each([
    ["ok/20 on the day of receipt", "2026-03-01T08:00:00Z", 20],
    ["ok/1 on the day before the last", "2026-03-20T15:59:59Z", 1],
    ["ok/0 on the last day, to its last millisecond", "2026-03-21T15:59:59.999Z", 0],
    ["fail/-1 from 00:00 CST the day after", "2026-03-21T16:00:00Z", -1],
    ["fail/-2 on the second day after", "2026-03-23T01:00:00Z", -2],
  ])("%s", (_name, now, days) => {
    expect(daysLeftUntil(dueAt, new Date(now))).toBe(days);
  });
});
