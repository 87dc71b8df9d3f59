import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { ConfigError, ConfigReader } from "./config-reader.js";
import type { ListCatalogue, ListInfo } from "../core/lists/list-catalogue.js";

/**
 * Loads the list catalogue (policies/lists.yaml): which joint reward and
 * punishment lists exist, who owns (publishes) each, its level. Who may
 * receive a list is policy (policies/policy.csv, action "subscribe").
 */
export function loadListCatalogue(file: string): ListCatalogue {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(file, "", `cannot read: ${(err as Error).message}`);
  }
  const lists = new Map<string, ListInfo>();
  for (const [id, item] of new ConfigReader(file, document).object(["lists"]).field("lists").entries()) {
    item.object(["owners", "level", "kind", "description"]);
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(id)) item.fail("list ids are lower_snake_case");
    const owners = item.field("owners").stringList();
    if (owners.length === 0) item.field("owners").fail("a list needs at least one owner");
    lists.set(id, Object.freeze({
      id,
      owners: Object.freeze(owners),
      level: item.field("level").integer({ min: 1, max: 4 }),
      kind: item.field("kind").string({ oneOf: ["reward", "punishment"] }) as ListInfo["kind"],
      description: item.field("description").string({ default: id }),
    }));
  }
  return Object.freeze({ lists });
}
