import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { ConfigError, ConfigReader } from "./config-reader.js";
import type { ProviderCeiling } from "../core/provider/provider-ceiling.js";

const CATEGORY = /^[a-z][a-z0-9_]{0,63}$/;
const AGENCY = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * A providing agency's own ceiling (`credex agency serve --ceiling <file>`),
 * YAML or JSON:
 *
 *   categories:            # every requester: the highest level released per category
 *     forex_violation: 3
 *     forex_registration: 2
 *   requesters:            # per requesting agency, in place of the above for the categories listed
 *     csrc:
 *       forex_violation: 1
 *
 * Levels 0 (nothing) to 4 (SENSITIVE); PROHIBITED (5) is never released.
 * A category not listed is never released.
 */
export function loadProviderCeiling(file: string): ProviderCeiling {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(file, "", `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseProviderCeiling(file, document);
}

export function parseProviderCeiling(file: string, document: unknown): ProviderCeiling {
  const root = new ConfigReader(file, document).object(["categories", "requesters"]);
  const levels = (reader: ConfigReader): Readonly<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const [category, level] of reader.entries()) {
      if (!CATEGORY.test(category)) level.fail("category names are lower_snake_case");
      out[category] = level.integer({ min: 0, max: 4 });
    }
    return Object.freeze(out);
  };
  const categories = levels(root.field("categories"));
  const requesters: Record<string, Readonly<Record<string, number>>> = {};
  if (root.has("requesters")) {
    for (const [agency, reader] of root.field("requesters").entries()) {
      if (!AGENCY.test(agency)) reader.fail("is not an agency id");
      requesters[agency] = levels(reader);
    }
  }
  return Object.freeze({ categories, requesters: Object.freeze(requesters) });
}
