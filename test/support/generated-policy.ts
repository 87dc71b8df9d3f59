/**
 * Large policies for apply tests and figures, generated as bench/policy-decision.ts
 * does (one agency per 20 lines in the five sectors, category groups, 1–3 purposes
 * or "*", ~10% denies), except that every requester is a generated agency: the
 * demo agencies' decisions, and so the demo policy tests, stay as they are.
 */
import { createSeededRandom } from "../../src/core/identifiers/random-source.js";
import { PURPOSES, SECTORS } from "../../src/core/catalogue.js";
import { SHIPPED_CATEGORIES, SHIPPED_GROUPS } from "../../src/bench/bench-policy.js";
const CATEGORIES = SHIPPED_CATEGORIES;
const GROUPS = SHIPPED_GROUPS;

// mulberry32, shared with the synthetic-data generators.
const prng = createSeededRandom;
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** `lines` p lines (no g3: the demo policy defines the groups), newline-separated. */
export function generatedPolicyLines(lines: number, seed = lines): string {
  const rand = prng(seed);
  const agencies = Array.from({ length: Math.max(10, Math.round(lines / 20)) }, (_, i) => ({ id: `agency-${i}`, sector: pick(rand, SECTORS) }));
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const sub = pick(rand, agencies).id;
    const d = rand();
    const dom = d < 0.6 ? pick(rand, agencies).id : d < 0.95 ? `sector:${pick(rand, SECTORS)}` : "*";
    const obj = rand() < 0.85 ? pick(rand, CATEGORIES) : pick(rand, GROUPS);
    const purposes = rand() < 0.2 ? "*" : [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(rand, PURPOSES)))].join("|");
    const eft = rand() < 0.1 ? "deny" : "allow";
    out.push(`p, ${sub}, ${dom}, ${obj}, query, ${1 + Math.floor(rand() * 4)}, ${purposes}, ${eft}`);
  }
  return out.join("\n");
}
