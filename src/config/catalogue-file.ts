import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { ConfigError, ConfigReader } from "./config-reader.js";
import { SECTORS, type Catalogue, type CatalogueFieldInfo, type CategoryInfo } from "../core/catalogue.js";
import { DEFAULT_MINIMUM_PROTECTION_LEVEL } from "../core/protection-level.js";
import { isProhibitedFieldName } from "../core/prohibited-field-name.js";

/**
 * Loads the category catalogue (policies/categories.yaml): name, level,
 * sensitive flag, negative flag, public-by-law flag, owning sectors,
 * description, and the fields of each category (`fields: { <name>: {} }`, or
 * `{ level, sensitive, negative }` for a field classified apart from its
 * category): the allow-list release enforces.
 */
export function loadCatalogue(file: string): Catalogue {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(file, "", `cannot read: ${(err as Error).message}`);
  }
  const categories = new Map<string, CategoryInfo>();
  const root = new ConfigReader(file, document).object(["categories", "minimumProtectionLevel"]);
  const minimumProtectionLevel = readMinimumProtectionLevel(root);
  for (const [name, item] of root.field("categories").entries()) {
    item.object(["level", "owners", "sensitive", "negative", "publicByLaw", "description", "fields"]);
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(name)) item.fail("category names are lower_snake_case");
    const level = item.field("level").integer({ min: 1, max: 4 });
    const sensitive = item.field("sensitive").boolean(level === 4);
    // Art. 14.2 categories are exactly the level-4 ones: a mismatch is a catalogue error, not a choice.
    if (sensitive !== (level === 4)) item.field("sensitive").fail("must be true exactly for level-4 categories (Art. 14.2)");
    const negative = item.field("negative").boolean(false);
    const publicByLaw = item.field("publicByLaw").boolean(false);
    // Only published negative information is exempt from notice (Art. 15); what is published is PUBLIC (DESIGN.md).
    if (publicByLaw && (!negative || level !== 1)) item.field("publicByLaw").fail("only a negative level-1 category can be public by law (Art. 15)");
    // The catalogue is the allow-list of fields: a category without one would pass nothing, which is a catalogue error.
    if (!item.has("fields")) item.field("fields").fail("each category lists its fields (the fields release lets through)");
    categories.set(name, Object.freeze({
      name,
      level,
      sensitive,
      negative,
      publicByLaw,
      sectors: Object.freeze(item.field("owners").stringList({ oneOf: SECTORS })),
      description: item.field("description").string({ default: name }),
      fields: fieldsOf(item.field("fields"), level),
    }));
  }
  return Object.freeze({ categories, minimumProtectionLevel });
}

/**
 * `minimumProtectionLevel: {3: 3, 4: 3}`: classification level → the protection level
 * (GB/T 22239-2019, 1..5) a receiving agency must have declared. Levels not named keep
 * the default; a higher classification never requires less than a lower one.
 */
function readMinimumProtectionLevel(root: ConfigReader): readonly number[] {
  const table = [...DEFAULT_MINIMUM_PROTECTION_LEVEL];
  if (!root.has("minimumProtectionLevel")) return Object.freeze(table);
  const section = root.field("minimumProtectionLevel").object(["1", "2", "3", "4"]);
  for (const level of [1, 2, 3, 4]) {
    if (section.has(String(level))) table[level] = section.field(String(level)).integer({ min: 1, max: 5 });
  }
  for (const level of [2, 3, 4]) {
    if (table[level]! < table[level - 1]!) section.field(String(level)).fail(`must be ≥ the requirement of level ${level - 1} (${table[level - 1]})`);
  }
  return Object.freeze(table);
}

function fieldsOf(section: ConfigReader, categoryLevel: number): ReadonlyMap<string, CatalogueFieldInfo> {
  const fields = new Map<string, CatalogueFieldInfo>();
  for (const [name, given] of section.entries()) {
    // `name:` (YAML null) and `name: {}` both list a field at its category's level.
    const item = given.value === null ? new ConfigReader(given.file, {}, given.path) : given;
    item.object(["level", "sensitive", "negative"]);
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(name)) item.fail("field names are lower_snake_case");
    // Art. 14.1 data is never collected: the allow-list cannot let it through.
    if (isProhibitedFieldName(name)) item.fail("names prohibited data (Credit Investigation Regulation Art. 14.1)");
    const level = item.field("level").integer({ min: 1, max: 4, default: categoryLevel });
    const sensitive = item.field("sensitive").boolean(level === 4);
    if (sensitive !== (level === 4)) item.field("sensitive").fail("must be true exactly for level-4 fields (Art. 14.2)");
    const negative = item.field("negative").boolean(false);
    fields.set(name, Object.freeze(negative ? { level, sensitive, negative } : { level, sensitive }));
  }
  return fields;
}
