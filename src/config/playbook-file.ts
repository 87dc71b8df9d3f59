import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError, ConfigReader } from "./config-reader.js";
import { INCIDENT_LEVELS, type IncidentLevel } from "../core/incidents/incident.js";
import { PLAYBOOK_ACTION_TYPES, type Playbook, type PlaybookAction, type PlaybookActionType } from "../core/incidents/playbook.js";
import { DETECTOR_NAMES } from "../core/incidents/create-detectors.js";

/** Reads and validates policies/playbooks.yaml; every problem names the file and the path in it. */
export function loadPlaybooks(file: string): Playbook[] {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(file, "", `cannot read: ${(err as Error).message}`);
  }
  return parsePlaybooks(file, document);
}

export function parsePlaybooks(file: string, document: unknown): Playbook[] {
  const base = dirname(resolve(file));
  const root = new ConfigReader(file, document ?? {}).object(["playbooks"]);
  if (!root.has("playbooks")) return [];
  const names = new Set<string>();
  return root.field("playbooks").items().map((item) => {
    item.object(["name", "detector", "minLevel", "actions"]);
    const name = item.field("name").string({ pattern: /^[a-z0-9][a-z0-9-]{0,62}$/ });
    if (names.has(name)) item.field("name").fail(`duplicate playbook name "${name}"`);
    names.add(name);
    const actions = item.field("actions").items().map((a) => parseAction(a, base));
    if (actions.length === 0) item.field("actions").fail("needs at least one action");
    return Object.freeze({
      name,
      detector: item.field("detector").string({ oneOf: ["*", ...DETECTOR_NAMES] }),
      minLevel: item.field("minLevel").string({ default: "IV", oneOf: INCIDENT_LEVELS }) as IncidentLevel,
      actions: Object.freeze(actions),
    });
  });
}

function parseAction(item: ConfigReader, base: string): PlaybookAction {
  item.object();
  const type = item.field("type").string({ oneOf: PLAYBOOK_ACTION_TYPES }) as PlaybookActionType;
  switch (type) {
    case "webhook": {
      item.object(["type", "url", "secretFile", "maxAttempts", "initialBackoffMs", "timeoutMs"]);
      const url = item.field("url").string();
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return item.field("url").fail(`"${url}" is not a URL`);
      }
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") item.field("url").fail(`"${url}" must be http or https`);
      const secretPath = resolve(base, item.field("secretFile").string());
      let secret: Buffer;
      try {
        secret = readFileSync(secretPath);
      } catch (err) {
        return item.field("secretFile").fail(`cannot read ${secretPath}: ${(err as Error).message}`);
      }
      // RFC 2104 §3: a key shorter than the hash output weakens HMAC.
      if (secret.length < 32) item.field("secretFile").fail(`the secret in ${secretPath} must be at least 32 bytes (got ${secret.length})`);
      return {
        type,
        url,
        secret,
        maxAttempts: item.field("maxAttempts").integer({ default: 5, min: 1, max: 20 }),
        initialBackoffMs: item.field("initialBackoffMs").integer({ default: 500, min: 1, max: 600_000 }),
        timeoutMs: item.field("timeoutMs").integer({ default: 5_000, min: 10, max: 120_000 }),
      };
    }
    case "command": {
      item.object(["type", "argv", "timeoutMs"]);
      const argv = item.field("argv").stringList();
      if (argv.length === 0) item.field("argv").fail("needs the program and its arguments");
      return { type, argv, timeoutMs: item.field("timeoutMs").integer({ default: 10_000, min: 10, max: 600_000 }) };
    }
    case "throttle-agency": {
      item.object(["type", "ratePerSecond", "burst"]);
      const ratePerSecond = item.field("ratePerSecond").integer({ min: 1, max: 1_000_000 });
      return { type, ratePerSecond, burst: item.field("burst").integer({ default: ratePerSecond, min: 1, max: 1_000_000 }) };
    }
    default:
      item.object(["type"]);
      return { type };
  }
}
