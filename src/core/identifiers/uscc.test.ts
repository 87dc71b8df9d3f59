import { describe, expect, it } from "vitest";
import { createSeededRandom } from "./random-source.js";
import { computeOrgCodeCheck, computeUsccCheck, generateUscc, USCC_ALPHABET, validateUscc } from "./uscc.js";

// DOMAIN.md valid examples (real published codes).
const VALID = ["91310110666007217T", "91350200MA2YJ1XR9G", "91230184MA1BUFLT44"];

/** Every character a mutation may put in: the alphabet, excluded letters, lower case, punctuation. */
const MUTANTS = [...USCC_ALPHABET, "I", "O", "S", "V", "Z", "a", "t", "-", " "];

describe("validateUscc", () => {
  it.each(VALID)("ok/%s", (code) => {
    expect(validateUscc(code)).toEqual({ ok: true });
  });

  it.each(VALID)("fail/every single-character mutation of %s", (code) => {
    let mutations = 0;
    for (let i = 0; i < code.length; i++) {
      for (const ch of MUTANTS) {
        if (ch === code[i]) continue;
        const mutated = code.slice(0, i) + ch + code.slice(i + 1);
        expect(validateUscc(mutated).ok, mutated).toBe(false);
        mutations++;
      }
    }
    expect(mutations).toBe(18 * (MUTANTS.length - 1));
  });

  it.each([
    ["fail/length-short", "9131011066600721", "length is 16, expected 18 characters"],
    ["fail/length-long", "91310110666007217TT", "length is 19, expected 18 characters"],
    ["fail/empty", "", "length is 0, expected 18 characters"],
    ["fail/excluded-letter", "91310110666007217O", 'character "O" at position 18 is not in the USCC alphabet'],
    ["fail/lower-case", "91350200ma2YJ1XR9G", 'character "m" at position 9 is not in the USCC alphabet (letters are upper case)'],
    ["fail/region-letters", "913A0110666007217T", 'region code "3A0110" (positions 3–8) must be 6 digits (GB/T 2260)'],
    [
      "fail/org-code-check",
      "91310110666007218T",
      'organisation-code check character at position 17 is "8", expected "7" (GB 11714)',
    ],
    ["fail/check", "91310110666007217U", 'check character at position 18 is "U", expected "T"'],
  ])("%s", (_name, code, problem) => {
    expect(validateUscc(code)).toEqual({ ok: false, problem });
  });
});

describe("check characters", () => {
  it("position 18 of the examples", () => {
    for (const code of VALID) expect(computeUsccCheck(code.slice(0, 17))).toBe(code[17]);
  });
  it("position 17 of the examples (GB 11714)", () => {
    for (const code of VALID) expect(computeOrgCodeCheck(code.slice(8, 16))).toBe(code[16]);
  });
  it("GB 11714 maps 10 to X and 11 to 0", () => {
    expect(computeOrgCodeCheck("00000006")).toBe("X"); // Σ = 12, mod 11 = 1, 11 − 1 = 10
    expect(computeOrgCodeCheck("00000000")).toBe("0"); // Σ = 0, 11 − 0 = 11
  });
  it("rejects characters outside the alphabet", () => {
    expect(() => computeUsccCheck("9131011066600721O")).toThrow('character "O" at position 17 is not in the USCC alphabet');
  });
});

describe("generateUscc", () => {
  it("generates valid codes reproducibly from a seed", () => {
    const a = Array.from({ length: 5 }, (_, i) => generateUscc(i));
    const b = Array.from({ length: 5 }, (_, i) => generateUscc(i));
    expect(a).toEqual(b);
    for (const code of a) expect(validateUscc(code)).toEqual({ ok: true });
  });
  it("generates 2000 valid codes from one source, with the region asked for", () => {
    const random = createSeededRandom(42);
    const codes = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const code = generateUscc(random, "440300");
      expect(validateUscc(code), code).toEqual({ ok: true });
      expect(code.slice(2, 8)).toBe("440300");
      codes.add(code);
    }
    expect(codes.size).toBe(2000);
  });
  it("refuses a malformed region code", () => {
    expect(() => generateUscc(1, "44030A")).toThrow('region code "44030A" must be 6 digits');
  });
});
