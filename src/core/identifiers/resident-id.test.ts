import { describe, expect, it } from "vitest";
import { computeResidentIdCheck, generateResidentId, validateResidentId } from "./resident-id.js";
import { createSeededRandom } from "./random-source.js";

const EXAMPLE = "11010519491231002X"; // DOMAIN.md, GB 11643-1999 appendix example
const TODAY = { today: new Date("2026-11-26T00:00:00Z") };

/** An id with the given birth date and a correct check character. */
function withBirth(yyyymmdd: string): string {
  const first17 = `110105${yyyymmdd}002`;
  return first17 + computeResidentIdCheck(first17);
}

describe("validateResidentId", () => {
  it("ok/example", () => {
    expect(validateResidentId(EXAMPLE, TODAY)).toEqual({ ok: true });
  });

  it("fail/every single-character mutation of the example", () => {
    const alphabet = [..."0123456789", "X", "x", "A", " "];
    let n = 0;
    for (let i = 0; i < 18; i++) {
      for (const ch of alphabet) {
        if (ch === EXAMPLE[i]) continue;
        const mutated = EXAMPLE.slice(0, i) + ch + EXAMPLE.slice(i + 1);
        expect(validateResidentId(mutated, TODAY).ok, mutated).toBe(false);
        n++;
      }
    }
    expect(n).toBe(18 * (alphabet.length - 1)); // each position skips its own character
  });

  it.each([
    ["fail/length", "11010519491231002", "length is 17, expected 18 characters"],
    ["fail/letter-in-body", "1101051949123100AX", 'character "A" at position 17 must be a digit'],
    ["fail/lower-case-x", "11010519491231002x", 'check character at position 18 must be an uppercase "X"'],
    ["fail/bad-last", "11010519491231002Y", 'character "Y" at position 18 must be a digit or "X"'],
    ["fail/address", "00010519491231002X", 'address code "000105" (positions 1–6) is not a GB/T 2260 code'],
    ["fail/month-13", "11010519491331002X", 'birth date "19491331" (positions 7–14) is not a real date'],
    ["fail/day-32", "11010519491232002X", 'birth date "19491232" (positions 7–14) is not a real date'],
    ["fail/april-31", "11010519490431002X", 'birth date "19490431" (positions 7–14) is not a real date'],
    ["fail/check", "110105194912310021", 'check character at position 18 is "1", expected "X"'],
  ])("%s", (_name, id, problem) => {
    expect(validateResidentId(id, TODAY)).toEqual({ ok: false, problem });
  });

  it("Feb 29 is real in leap years (2000, 1996) and not in others (1900, 2001)", () => {
    expect(validateResidentId(withBirth("20000229"), TODAY)).toEqual({ ok: true });
    expect(validateResidentId(withBirth("19960229"), TODAY)).toEqual({ ok: true });
    expect(validateResidentId(withBirth("19000229"), TODAY)).toEqual({
      ok: false,
      problem: 'birth date "19000229" (positions 7–14) is not a real date',
    });
    expect(validateResidentId(withBirth("20010229"), TODAY)).toEqual({
      ok: false,
      problem: 'birth date "20010229" (positions 7–14) is not a real date',
    });
  });

  it("a birth date after today is refused; today itself is accepted", () => {
    expect(validateResidentId(withBirth("20261127"), TODAY)).toEqual({
      ok: false,
      problem: 'birth date "20261127" (positions 7–14) is in the future',
    });
    expect(validateResidentId(withBirth("20261126"), TODAY)).toEqual({ ok: true });
  });
});

describe("generateResidentId", () => {
  it("generates 2000 valid ids from one seeded source", () => {
    const random = createSeededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const id = generateResidentId(random);
      expect(validateResidentId(id, TODAY), id).toEqual({ ok: true });
    }
  });
  it("honours address, birth date and sex (odd sequence for men, even for women)", () => {
    const male = generateResidentId(3, { addressCode: "310115", birthDate: { year: 2000, month: 2, day: 29 }, sex: "male" });
    const female = generateResidentId(3, { addressCode: "310115", birthDate: { year: 2000, month: 2, day: 29 }, sex: "female" });
    for (const id of [male, female]) {
      expect(validateResidentId(id, TODAY)).toEqual({ ok: true });
      expect(id.slice(0, 14)).toBe("31011520000229");
    }
    expect(Number(male.slice(14, 17)) % 2).toBe(1);
    expect(Number(female.slice(14, 17)) % 2).toBe(0);
  });
  it("is reproducible from a seed and refuses unreal dates", () => {
    expect(generateResidentId(11)).toBe(generateResidentId(11));
    expect(() => generateResidentId(1, { birthDate: { year: 2001, month: 2, day: 29 } })).toThrow("2001-2-29 is not a real date");
  });
});
