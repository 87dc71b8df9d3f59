import { CredexError } from "../errors.js";
import type { CreditRecord } from "../../gen/credex/v1/types_pb.js";

/**
 * The highest level a providing agency releases, per category and per
 * requesting agency, whatever the gateway asks (DESIGN.md "Trust: every node
 * verifies": the owner applies its own ceiling). Levels are those of
 * DESIGN.md: 1 PUBLIC … 4 SENSITIVE; 0 releases nothing of the category.
 * Deny by default: a category the ceiling does not list is never released.
 */
export interface ProviderCeiling {
  /** Per category, for every requester not listed in `requesters` for that category. */
  readonly categories: Readonly<Record<string, number>>;
  /** Per requesting agency id: its own level per category, in place of `categories` for the categories it lists. */
  readonly requesters?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** The highest level released to `requester` in `category` (0: nothing). */
export function ceilingLevel(ceiling: ProviderCeiling, requester: string, category: string): number {
  const own = ceiling.requesters && Object.hasOwn(ceiling.requesters, requester) ? ceiling.requesters[requester] : undefined;
  if (own && Object.hasOwn(own, category)) return own[category]!;
  return Object.hasOwn(ceiling.categories, category) ? ceiling.categories[category]! : 0;
}

/** What a Fetch asks, as the gateway sent it (credex.v1.FetchRequest). */
export interface FetchAsk {
  readonly requesterAgency: string;
  readonly categories: readonly string[];
  /** The gateway's max_level: 0 (unset) releases nothing. */
  readonly maxLevel: number;
}

/** For one asked category: what the gateway asked, the ceiling, and the level released (the lower of the two). */
export interface CategoryLimit {
  readonly category: string;
  readonly asked: number;
  readonly ceiling: number;
  readonly level: number;
}

/**
 * The level released per asked category: the lower of the gateway's max_level
 * (minimum necessary, PIPL Art. 6) and the provider's own ceiling for the
 * requester. A request without a level or without a requester is malformed
 * and releases nothing (the gateway always sends both: a level ≥ 1 for what
 * it granted, and the requester it authorised); so is one whose every
 * category is at 0 for this requester, refused with PERMISSION_DENIED.
 */
export function fetchLimits(ceiling: ProviderCeiling, ask: FetchAsk): ReadonlyMap<string, CategoryLimit> {
  if (!Number.isInteger(ask.maxLevel) || ask.maxLevel < 1) {
    throw new CredexError("FIELD_INVALID", "max_level is unset: nothing is released without the level the gateway granted", { field: "max_level" });
  }
  if (ask.requesterAgency === "") {
    throw new CredexError("FIELD_INVALID", "requester_agency is unset: the provider's ceiling is per requester, so nothing is released", { field: "requester_agency" });
  }
  const limits = new Map<string, CategoryLimit>();
  for (const category of ask.categories) {
    const own = ceilingLevel(ceiling, ask.requesterAgency, category);
    limits.set(category, { category, asked: ask.maxLevel, ceiling: own, level: Math.min(ask.maxLevel, own) });
  }
  if (![...limits.values()].some((l) => l.level >= 1)) {
    throw new CredexError("NOT_PERMITTED_BY_PROVIDER", undefined, { requester: ask.requesterAgency });
  }
  return limits;
}

/**
 * The records released within `limits`: only asked categories, only records
 * with a level at or below their category's (a record without a level is not
 * released: fail closed), and of each record only the fields at or below the
 * provider's own ceiling (a field without a level carries its record's).
 * Fields between the ceiling and the gateway's level are left to the gateway's
 * release stage, which counts what it withholds. Returns copies; the dataset
 * is not changed.
 */
export function recordsWithin(records: readonly CreditRecord[], limits: ReadonlyMap<string, CategoryLimit>): CreditRecord[] {
  const out: CreditRecord[] = [];
  for (const record of records) {
    const limit = limits.get(record.category);
    if (!limit || record.level < 1 || record.level > limit.level) continue;
    const fields = record.fields.filter((f) => (f.level === 0 ? record.level : f.level) <= limit.ceiling);
    out.push(fields.length === record.fields.length ? record : { ...record, fields });
  }
  return out;
}
