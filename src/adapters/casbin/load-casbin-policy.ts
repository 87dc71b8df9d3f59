/**
 * Loads policies/ with Casbin's own parsers (model config and CSV policy
 * adapter), adds the agency registry's grouping lines, and compiles the result
 * into a PolicyIndex. Casbin stays the source of truth for what the files say;
 * the index only changes how fast the answer comes.
 */
import { createHash } from "node:crypto";
import { newEnforcer, newModelFromString, StringAdapter, type Enforcer, type Model } from "casbin";
import { CANONICAL_MODEL, PURPOSE_NAME } from "./canonical-model.js";
import { PolicyTextAdapter } from "./policy-text-adapter.js";
import { PolicyIndex, WILDCARD, type PolicyRule, type RoleLinks } from "./policy-index.js";

/** An agency as the registry knows it; its sector becomes the role "sector:<SECTOR>". */
export interface AgencySector {
  readonly id: string;
  readonly sector: string;
  /** Declared security-protection level (GB/T 22239-2019); only `policy check` reads it. */
  readonly protectionLevel?: number | undefined;
}

export interface PolicySource {
  readonly modelText: string;
  readonly policyText: string;
  readonly agencies: readonly AgencySector[];
}

export class PolicyLoadError extends Error {
  /** The model definition at fault ("m", "r", ...), when the model is. */
  readonly definition: string | undefined;

  constructor(message: string, definition?: string) {
    super(message);
    this.name = "PolicyLoadError";
    this.definition = definition;
  }
}

export const sectorRole = (sector: string): string => `sector:${sector}`;

/** The g (requester) and g2 (owner) lines implied by the registry, in a stable order. */
export function registryGroupingText(agencies: readonly AgencySector[]): string {
  const sorted = [...agencies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const lines: string[] = [];
  for (const a of sorted) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(a.id)) throw new PolicyLoadError(`agency id "${a.id}" cannot be a policy token`);
    if (!/^[A-Z][A-Z0-9_]*$/.test(a.sector)) throw new PolicyLoadError(`sector "${a.sector}" of agency "${a.id}" cannot be a policy token`);
    lines.push(`g, ${a.id}, ${sectorRole(a.sector)}`, `g2, ${a.id}, ${sectorRole(a.sector)}`);
  }
  return lines.join("\n");
}

/** sha256 over model, policy and registry grouping: the revision recorded in audit events. */
export function policyRevision(source: PolicySource): string {
  return createHash("sha256")
    .update(source.modelText)
    .update("\0")
    .update(source.policyText)
    .update("\0")
    .update(registryGroupingText(source.agencies))
    .digest("hex");
}

/**
 * A fresh Casbin enforcer over model + policy + registry groupings (never a live
 * one reloaded: TOOLCHAIN.md). `lineParser: "casbin"` loads through Casbin's
 * StringAdapter unchanged (the reference), "fast" through PolicyTextAdapter.
 */
export async function loadCasbinEnforcer(source: PolicySource, lineParser: "fast" | "casbin" = "fast", slicing?: Slicing): Promise<Enforcer> {
  let model: Model;
  try {
    model = newModelFromString(source.modelText);
  } catch (err) {
    throw new PolicyLoadError(`model: ${(err as Error).message}`);
  }
  const text = `${source.policyText}\n${registryGroupingText(source.agencies)}\n`;
  try {
    return await newEnforcer(model, lineParser === "fast" ? new PolicyTextAdapter(text, slicing) : new StringAdapter(text));
  } catch (err) {
    throw new PolicyLoadError(`policy: ${(err as Error).message}`);
  }
}

/** Work cut in slices of `slice` lines with `pause()` between them (compiles beside live traffic). */
export interface Slicing {
  readonly slice: number;
  readonly pause: () => Promise<void>;
}

/** compileEnforcer in slices: same result, the event loop runs between slices. */
export async function compileEnforcerSliced(enforcer: Enforcer, slicing: Slicing): Promise<PolicyIndex> {
  const model = enforcer.getModel();
  assertCanonicalModel(model);
  const p = model.model.get("p")?.get("p")?.policy ?? [];
  const rules: PolicyRule[] = [];
  for (let from = 0; from < p.length; from += slicing.slice) {
    for (let i = from; i < Math.min(p.length, from + slicing.slice); i++) rules.push(compileRule(p[i]!));
    await slicing.pause();
  }
  const links: RoleLinks = { g: groupingLines(model, "g"), g2: groupingLines(model, "g2"), g3: groupingLines(model, "g3") };
  return PolicyIndex.build(rules, links, slicing.slice, slicing.pause);
}

/** Compiles what Casbin loaded; throws PolicyLoadError when the model is not credex's or a line is invalid. */
export function compileEnforcer(enforcer: Enforcer): PolicyIndex {
  const model = enforcer.getModel();
  assertCanonicalModel(model);
  const p = model.model.get("p")?.get("p")?.policy ?? [];
  const rules = p.map(compileRule);
  const links: RoleLinks = { g: groupingLines(model, "g"), g2: groupingLines(model, "g2"), g3: groupingLines(model, "g3") };
  return new PolicyIndex(rules, links);
}

function assertCanonicalModel(model: Model): void {
  const canonical = newModelFromString(CANONICAL_MODEL);
  const describe = (m: Model): Map<string, string> => {
    const out = new Map<string, string>();
    for (const [sec, assertions] of m.model) {
      for (const [key, a] of assertions) {
        out.set(`${sec}.${key}`, `${a.value.replace(/\s+/g, "")}|${a.tokens.join(",")}`);
      }
    }
    return out;
  };
  const want = describe(canonical);
  const got = describe(model);
  for (const [key, value] of want) {
    if (got.get(key) !== value) {
      throw new PolicyLoadError(`model: definition ${key} differs from the credex model the evaluator compiles`, key.split(".")[1]);
    }
  }
  for (const key of got.keys()) {
    if (!want.has(key)) throw new PolicyLoadError(`model: unexpected definition ${key}`, key.split(".")[1]);
  }
}

/** Validates one `p` line; the rules here are also what `credex policy check` reports. */
export function compileRule(tokens: readonly string[]): PolicyRule {
  const text = `p, ${tokens.join(", ")}`;
  const fail = (why: string): never => {
    throw new PolicyLoadError(`${text}: ${why}`);
  };
  if (tokens.length !== 7) fail(`expected 7 fields (sub, dom, obj, act, lvl, pur, eft), got ${tokens.length}`);
  const [sub, dom, obj, act, lvlText, pur, eft] = tokens as [string, string, string, string, string, string, string];
  for (const [name, value] of [["sub", sub], ["dom", dom], ["obj", obj], ["act", act]] as const) {
    if (value === "") fail(`${name} is empty`);
  }
  if (act === WILDCARD) fail(`act cannot be "*": the model compares actions exactly`);
  if (!/^[1-4]$/.test(lvlText)) fail(`level "${lvlText}" is not one of 1, 2, 3, 4`);
  if (eft !== "allow" && eft !== "deny") fail(`effect "${eft}" is neither allow nor deny`);
  let purposes: string[];
  if (pur === WILDCARD) purposes = [WILDCARD];
  else {
    purposes = pur.split("|");
    for (const name of purposes) {
      if (!PURPOSE_NAME.test(name)) fail(`purpose "${name}" is not a purpose name (A-Z, 0-9, _) and "*" must stand alone`);
    }
    purposes = [...new Set(purposes)];
  }
  return { sub, dom, obj, act, lvl: Number(lvlText), purposes, eft: eft as "allow" | "deny", text };
}

function groupingLines(model: Model, key: string): Array<readonly [string, string]> {
  const lines = model.model.get("g")?.get(key)?.policy ?? [];
  return lines.map((tokens) => {
    if (tokens.length !== 2 || tokens[0] === "" || tokens[1] === "") {
      throw new PolicyLoadError(`${key}, ${tokens.join(", ")}: expected 2 non-empty fields (member, role)`);
    }
    return [tokens[0]!, tokens[1]!] as const;
  });
}
