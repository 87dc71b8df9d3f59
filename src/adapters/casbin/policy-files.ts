/**
 * Reads a policy directory (policies/ layout) for `credex policy check` and
 * `diff`, keeping file and line of everything so findings can point at them.
 * Policy lines are tokenised as Casbin loads them (its PolicyLoader parser), line by line, so
 * what is reported per line is what Casbin loads.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FastPolicyLineParser } from "./policy-text-adapter.js";
import { LineCounter, parseDocument, isMap, isSeq, type Node } from "yaml";
import { SECTORS } from "../../core/catalogue.js";
import { DEFAULT_MINIMUM_PROTECTION_LEVEL } from "../../core/protection-level.js";
import { isProhibitedFieldName } from "../../core/prohibited-field-name.js";
import type { AgencySector } from "./load-casbin-policy.js";

export type Severity = "error" | "warning";

export interface Finding {
  readonly file: string;
  /** 1-based; 0 when the finding is about the whole file. */
  readonly line: number;
  readonly severity: Severity;
  readonly message: string;
}

export interface PolicyDirPaths {
  readonly dir: string;
  readonly model: string;
  readonly policy: string;
  readonly categories: string;
  /** Joint reward and punishment lists (optional): their ids are the objects of "subscribe" and "publish" rules. */
  readonly lists: string;
  readonly tests: string;
}

export function policyDirPaths(dir: string): PolicyDirPaths {
  return {
    dir,
    model: join(dir, "model.conf"),
    policy: join(dir, "policy.csv"),
    categories: join(dir, "categories.yaml"),
    lists: join(dir, "lists.yaml"),
    tests: join(dir, "tests"),
  };
}

/** One non-comment line of policy.csv as Casbin tokenises it. */
export interface PolicyLine {
  readonly line: number;
  /** "p", "g", "g2", "g3", or whatever the line starts with. */
  readonly key: string;
  readonly tokens: readonly string[];
}

/** Casbin's per-line loading (persist/helper.js): same parser, same quote stripping and trimming. */
export function tokenisePolicy(text: string, file: string, findings: Finding[]): PolicyLine[] {
  const parser = new FastPolicyLineParser();
  const lines: PolicyLine[] = [];
  text.split("\n").forEach((raw, i) => {
    if (!raw) return;
    let parsed: string[][] | null;
    try {
      parsed = parser.parse(raw);
    } catch (err) {
      findings.push({ file, line: i + 1, severity: "error", message: `not a CSV line: ${(err as Error).message}` });
      return;
    }
    if (!parsed || !parsed[0]) return;
    const unquote = (v: string) => (v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);
    const [head, ...rest] = parsed[0];
    const key = unquote((head ?? "").trim());
    lines.push({ line: i + 1, key, tokens: rest.map((v) => unquote(v).replace(/""/g, '"').trim()) });
  });
  return lines;
}

export interface CategoryEntry {
  readonly name: string;
  readonly level: number;
  readonly owners: readonly string[];
  readonly line: number;
}

/**
 * The categories a rule may name: those of categories.yaml and, when the
 * directory has one, the list ids of lists.yaml (rules with action
 * "subscribe" or "publish" name a list where query rules name a category).
 */
export function readRuleObjects(paths: PolicyDirPaths, findings: Finding[]): Map<string, CategoryEntry> {
  const out = readCategories(paths.categories, findings);
  if (!existsSync(paths.lists)) return out;
  const doc = readYaml(paths.lists, findings);
  const lists = doc?.root.get("lists");
  if (!doc || !isMap(lists)) {
    findings.push({ file: paths.lists, line: 0, severity: "error", message: "expected a `lists:` map" });
    return out;
  }
  for (const pair of lists.items) {
    const name = String((pair.key as Node | null)?.toJSON?.() ?? pair.key);
    const line = doc.lineOf(pair.key as Node);
    const level = ((pair.value as Node | null)?.toJSON?.() as Record<string, unknown> | undefined)?.["level"];
    if (out.has(name)) findings.push({ file: paths.lists, line, severity: "error", message: `list ${name}: a category has the same name` });
    else out.set(name, { name, level: Number.isInteger(level) ? (level as number) : 1, owners: [], line });
  }
  return out;
}

/** policies/categories.yaml: only what the policy check needs (name, level, owner sectors). */
export function readCategories(file: string, findings: Finding[]): Map<string, CategoryEntry> {
  const out = new Map<string, CategoryEntry>();
  const doc = readYaml(file, findings);
  if (!doc) return out;
  const categories = doc.root.get("categories");
  if (!isMap(categories)) {
    findings.push({ file, line: 0, severity: "error", message: "expected a `categories:` map" });
    return out;
  }
  for (const pair of categories.items) {
    const name = String((pair.key as Node | null)?.toJSON?.() ?? pair.key);
    const line = doc.lineOf(pair.key as Node);
    const value = (pair.value as Node | null)?.toJSON?.() as Record<string, unknown> | undefined;
    const level = value?.["level"];
    if (!Number.isInteger(level) || (level as number) < 1 || (level as number) > 4) {
      findings.push({ file, line, severity: "error", message: `category ${name}: level must be 1, 2, 3 or 4` });
      continue;
    }
    const owners = value?.["owners"];
    if (!Array.isArray(owners) || owners.length === 0 || !owners.every((o) => typeof o === "string")) {
      findings.push({ file, line, severity: "error", message: `category ${name}: owners must be a non-empty list of sectors` });
      continue;
    }
    const unknown = (owners as string[]).filter((o) => !(SECTORS as readonly string[]).includes(o));
    if (unknown.length > 0) findings.push({ file, line, severity: "error", message: `category ${name}: unknown sector(s) ${unknown.join(", ")} (known: ${SECTORS.join(", ")})` });
    if (value?.["sensitive"] !== undefined && value["sensitive"] !== (level === 4)) {
      findings.push({ file, line, severity: "error", message: `category ${name}: sensitive must be true exactly for level-4 categories (Art. 14.2)` });
    }
    // The gateway refuses to start on these (src/config/catalogue-file.ts): the check says so first.
    const fields = value?.["fields"];
    if (typeof fields !== "object" || fields === null || Array.isArray(fields) || Object.keys(fields).length === 0) {
      findings.push({ file, line, severity: "error", message: `category ${name}: lists no fields (the allow-list release enforces)` });
    } else {
      for (const field of Object.keys(fields)) {
        if (isProhibitedFieldName(field)) findings.push({ file, line, severity: "error", message: `category ${name}: field ${field} names prohibited data (Credit Investigation Regulation Art. 14.1)` });
      }
    }
    out.set(name, { name, level: level as number, owners: owners as string[], line });
  }
  return out;
}

/**
 * categories.yaml `minimumProtectionLevel` (classification level → protection level,
 * GB/T 22239-2019), with the defaults for levels it does not name; the same rules as
 * the gateway's loader (src/config/catalogue-file.ts).
 */
export function readMinimumProtectionLevel(file: string, findings: Finding[]): readonly number[] {
  const table = [...DEFAULT_MINIMUM_PROTECTION_LEVEL];
  const doc = readYaml(file, [], undefined);
  const node = doc?.root.get("minimumProtectionLevel") as Node | undefined;
  if (!doc || node === undefined || node === null) return table;
  const line = doc.lineOf(node);
  const value = node.toJSON?.() as unknown;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    findings.push({ file, line, severity: "error", message: "minimumProtectionLevel must map classification levels 1..4 to protection levels 1..5" });
    return table;
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const level = Number(key);
    if (![1, 2, 3, 4].includes(level) || !Number.isInteger(v) || (v as number) < 1 || (v as number) > 5) {
      findings.push({ file, line, severity: "error", message: `minimumProtectionLevel: ${key}: ${String(v)} (expected classification level 1..4 → protection level 1..5)` });
      continue;
    }
    table[level] = v as number;
  }
  for (const level of [2, 3, 4]) {
    if (table[level]! < table[level - 1]!) findings.push({ file, line, severity: "error", message: `minimumProtectionLevel: level ${level} must require at least what level ${level - 1} requires (${table[level - 1]})` });
  }
  return table;
}

export type Expectation = { readonly decision: "allow" | "deny" | "explicit-deny" } | { readonly level: number };

export interface TestCase {
  readonly file: string;
  readonly line: number;
  readonly name: string;
  readonly requester: string;
  readonly owner: string;
  readonly category: string;
  readonly action: string;
  readonly purpose: string;
  /** Absent when the case expects a highest level. */
  readonly level: number | undefined;
  readonly expect: Expectation;
}

export interface TestSuite {
  readonly file: string;
  readonly agencies: readonly AgencySector[];
  readonly cases: readonly TestCase[];
}

/**
 * policies/tests/*.yaml:
 *   agencies: [{id, sector, protectionLevel?}, ...]   the registry the cases assume
 *                                       (protectionLevel: declared 等级保护 level, 1..5, default 3 as in the gateway config)
 *   cases:
 *     - name: ...
 *       request: {requester, owner, category, purpose, level?, action? (default query)}
 *       expect: allow | deny | explicit-deny      (with request.level)
 *       expect: {level: N}                         (highest level granted, 0 = none; no request.level)
 */
export function readTestSuites(dir: string, findings: Finding[]): TestSuite[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort();
  return files.flatMap((name) => {
    const suite = readTestSuite(join(dir, name), findings);
    return suite ? [suite] : [];
  });
}

/** One test suite; `text` when it does not come from disk (a policy bundle's tests, policy-bundle-check.ts). */
export function readTestSuite(file: string, findings: Finding[], text?: string): TestSuite | undefined {
  const doc = readYaml(file, findings, text);
  if (!doc) return undefined;
  const fail = (line: number, message: string) => findings.push({ file, line, severity: "error", message });
  const agencies: AgencySector[] = [];
  const agencyNode = doc.root.get("agencies");
  if (!isSeq(agencyNode)) {
    fail(0, "expected an `agencies:` list of {id, sector}");
    return undefined;
  }
  for (const item of agencyNode.items) {
    const v = (item as Node).toJSON() as Record<string, unknown> | null;
    if (typeof v?.["id"] !== "string" || typeof v["sector"] !== "string") fail(doc.lineOf(item as Node), "an agency needs string `id` and `sector`");
    else if (v["protectionLevel"] !== undefined && !(Number.isInteger(v["protectionLevel"]) && (v["protectionLevel"] as number) >= 1 && (v["protectionLevel"] as number) <= 5))
      fail(doc.lineOf(item as Node), `agency ${v["id"]}: protectionLevel must be 1..5`);
    else agencies.push({ id: v["id"], sector: v["sector"], ...(v["protectionLevel"] !== undefined ? { protectionLevel: v["protectionLevel"] as number } : {}) });
  }
  const caseNode = doc.root.get("cases");
  if (!isSeq(caseNode)) {
    fail(0, "expected a `cases:` list");
    return undefined;
  }
  const cases: TestCase[] = [];
  for (const item of caseNode.items) {
    const line = doc.lineOf(item as Node);
    const v = (item as Node).toJSON() as Record<string, unknown> | null;
    const name = typeof v?.["name"] === "string" ? v["name"] : `case at line ${line}`;
    const req = v?.["request"] as Record<string, unknown> | undefined;
    const str = (k: string, dflt?: string): string | undefined => (typeof req?.[k] === "string" ? (req[k] as string) : dflt);
    const requester = str("requester");
    const owner = str("owner");
    const category = str("category");
    const purpose = str("purpose");
    const action = str("action", "query");
    if (!requester || !owner || !category || !purpose || !action) {
      fail(line, `${name}: request needs requester, owner, category and purpose`);
      continue;
    }
    const level = req?.["level"];
    if (level !== undefined && !(Number.isInteger(level) && (level as number) >= 1 && (level as number) <= 4)) {
      fail(line, `${name}: request.level must be 1, 2, 3 or 4`);
      continue;
    }
    const e = v?.["expect"];
    let expect: Expectation;
    if (e === "allow" || e === "deny" || e === "explicit-deny") {
      if (level === undefined) {
        fail(line, `${name}: expect: ${e} needs request.level`);
        continue;
      }
      expect = { decision: e };
    } else if (typeof e === "object" && e !== null && Number.isInteger((e as Record<string, unknown>)["level"])) {
      const l = (e as Record<string, number>)["level"]!;
      if (level !== undefined || l < 0 || l > 4) {
        fail(line, `${name}: expect: {level: 0..4} takes a request without level`);
        continue;
      }
      expect = { level: l };
    } else {
      fail(line, `${name}: expect must be allow, deny, explicit-deny or {level: N}`);
      continue;
    }
    cases.push({ file, line, name, requester, owner, category, action, purpose, level: level as number | undefined, expect });
  }
  return { file, agencies, cases };
}

interface YamlFile {
  readonly root: { get(key: string): unknown };
  lineOf(node: Node | null | undefined): number;
}

function readYaml(file: string, findings: Finding[], given?: string): YamlFile | undefined {
  let text: string;
  try {
    text = given ?? readFileSync(file, "utf8");
  } catch (err) {
    findings.push({ file, line: 0, severity: "error", message: `cannot read: ${(err as Error).message}` });
    return undefined;
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) findings.push({ file, line: e.linePos?.[0]?.line ?? 0, severity: "error", message: e.message.split("\n")[0]! });
    return undefined;
  }
  if (!isMap(doc.contents)) {
    findings.push({ file, line: 0, severity: "error", message: "expected a YAML map at the top" });
    return undefined;
  }
  const root = doc.contents;
  return {
    root: { get: (key: string) => root.get(key, true) },
    lineOf: (node) => (node?.range ? counter.linePos(node.range[0]).line : 0),
  };
}
