import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCatalogue } from "./catalogue-file.js";
import { parse as parseYaml } from "yaml";
import { ConfigError, ConfigReader } from "./config-reader.js";
import { PURPOSES, type PurposeName } from "../core/catalogue.js";
import { AGENCY_ROLES, type AgencyRole } from "../core/registry.js";
import type { StatutoryExemption, StatutoryExemptions } from "../core/consent/statutory-exemption.js";

/**
 * Loads the statutory exemptions from consent (policies/exemptions.yaml).
 * A missing file means none: every natural-person query then needs consent.
 * Each exemption must state its legal basis; its categories must be in the
 * catalogue (`known`).
 */
export function loadStatutoryExemptions(file: string, known: ReadonlySet<string>): StatutoryExemptions {
  if (!existsSync(file)) return new Map();
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(file, "", `cannot read: ${(err as Error).message}`);
  }
  const exemptions = new Map<string, StatutoryExemption>();
  for (const [id, item] of new ConfigReader(file, document).object(["exemptions"]).field("exemptions").entries()) {
    item.object(["legalBasis", "purposes", "requesterRoles", "categories", "description"]);
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(id)) item.fail("exemption ids are lower_snake_case");
    const legalBasis = item.field("legalBasis").string();
    if (legalBasis.trim().length < 5) item.field("legalBasis").fail("an exemption names the law it rests on");
    const categories = item.field("categories").stringList();
    if (categories.length === 0) item.field("categories").fail("an exemption names at least one category");
    for (const c of categories) if (!known.has(c)) item.field("categories").fail(`"${c}" is not in the catalogue`);
    const purposes = item.field("purposes").stringList({ oneOf: PURPOSES });
    if (purposes.length === 0) item.field("purposes").fail("an exemption names at least one purpose");
    const roles = item.field("requesterRoles").stringList({ oneOf: AGENCY_ROLES });
    if (roles.length === 0) item.field("requesterRoles").fail("an exemption names the registry role its requesters hold");
    exemptions.set(id, Object.freeze({
      id,
      legalBasis,
      purposes: new Set(purposes as PurposeName[]),
      requesterRoles: new Set(roles as AgencyRole[]),
      categories: new Set(categories),
    }));
  }
  return exemptions;
}

/**
 * `credex policy check`: the exemptions file of a policy directory, checked as the gateway
 * will load it (a gateway refuses to start on a bad one). Returns the problems found.
 */
export function checkStatutoryExemptionsFile(dir: string): string[] {
  const file = join(dir, "exemptions.yaml");
  if (!existsSync(file)) return [];
  let known: ReadonlySet<string>;
  try {
    known = new Set(loadCatalogue(join(dir, "categories.yaml")).categories.keys());
  } catch {
    return []; // the catalogue's own errors are reported by the policy check
  }
  try {
    loadStatutoryExemptions(file, known);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [err.message];
    throw err;
  }
}
