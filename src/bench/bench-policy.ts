import { createSeededRandom } from "../core/identifiers/random-source.js";
import { SECTORS } from "../core/catalogue.js";

/** The categories of policies/categories.yaml, in its order, for generated policies. */
export const SHIPPED_CATEGORIES = [
  "business_registration", "administrative_license", "administrative_penalty", "dishonest_debtor", "red_list", "tax_arrears",
  "loan_record", "loan_overdue", "guarantee_record", "deposit", "securities_violation", "securities_holding", "insurance_claim",
  "insurance_policy", "forex_registration", "forex_violation", "income", "real_estate", "tax_amount",
] as const;
/** The category groups (g3) of policies/policy.csv. */
export const SHIPPED_GROUPS = ["group:public", "group:registration", "group:bank_credit", "group:sensitive"] as const;

// The benchmarked request asks administrative_penalty: generated rules leave it to the shipped ones.
const CATEGORIES = SHIPPED_CATEGORIES.filter((c) => c !== "administrative_penalty");
const PURPOSES = ["LOAN_APPROVAL", "POST_LOAN_MANAGEMENT", "GUARANTEE", "SUPERVISION", "ADMINISTRATIVE_APPROVAL", "JUDICIAL", "ENFORCEMENT"];

/**
 * A policy.csv of about `lines` lines for the policy-size curve: `base` (the
 * rules the benchmark's queries need) followed by generated rules shaped like a
 * national exchange's — thousands of member institutions, each with grants per
 * owner, category and purpose, a few explicit denies. The generated rules name
 * members and categories the benchmark never asks about, and some name the
 * benchmark's own agencies as owners, so they share index buckets with the
 * benchmarked request and are not trivially skipped.
 */
export function generateBenchPolicy(base: string, lines: number, ownerIds: readonly string[], seed = 7): string {
  const random = createSeededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const out: string[] = [base.trimEnd(), "", `# --- ${lines} generated rules (credex bench --curve policy) ---`];
  const baseLines = base.split("\n").filter((l) => /^\s*p\s*,/.test(l)).length;
  for (let i = baseLines; i < lines; i++) {
    const member = `m${Math.floor(random() * Math.max(1, lines / 10))}`;
    const requester = random() < 0.1 ? `sector:${pick(SECTORS)}` : member;
    const owner = random() < 0.3 ? pick(ownerIds) : random() < 0.5 ? `sector:${pick(SECTORS)}` : `o${Math.floor(random() * 500)}`;
    const purposes = Array.from(new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(PURPOSES)))).join("|");
    const deny = random() < 0.05;
    out.push(`p, ${requester}, ${owner}, ${pick(CATEGORIES)}, query, ${deny ? 4 : 1 + Math.floor(random() * 4)}, ${deny ? "*" : purposes}, ${deny ? "deny" : "allow"}`);
  }
  return `${out.join("\n")}\n`;
}
