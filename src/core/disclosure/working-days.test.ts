import { describe, expect, it } from "vitest";
import { MAX_PUBLICATION_LAG_WORKING_DAYS, workingDaysBetween } from "./working-days.js";

/** Noon China Standard Time on a calendar day. */
const cst = (day: string) => new Date(`${day}T12:00:00+08:00`);

describe("working days for the 7-working-day publication rule (发改办财金〔2015〕2700号)", () => {
  it("counts the days after the decision up to the publication day, weekends excluded", () => {
    // 2026-11-30 is a Monday.
    expect(workingDaysBetween(cst("2026-11-30"), cst("2026-11-30"))).toBe(0);
    expect(workingDaysBetween(cst("2026-11-30"), cst("2026-12-01"))).toBe(1);
    expect(workingDaysBetween(cst("2026-11-30"), cst("2026-12-04"))).toBe(4);
    // Saturday and Sunday do not count.
    expect(workingDaysBetween(cst("2026-11-30"), cst("2026-12-06"))).toBe(4);
    expect(workingDaysBetween(cst("2026-11-30"), cst("2026-12-07"))).toBe(5);
    // A Friday decision published the next Friday is 5 working days.
    expect(workingDaysBetween(cst("2026-11-27"), cst("2026-12-04"))).toBe(5);
  });

  it("puts the seventh working day on time and the eighth past the rule", () => {
    // Monday 2026-11-30 → Wednesday 2026-12-09 is the 7th working day; Thursday the 8th.
    expect(workingDaysBetween(cst("2026-11-30"), cst("2026-12-09"))).toBe(MAX_PUBLICATION_LAG_WORKING_DAYS);
    expect(workingDaysBetween(cst("2026-11-30"), cst("2026-12-10"))).toBe(MAX_PUBLICATION_LAG_WORKING_DAYS + 1);
  });

  it("takes days in China Standard Time, not UTC", () => {
    // 15:00 UTC is 23:00 Tuesday in Beijing; 16:30 UTC the same UTC day is already Wednesday 00:30.
    expect(workingDaysBetween(new Date("2026-12-01T15:00:00Z"), new Date("2026-12-01T16:30:00Z"))).toBe(1);
  });

  it("agrees with counting day by day over a long span", () => {
    const start = cst("2026-01-01");
    for (let n = 0; n < 400; n += 13) {
      const end = new Date(start.getTime() + n * 86_400_000);
      let expected = 0;
      for (let d = 1; d <= n; d++) {
        const day = new Date(start.getTime() + d * 86_400_000 + 8 * 3_600_000).getUTCDay();
        if (day !== 0 && day !== 6) expected++;
      }
      expect(workingDaysBetween(start, end)).toBe(expected);
    }
  });

  it("is 0 when the publication precedes the decision", () => {
    expect(workingDaysBetween(cst("2026-12-04"), cst("2026-12-01"))).toBe(0);
  });
});
