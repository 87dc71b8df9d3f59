import { describe, expect, it } from "vitest";
import { judgeNegativeRecord, PROVIDER_CLOCK_SKEW_MS, type NegativeRecordDates } from "./negative-record.js";

const now = new Date("2026-06-01T12:00:00Z");
const ago = (days: number) => new Date(now.getTime() - days * 86_400_000);
const company = { naturalPerson: false, publicByLaw: false, now };
const person = { naturalPerson: true, publicByLaw: false, now };

describe("judgeNegativeRecord (Credit Investigation Regulation Art. 15, 16)", () => {
  it.each<[string, NegativeRecordDates, ReturnType<typeof judgeNegativeRecord>]>([
    ["ok/Art. 16: ended within 5 years", { endedAt: ago(400), ongoing: false }, undefined],
    ["fail/Art. 16: ended exactly 5 years ago is no longer provided", { endedAt: new Date("2021-06-01T12:00:00Z"), ongoing: false }, "NEGATIVE_EXPIRED"],
    ["ok/Art. 16: ended 5 years ago less a second", { endedAt: new Date("2021-06-01T12:00:01Z"), ongoing: false }, undefined],
    ["ok/Art. 16: ongoing, confirmed last week", { ongoing: true, lastConfirmedAt: ago(7) }, undefined],
    ["fail/Art. 16: ongoing, last confirmed 5 years ago or more", { ongoing: true, lastConfirmedAt: new Date("2021-06-01T12:00:00Z") }, "NEGATIVE_EXPIRED"],
    ["fail/Art. 16: neither an end nor ongoing", { ongoing: false }, "NEGATIVE_END_UNKNOWN"],
    ["fail/Art. 16: ongoing without a confirmation date", { ongoing: true }, "NEGATIVE_END_UNKNOWN"],
    ["fail/Art. 16: ended and ongoing at once", { endedAt: ago(10), ongoing: true, lastConfirmedAt: ago(1) }, "NEGATIVE_END_UNKNOWN"],
    ["fail/Art. 16: an end in the future (beyond clock skew)", { endedAt: new Date(now.getTime() + PROVIDER_CLOCK_SKEW_MS + 1_000), ongoing: false }, "NEGATIVE_END_UNKNOWN"],
    ["ok/Art. 16: an end within the clock skew", { endedAt: new Date(now.getTime() + PROVIDER_CLOCK_SKEW_MS - 1_000), ongoing: false }, undefined],
    ["fail/Art. 16: a confirmation in the future", { ongoing: true, lastConfirmedAt: new Date("2027-01-01T00:00:00Z") }, "NEGATIVE_END_UNKNOWN"],
    ["fail/Art. 16: an invalid date", { endedAt: new Date(Number.NaN), ongoing: false }, "NEGATIVE_END_UNKNOWN"],
  ])("%s (legal person)", (_name, record, expected) => {
    expect(judgeNegativeRecord(record, company)).toBe(expected);
  });

  it("fail/Art. 15: a natural person's record needs notice evidence; a legal person's does not", () => {
    const record = { endedAt: ago(30), ongoing: false };
    expect(judgeNegativeRecord(record, person)).toBe("NEGATIVE_NOT_NOTIFIED");
    expect(judgeNegativeRecord({ ...record, notifiedAt: ago(60) }, person)).toBeUndefined();
    expect(judgeNegativeRecord(record, company)).toBeUndefined();
  });

  it("fail/Art. 15: a notice dated in the future is no evidence", () => {
    expect(judgeNegativeRecord({ endedAt: ago(30), ongoing: false, notifiedAt: new Date("2026-07-01T00:00:00Z") }, person)).toBe("NEGATIVE_NOT_NOTIFIED");
  });

  it("ok/Art. 15: information public by law needs no notice, but still its end (Art. 16)", () => {
    const publicByLaw = { ...person, publicByLaw: true };
    expect(judgeNegativeRecord({ ongoing: true, lastConfirmedAt: ago(1) }, publicByLaw)).toBeUndefined();
    expect(judgeNegativeRecord({ ongoing: false }, publicByLaw)).toBe("NEGATIVE_END_UNKNOWN");
    expect(judgeNegativeRecord({ endedAt: ago(6 * 366), ongoing: false }, publicByLaw)).toBe("NEGATIVE_EXPIRED");
  });

  it("ok/Art. 16 is judged before Art. 15: an expired record is reported as expired, not as un-notified", () => {
    expect(judgeNegativeRecord({ endedAt: ago(6 * 366), ongoing: false }, person)).toBe("NEGATIVE_EXPIRED");
  });
});
