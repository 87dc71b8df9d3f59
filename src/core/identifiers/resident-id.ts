/**
 * Citizen identity number (公民身份号码), GB 11643-1999.
 *
 * 18 characters: 6 address code (GB/T 2260), 8 birth date YYYYMMDD, 3 sequence
 * (odd for men, even for women), 1 check character (ISO 7064:1983 MOD 11-2).
 */
import { randomInt, randomSourceFrom, type RandomSource } from "./random-source.js";
import type { IdentifierValidation } from "./uscc.js";

/** ISO 7064 MOD 11-2 weights 2^(18-i) mod 11 for positions 1–17. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** Σ mod 11 → check character. */
const CHECK_CHARS = "10X98765432";

/** Earliest birth year accepted: nobody alive was born earlier. */
const MIN_BIRTH_YEAR = 1880;

export function computeResidentIdCheck(first17: string): string {
  if (!/^[0-9]{17}$/.test(first17)) throw new RangeError("the resident-id check is computed over 17 digits");
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return [31, isLeapYear(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

export interface ResidentIdOptions {
  /** "Today" for the not-in-the-future rule (default: now). Compared as a UTC calendar date. */
  today?: Date;
}

/**
 * Checks an identity number and names the first problem found, in order:
 * length, digits (position), address code, birth date (real, not in the
 * future), check character (uppercase 'X' only).
 */
export function validateResidentId(id: string, options: ResidentIdOptions = {}): IdentifierValidation {
  if (id.length !== 18) return { ok: false, problem: `length is ${id.length}, expected 18 characters` };
  for (let i = 0; i < 17; i++) {
    const ch = id[i]!;
    if (ch < "0" || ch > "9") return { ok: false, problem: `character "${ch}" at position ${i + 1} must be a digit` };
  }
  const last = id[17]!;
  if (last === "x") return { ok: false, problem: `check character at position 18 must be an uppercase "X"` };
  if (!/[0-9X]/.test(last)) return { ok: false, problem: `character "${last}" at position 18 must be a digit or "X"` };
  if (id.startsWith("00")) return { ok: false, problem: `address code "${id.slice(0, 6)}" (positions 1–6) is not a GB/T 2260 code` };

  const birth = id.slice(6, 14);
  const y = Number(birth.slice(0, 4));
  const m = Number(birth.slice(4, 6));
  const d = Number(birth.slice(6, 8));
  if (y < MIN_BIRTH_YEAR || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) {
    return { ok: false, problem: `birth date "${birth}" (positions 7–14) is not a real date` };
  }
  const today = options.today ?? new Date();
  const todayKey = today.getUTCFullYear() * 10000 + (today.getUTCMonth() + 1) * 100 + today.getUTCDate();
  if (y * 10000 + m * 100 + d > todayKey) {
    return { ok: false, problem: `birth date "${birth}" (positions 7–14) is in the future` };
  }
  const check = computeResidentIdCheck(id.slice(0, 17));
  if (last !== check) return { ok: false, problem: `check character at position 18 is "${last}", expected "${check}"` };
  return { ok: true };
}

/** A few real GB/T 2260 county-level address codes. */
const SAMPLE_ADDRESSES = ["110105", "110108", "310110", "310115", "350203", "440305", "330106", "510104", "230184", "420106"];

export interface GenerateResidentIdOptions {
  addressCode?: string;
  /** Birth date; default: uniform between 1940-01-01 and 2005-12-31. */
  birthDate?: { year: number; month: number; day: number };
  sex?: "male" | "female";
}

/** A valid synthetic identity number; `source` is a seed (reproducible) or a random source. */
export function generateResidentId(source?: number | RandomSource, options: GenerateResidentIdOptions = {}): string {
  const random = randomSourceFrom(source);
  const address = options.addressCode ?? SAMPLE_ADDRESSES[randomInt(random, SAMPLE_ADDRESSES.length)]!;
  if (!/^[1-9][0-9]{5}$/.test(address)) throw new RangeError(`address code "${address}" must be 6 digits`);
  let birth = options.birthDate;
  if (birth === undefined) {
    const year = 1940 + randomInt(random, 66);
    const month = 1 + randomInt(random, 12);
    birth = { year, month, day: 1 + randomInt(random, daysInMonth(year, month)) };
  }
  const { year, month, day } = birth;
  if (year < MIN_BIRTH_YEAR || year > 9999 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RangeError(`${year}-${month}-${day} is not a real date`);
  }
  // GB 11643-1999 §5.3: the sequence is odd for men and even for women; 000 is not assigned.
  let seq = 1 + randomInt(random, 998);
  if (options.sex === "male" && seq % 2 === 0) seq += 1;
  if (options.sex === "female" && seq % 2 === 1) seq += 1;
  const first17 =
    address + String(year).padStart(4, "0") + String(month).padStart(2, "0") + String(day).padStart(2, "0") + String(seq).padStart(3, "0");
  return first17 + computeResidentIdCheck(first17);
}
