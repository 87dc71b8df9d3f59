import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { ConfigError, ConfigReader } from "./config-reader.js";
import type { Catalogue } from "../core/catalogue.js";
import type { DisclosureCatalogue, DisclosureCategory, DisclosureKind } from "../core/disclosure/disclosure-catalogue.js";
import { MAX_PUBLICATION_LAG_WORKING_DAYS } from "../core/disclosure/working-days.js";

/**
 * Loads policies/disclosure.yaml: the categories the public disclosure feed
 * carries, with their publicity periods. Each must be a level-1 (PUBLIC)
 * category of the credit catalogue: a level-2+ category named here is refused
 * at load, so it can never be published.
 */
export function loadDisclosureCatalogue(file: string, catalogue: Catalogue): DisclosureCatalogue {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(file, "", `cannot read: ${(err as Error).message}`);
  }
  const root = new ConfigReader(file, document).object(["categories", "maxLagWorkingDays"]);
  const categories = new Map<string, DisclosureCategory>();
  for (const [category, item] of root.field("categories").entries()) {
    item.object(["kind", "publicityDays", "label"]);
    const info = catalogue.categories.get(category);
    if (!info) item.fail(`"${category}" is not a category of the credit catalogue`);
    if (info!.level !== 1) item.fail(`"${category}" is level ${info!.level} in the credit catalogue; only level-1 (PUBLIC) categories are disclosed`);
    const label = item.field("label").object(["zh", "en"]);
    categories.set(
      category,
      Object.freeze({
        category,
        kind: item.field("kind").string({ oneOf: ["licence", "penalty", "list"] }) as DisclosureKind,
        publicityDays: item.field("publicityDays").integer({ min: 1, max: 3_650 }),
        label: Object.freeze({ zh: label.field("zh").string(), en: label.field("en").string() }),
      }),
    );
  }
  // 2700号 sets 7 working days; a stricter deadline may be configured, never a looser one.
  const maxLagWorkingDays = root.has("maxLagWorkingDays") ? root.field("maxLagWorkingDays").integer({ min: 0, max: MAX_PUBLICATION_LAG_WORKING_DAYS }) : MAX_PUBLICATION_LAG_WORKING_DAYS;
  return Object.freeze({ categories, maxLagWorkingDays });
}
