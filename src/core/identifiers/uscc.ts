/**
 * Unified Social Credit Code (统一社会信用代码), GB 32100-2015.
 *
 * 18 characters: 1 registration authority, 2 organisation category, 3–8 region
 * code (GB/T 2260, digits), 9–17 organisation code (GB 11714-1997, whose own
 * check character is position 17), 18 check character over positions 1–17.
 */
import { randomInt, randomSourceFrom, type RandomSource } from "./random-source.js";

/** GB 32100-2015 §4 table: 31 characters, no I, O, S, V, Z; a character's value is its index. */
export const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/** GB 32100-2015 §5: weight of position i (1-based) is 3^(i-1) mod 31. */
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 11714-1997: weights of the eight body characters of the organisation code. */
const ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

export type IdentifierValidation = { ok: true } | { ok: false; problem: string };

/** GB 11714 values digits 0–9 and letters A=10 … Z=35 (the full Latin alphabet, unlike GB 32100). */
function orgCodeValue(ch: string): number {
  return ch >= "0" && ch <= "9" ? ch.charCodeAt(0) - 48 : ch.charCodeAt(0) - 55;
}

/**
 * The GB 11714 check character (position 17 of a USCC) for the eight
 * organisation-code characters (positions 9–16): c = 11 − (Σ v·w mod 11),
 * 10 → 'X', 11 → '0'.
 */
export function computeOrgCodeCheck(body8: string): string {
  if (body8.length !== 8) throw new RangeError("the organisation code body has 8 characters");
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += orgCodeValue(body8[i]!) * ORG_CODE_WEIGHTS[i]!;
  const c = 11 - (sum % 11);
  return c === 10 ? "X" : c === 11 ? "0" : String(c);
}

/**
 * The GB 32100 check character (position 18) for the first 17 characters:
 * c = 31 − (Σ v·w mod 31), 31 → 0, mapped back through the alphabet.
 * Throws on characters outside the alphabet.
 */
export function computeUsccCheck(first17: string): string {
  if (first17.length !== 17) throw new RangeError("the USCC check is computed over 17 characters");
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17[i]!);
    if (v < 0) throw new RangeError(`character "${first17[i]}" at position ${i + 1} is not in the USCC alphabet`);
    sum += v * USCC_WEIGHTS[i]!;
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/**
 * Checks a USCC and names the first problem found, in this order: length,
 * alphabet (position), region code digits, organisation-code check
 * (position 17), check character (position 18).
 */
export function validateUscc(code: string): IdentifierValidation {
  if (code.length !== 18) return { ok: false, problem: `length is ${code.length}, expected 18 characters` };
  for (let i = 0; i < 18; i++) {
    const ch = code[i]!;
    if (!USCC_ALPHABET.includes(ch)) {
      const hint = USCC_ALPHABET.includes(ch.toUpperCase()) ? " (letters are upper case)" : "";
      return { ok: false, problem: `character "${ch}" at position ${i + 1} is not in the USCC alphabet${hint}` };
    }
  }
  const region = code.slice(2, 8);
  if (!/^[0-9]{6}$/.test(region)) {
    return { ok: false, problem: `region code "${region}" (positions 3–8) must be 6 digits (GB/T 2260)` };
  }
  const orgCheck = computeOrgCodeCheck(code.slice(8, 16));
  if (code[16] !== orgCheck) {
    return {
      ok: false,
      problem: `organisation-code check character at position 17 is "${code[16]}", expected "${orgCheck}" (GB 11714)`,
    };
  }
  const check = computeUsccCheck(code.slice(0, 17));
  if (code[17] !== check) {
    return { ok: false, problem: `check character at position 18 is "${code[17]}", expected "${check}"` };
  }
  return { ok: true };
}

/**
 * GB 32100-2015 Appendix A registration authorities with their organisation
 * categories, used to make realistic synthetic codes: 1 编办 (1 organ, 2 public
 * institution, 3 central-managed), 5 民政 (1 social organisation, 2 private
 * non-enterprise, 3 foundation), 9 工商 (1 enterprise, 2 sole proprietor, 3 farmers' cooperative).
 */
const AUTHORITY_CATEGORIES = ["11", "12", "13", "51", "52", "53", "91", "92", "93"];

/** A few real GB/T 2260 county-level region codes. */
const SAMPLE_REGIONS = ["110105", "110108", "310110", "310115", "350200", "440300", "330106", "510104", "230184", "420106"];

/**
 * A valid synthetic USCC. `source` is a seed (reproducible) or a random source
 * (default Math.random). The organisation-code body avoids the letters GB 32100
 * excludes, so positions 9–16 stay in both alphabets.
 */
export function generateUscc(source?: number | RandomSource, regionCode?: string): string {
  const random = randomSourceFrom(source);
  if (regionCode !== undefined && !/^[0-9]{6}$/.test(regionCode)) {
    throw new RangeError(`region code "${regionCode}" must be 6 digits (GB/T 2260)`);
  }
  const prefix = AUTHORITY_CATEGORIES[randomInt(random, AUTHORITY_CATEGORIES.length)]!;
  const region = regionCode ?? SAMPLE_REGIONS[randomInt(random, SAMPLE_REGIONS.length)]!;
  let body = "";
  for (let i = 0; i < 8; i++) body += USCC_ALPHABET[randomInt(random, USCC_ALPHABET.length)]!;
  const first17 = prefix + region + body + computeOrgCodeCheck(body);
  return first17 + computeUsccCheck(first17);
}
