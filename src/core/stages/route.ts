import type { AgencyEntry, AgencyRegistry } from "../registry.js";
import type { ExchangeDecision } from "./authorize.js";

/** One provider call to make: the categories granted from that owner and the highest level granted. */
export interface ProviderRoute {
  readonly agency: AgencyEntry;
  readonly categories: readonly string[];
  readonly maxLevel: number;
}

/**
 * Stage 4: which agencies own what was granted. Data stays with its owner
 * (DESIGN.md, risk dispersal): only owners with a grant are asked, and only
 * for the granted categories (minimum necessary, PIPL Art. 6).
 */
export function route(registry: AgencyRegistry, decision: ExchangeDecision): ProviderRoute[] {
  const byOwner = new Map<string, { categories: string[]; maxLevel: number }>();
  for (const grant of decision.grants) {
    const entry = byOwner.get(grant.owner) ?? { categories: [], maxLevel: 0 };
    entry.categories.push(grant.category);
    entry.maxLevel = Math.max(entry.maxLevel, grant.maxLevel);
    byOwner.set(grant.owner, entry);
  }
  const routes: ProviderRoute[] = [];
  for (const [owner, { categories, maxLevel }] of byOwner) {
    const agency = registry.get(owner);
    if (agency?.providerEndpoint !== undefined) routes.push({ agency, categories, maxLevel });
  }
  return routes;
}
