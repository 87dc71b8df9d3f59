/**
 * `credex policy check`: everything that can be known about a policy directory
 * before it goes live (issue 4, policy operations). Findings carry file and line.
 *
 * - errors: files that do not parse, a model other than the one the evaluator
 *   compiles, malformed lines, bad levels, unknown purposes, categories or
 *   sectors, rules that can never match or never take effect, failing test cases;
 * - warnings: rules shadowed by others (same effect, wider scope, at least the
 *   same levels), allows partly cut by a deny, names not in the test registry.
 */
import { readFileSync } from "node:fs";
import { PURPOSES, SECTORS } from "../../core/catalogue.js";
import { highestGrantedLevel } from "../../core/authorizer.js";
import { createCasbinReferenceAuthorizerFromSource, createPolicyAuthorizerFromSource } from "./create-policy-authorizer.js";
import { compileRule, loadCasbinEnforcer, compileEnforcer, PolicyLoadError, sectorRole, type AgencySector } from "./load-casbin-policy.js";
import { MAX_HIERARCHY_LEVEL, WILDCARD, type PolicyRule } from "./policy-index.js";
import { DEFAULT_DECLARED_PROTECTION_LEVEL } from "../../core/protection-level.js";
import { sectorRights } from "../../core/sector-rights.js";
import {
  policyDirPaths,
  readMinimumProtectionLevel,
  readRuleObjects,
  readTestSuites,
  tokenisePolicy,
  type CategoryEntry,
  type Finding,
  type TestCase,
  type TestSuite,
} from "./policy-files.js";

/** Purpose names (the proto enum without its PURPOSE_ prefix). */
export const PURPOSE_NAMES: readonly string[] = PURPOSES;

export interface CheckReport {
  readonly findings: readonly Finding[];
  readonly ruleCount: number;
  readonly testsRun: number;
  readonly testsFailed: number;
  /** Revision under the first test suite's registry; "" when the policy did not load. */
  readonly revision: string;
}

interface LocatedRule {
  readonly line: number;
  readonly rule: PolicyRule;
}

export async function checkPolicyDir(dir: string): Promise<CheckReport> {
  const paths = policyDirPaths(dir);
  const findings: Finding[] = [];
  const categories = readRuleObjects(paths, findings);
  const suites = readTestSuites(paths.tests, findings);
  const registry = mergeRegistries(suites, findings);

  let modelText = "";
  let policyText = "";
  try {
    modelText = readFileSync(paths.model, "utf8");
    policyText = readFileSync(paths.policy, "utf8");
  } catch (err) {
    findings.push({ file: (err as { path?: string }).path ?? dir, line: 0, severity: "error", message: `cannot read: ${(err as Error).message}` });
    return { findings, ruleCount: 0, testsRun: 0, testsFailed: 0, revision: "" };
  }

  // The model, with Casbin's parser and the compiler's canonical check.
  try {
    compileEnforcer(await loadCasbinEnforcer({ modelText, policyText: "", agencies: [] }));
  } catch (err) {
    const definition = err instanceof PolicyLoadError ? err.definition : undefined;
    findings.push({ file: paths.model, line: definition ? lineOfDefinition(modelText, definition) : 0, severity: "error", message: (err as Error).message });
  }

  const { rules, groups } = analyseLines(paths.policy, policyText, categories, registry, findings);
  findDeadAndShadowed(paths.policy, rules, groups, registry, findings);
  findUnderProtectedGrants(paths.policy, rules, groups, categories, suites, readMinimumProtectionLevel(paths.categories, findings), findings);

  // The whole file through Casbin, as the gateway will load it.
  let revision = "";
  const hasErrors = findings.some((f) => f.severity === "error");
  let testsRun = 0;
  let testsFailed = 0;
  if (!hasErrors) {
    for (const suite of suites) {
      const r = await runSuite(suite, modelText, policyText, findings, { file: paths.policy, rules, categories });
      testsRun += r.run;
      testsFailed += r.failed;
      if (revision === "") revision = r.revision;
    }
  } else if (suites.length > 0) {
    findings.push({ file: paths.tests, line: 0, severity: "error", message: "test cases not run: fix the errors above first" });
  }
  return { findings: sortFindings(findings), ruleCount: rules.length, testsRun, testsFailed, revision };
}

function mergeRegistries(suites: readonly TestSuite[], findings: Finding[]): Map<string, string> {
  const sectors = new Map<string, string>();
  for (const s of suites) {
    for (const a of s.agencies) {
      const known = sectors.get(a.id);
      if (known !== undefined && known !== a.sector) {
        findings.push({ file: s.file, line: 0, severity: "error", message: `agency ${a.id} is in sector ${a.sector} here but ${known} in another test file` });
      }
      sectors.set(a.id, a.sector);
    }
  }
  return sectors;
}

function analyseLines(
  file: string,
  text: string,
  categories: ReadonlyMap<string, CategoryEntry>,
  registry: ReadonlyMap<string, string>,
  findings: Finding[],
): { rules: LocatedRule[]; groups: Map<string, Set<string>> } {
  const lines = tokenisePolicy(text, file, findings);
  const error = (line: number, message: string) => findings.push({ file, line, severity: "error", message });
  const warn = (line: number, message: string) => findings.push({ file, line, severity: "warning", message });

  // g3 first: rules may name groups defined further down.
  const groups = new Map<string, Set<string>>();
  const groupLines: Array<{ line: number; member: string; group: string }> = [];
  for (const l of lines) {
    if (l.key !== "g3") continue;
    if (l.tokens.length !== 2 || !l.tokens[0] || !l.tokens[1]) {
      error(l.line, `g3 line needs 2 fields (category or group, group), got ${l.tokens.length}`);
      continue;
    }
    const [member, group] = l.tokens as [string, string];
    groupLines.push({ line: l.line, member, group });
    if (!groups.has(group)) groups.set(group, new Set());
    groups.get(group)!.add(member);
  }
  for (const { line, member, group } of groupLines) {
    if (categories.has(group)) error(line, `group name "${group}" is a category: groups need their own names (e.g. group:${group})`);
    if (group === WILDCARD) error(line, `"*" cannot be a group`);
    if (!categories.has(member) && !groups.has(member)) error(line, `unknown category "${member}" (not in categories.yaml, not a group)`);
  }

  const knownSectors = new Set<string>([...SECTORS, ...registry.values()]);
  for (const c of categories.values()) for (const s of c.owners) knownSectors.add(s);
  const purposes = new Set(PURPOSE_NAMES);
  const rules: LocatedRule[] = [];
  for (const l of lines) {
    if (l.key === "g3") continue;
    if (l.key === "g" || l.key === "g2") {
      error(l.line, `${l.key} lines come from the agency registry at run time; remove this line`);
      continue;
    }
    if (l.key !== "p") {
      error(l.line, `unknown line type "${l.key}" (expected p or g3)`);
      continue;
    }
    let rule: PolicyRule;
    try {
      rule = compileRule(l.tokens);
    } catch (err) {
      error(l.line, (err as Error).message.replace(/^p, [^:]*: /, ""));
      continue;
    }
    let ok = true;
    for (const [field, value] of [["requester", rule.sub], ["owner", rule.dom]] as const) {
      if (value === WILDCARD) continue;
      if (value.startsWith("sector:")) {
        const sector = value.slice("sector:".length);
        if (!knownSectors.has(sector)) {
          error(l.line, `${field} ${value} never matches: ${sector} is not a sector (known: ${[...knownSectors].join(", ")})`);
          ok = false;
        }
      } else if (registry.size > 0 && !registry.has(value)) {
        warn(l.line, `${field} "${value}" is not an agency of the test registry (policies/tests)`);
      }
    }
    if (rule.obj !== WILDCARD && !categories.has(rule.obj) && !groups.has(rule.obj)) {
      error(l.line, `unknown category "${rule.obj}" (not in categories.yaml, not a group)`);
      ok = false;
    }
    for (const p of rule.purposes) {
      if (p !== WILDCARD && !purposes.has(p)) {
        error(l.line, `unknown purpose "${p}" (known: ${PURPOSE_NAMES.join(", ")})`);
        ok = false;
      }
    }
    if (ok) rules.push({ line: l.line, rule });
  }
  return { rules, groups };
}

/**
 * Scope coverage: does every request that `a` matches (levels aside) also match
 * `b`? True when each of b's fields is "*" or a role a's value reaches.
 */
class Coverage {
  private readonly up: [Map<string, Set<string>>, Map<string, Set<string>>];

  constructor(registry: ReadonlyMap<string, string>, groups: ReadonlyMap<string, Set<string>>) {
    const agencyLinks: Array<[string, string]> = [...registry].map(([id, sector]) => [id, sectorRole(sector)]);
    const groupLinks: Array<[string, string]> = [];
    for (const [group, members] of groups) for (const m of members) groupLinks.push([m, group]);
    this.up = [closures(agencyLinks), closures(groupLinks)];
  }

  private readonly cache: [Map<string, string[]>, Map<string, string[]>] = [new Map(), new Map()];

  /** Values a p-field may hold and still match everything `value` matches (memoised: 100k-line policies repeat values). */
  wider(kind: "agency" | "category", value: string): string[] {
    const k = kind === "agency" ? 0 : 1;
    let out = this.cache[k].get(value);
    if (!out) {
      out = value === WILDCARD ? [WILDCARD] : [...(this.up[k].get(value) ?? [value]), WILDCARD];
      this.cache[k].set(value, out);
    }
    return out;
  }

  covers(b: PolicyRule, a: PolicyRule): boolean {
    return (
      b.act === a.act &&
      this.wider("agency", a.sub).includes(b.sub) &&
      this.wider("agency", a.dom).includes(b.dom) &&
      this.wider("category", a.obj).includes(b.obj) &&
      purposesCover(b, a)
    );
  }
}

/** Every purpose `a` matches, `b` matches too. */
function purposesCover(b: PolicyRule, a: PolicyRule): boolean {
  return b.purposes[0] === WILDCARD || (a.purposes[0] !== WILDCARD && a.purposes.every((p) => b.purposes.includes(p)));
}

function closures(links: ReadonlyArray<readonly [string, string]>): Map<string, Set<string>> {
  const edges = new Map<string, string[]>();
  for (const [m, r] of links) edges.set(m, [...(edges.get(m) ?? []), r]);
  const out = new Map<string, Set<string>>();
  for (const start of edges.keys()) {
    const seen = new Set([start]);
    let frontier = [start];
    for (let d = 0; d < MAX_HIERARCHY_LEVEL && frontier.length > 0; d++) {
      frontier = frontier.flatMap((n) => (edges.get(n) ?? []).filter((r) => !seen.has(r) && (seen.add(r), true)));
    }
    out.set(start, seen);
  }
  return out;
}

interface Bucket {
  /** Allow lines by level, highest first, then by line. */
  readonly allows: LocatedRule[];
  /** Deny lines by level, lowest first, then by line. */
  readonly denies: LocatedRule[];
}

/**
 * Dead and shadowed rules without a pairwise scan: rules are filed by
 * (sub, dom, obj, act, purpose); the only rules that can cover rule `a` sit under
 * the keys a's values reach (its roles and "*") and under a's first purpose or
 * "*". Sorted by level, each list is read only while the level can still cover.
 */
function findDeadAndShadowed(
  file: string,
  rules: readonly LocatedRule[],
  groups: ReadonlyMap<string, Set<string>>,
  registry: ReadonlyMap<string, string>,
  findings: Finding[],
): void {
  const coverage = new Coverage(registry, groups);
  const keyOf = (sub: string, dom: string, obj: string, act: string, purpose: string) => `${sub}\u0000${dom}\u0000${obj}\u0000${act}\u0000${purpose}`;

  // Exact repeats first: reported once, left out of the analysis (they would shadow each other).
  const firstLine = new Map<string, number>();
  const unique: LocatedRule[] = [];
  for (const r of rules) {
    const seen = firstLine.get(r.rule.text);
    if (seen !== undefined) findings.push({ file, line: r.line, severity: "warning", message: `duplicate of line ${seen}` });
    else {
      firstLine.set(r.rule.text, r.line);
      unique.push(r);
    }
  }

  const buckets = new Map<string, Bucket>();
  for (const r of unique) {
    for (const purpose of r.rule.purposes) {
      const key = keyOf(r.rule.sub, r.rule.dom, r.rule.obj, r.rule.act, purpose);
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = { allows: [], denies: [] }));
      (r.rule.eft === "allow" ? b.allows : b.denies).push(r);
    }
  }
  for (const b of buckets.values()) {
    b.allows.sort((x, y) => y.rule.lvl - x.rule.lvl || x.line - y.line);
    b.denies.sort((x, y) => x.rule.lvl - y.rule.lvl || x.line - y.line);
  }

  for (const group of groups.keys()) {
    if (!hasCategory(group, groups, new Set())) {
      for (const r of unique) if (r.rule.obj === group) findings.push({ file, line: r.line, severity: "error", message: `never matches: group ${group} contains no category` });
    }
  }

  for (const a of unique) {
    const purposeKeys = a.rule.purposes[0] === WILDCARD ? [WILDCARD] : [a.rule.purposes[0]!, WILDCARD];
    const candidates: Bucket[] = [];
    for (const sub of coverage.wider("agency", a.rule.sub))
      for (const dom of coverage.wider("agency", a.rule.dom))
        for (const obj of coverage.wider("category", a.rule.obj))
          for (const purpose of purposeKeys) {
            const b = buckets.get(keyOf(sub, dom, obj, a.rule.act, purpose));
            if (b) candidates.push(b);
          }
    // Candidates' requester, owner, category and action cover a's by construction; purposes and levels remain.
    const isAllow = a.rule.eft === "allow";
    let shadowedBy: LocatedRule | undefined;
    let deniedBy: LocatedRule | undefined;
    for (const bucket of candidates) {
      for (const b of isAllow ? bucket.allows : bucket.denies) {
        if (isAllow ? b.rule.lvl < a.rule.lvl : b.rule.lvl > a.rule.lvl) break;
        if (b === a || !purposesCover(b.rule, a.rule)) continue;
        // Of two equivalent lines the later one is reported.
        if (b.rule.lvl === a.rule.lvl && b.line > a.line && coverage.covers(a.rule, b.rule)) continue;
        if (!shadowedBy || b.line < shadowedBy.line) shadowedBy = b;
        break;
      }
      if (!isAllow) continue;
      for (const d of bucket.denies) {
        if (d.rule.lvl > a.rule.lvl) break;
        if (!purposesCover(d.rule, a.rule)) continue;
        if (!deniedBy || d.rule.lvl < deniedBy.rule.lvl || (d.rule.lvl === deniedBy.rule.lvl && d.line < deniedBy.line)) deniedBy = d;
        break;
      }
    }
    if (deniedBy && deniedBy.rule.lvl === 1) {
      findings.push({ file, line: a.line, severity: "error", message: `never takes effect: the deny at line ${deniedBy.line} refuses every level this allow grants` });
    } else if (shadowedBy) {
      findings.push({ file, line: a.line, severity: "warning", message: `shadowed by line ${shadowedBy.line} (${shadowedBy.rule.text}): removing this line changes no decision` });
    } else if (deniedBy) {
      findings.push({
        file,
        line: a.line,
        severity: "warning",
        message: `levels ${deniedBy.rule.lvl}..${a.rule.lvl} of this allow are refused by the deny at line ${deniedBy.line}; it grants at most level ${deniedBy.rule.lvl - 1}`,
      });
    }
  }
}

/**
 * Level protection (GB/T 22239-2019): an allow that reaches a
 * category's level grants that category; the requesting agency's declared
 * protection level (test registry, default 3 as in the gateway config) must be at
 * least what categories.yaml `minimumProtectionLevel` requires for that level.
 * The gateway enforces the same at run time (src/core/stages/authorize.ts), for
 * bundles and registry changes this check never saw.
 */
function findUnderProtectedGrants(
  file: string,
  rules: readonly LocatedRule[],
  groups: ReadonlyMap<string, Set<string>>,
  categories: ReadonlyMap<string, CategoryEntry>,
  suites: readonly TestSuite[],
  minimumProtectionLevel: readonly number[],
  findings: Finding[],
): void {
  const agencies = new Map<string, { sector: string; protectionLevel: number; file: string }>();
  for (const s of suites) for (const a of s.agencies) agencies.set(a.id, { sector: a.sector, protectionLevel: a.protectionLevel ?? DEFAULT_DECLARED_PROTECTION_LEVEL, file: s.file });
  if (agencies.size === 0) return;
  const members = (obj: string, seen = new Set<string>()): string[] => {
    if (obj === WILDCARD) return [...categories.keys()];
    if (!groups.has(obj)) return [obj];
    if (seen.has(obj)) return [];
    seen.add(obj);
    return [...groups.get(obj)!].flatMap((m) => members(m, seen));
  };
  for (const { line, rule } of rules) {
    if (rule.eft !== "allow" || rule.act !== "query") continue;
    const requesters = [...agencies].filter(([id, a]) => rule.sub === WILDCARD || rule.sub === id || rule.sub === sectorRole(a.sector));
    if (requesters.length === 0) continue;
    for (const category of new Set(members(rule.obj))) {
      const c = categories.get(category);
      if (!c || rule.lvl < c.level) continue; // the rule never reaches this category's records
      const required = minimumProtectionLevel[c.level] ?? 1;
      for (const [id, a] of requesters) {
        if (a.protectionLevel >= required) continue;
        findings.push({
          file,
          line,
          severity: "error",
          message:
            `grants ${category} (level ${c.level}) to agency ${id}, whose declared protection level ${a.protectionLevel} is below the ${required} ` +
            `that level requires (GB/T 22239-2019; categories.yaml minimumProtectionLevel; registry ${a.file})`,
        });
      }
    }
  }
}

function hasCategory(group: string, groups: ReadonlyMap<string, Set<string>>, seen: Set<string>): boolean {
  if (seen.has(group)) return false;
  seen.add(group);
  for (const m of groups.get(group) ?? []) if (!groups.has(m) || hasCategory(m, groups, seen)) return true;
  return false;
}

interface PolicyFacts {
  readonly file: string;
  readonly rules: readonly LocatedRule[];
  readonly categories: ReadonlyMap<string, CategoryEntry>;
}

async function runSuite(suite: TestSuite, modelText: string, policyText: string, findings: Finding[], policy: PolicyFacts): Promise<{ run: number; failed: number; revision: string }> {
  const source = { modelText, policyText, agencies: suite.agencies as AgencySector[] };
  let fast;
  let reference;
  try {
    fast = await createPolicyAuthorizerFromSource(source);
    reference = await createCasbinReferenceAuthorizerFromSource(source);
  } catch (err) {
    findings.push({ file: suite.file, line: 0, severity: "error", message: `policy does not load with this registry: ${(err as Error).message}` });
    return { run: 0, failed: suite.cases.length, revision: "" };
  }
  findGrantsBeyondSector(suite, fast, policy, findings);
  let failed = 0;
  for (const c of suite.cases) {
    const problem = checkCase(c, fast, reference);
    if (problem) {
      failed++;
      findings.push({ file: c.file, line: c.line, severity: "error", message: `test "${c.name}" failed: ${problem}` });
    }
  }
  return { run: suite.cases.length, failed, revision: fast.revision };
}

/**
 * Member types (src/core/sector-rights.ts): a policy that grants an agency of the
 * test registry a category above what its sector may ever receive (a credit bureau
 * and level-4 data: Credit Investigation Regulation Art. 14.2) is refused, at the
 * line of the allow that grants it, for any owner and purpose. Decided with the
 * compiled policy, so groups, wildcards and explicit denies count as at run time.
 * The gateway refuses the same at run time (SECTOR_LEVEL_NOT_PERMITTED), for
 * bundles and registries this check never saw.
 */
function findGrantsBeyondSector(suite: TestSuite, fast: Fast, policy: PolicyFacts, findings: Finding[]): void {
  const lineOf = new Map<string, number>();
  for (const { line, rule } of policy.rules) if (!lineOf.has(rule.text)) lineOf.set(rule.text, line);
  const reported = new Set<string>();
  for (const requester of suite.agencies) {
    const rights = sectorRights(requester.sector);
    if (rights.maxLevel >= 4) continue;
    for (const category of policy.categories.values()) {
      if (category.level <= rights.maxLevel) continue;
      for (const owner of suite.agencies) {
        for (const purpose of PURPOSES) {
          const g = fast.grantLevels({ requester: requester.id, owner: owner.id, category: category.name, action: "query", purpose });
          if (highestGrantedLevel(g) < category.level) continue;
          const key = `${requester.id}\u0000${category.name}\u0000${g.allowRule}`;
          if (reported.has(key)) continue;
          reported.add(key);
          findings.push({
            file: policy.file,
            line: lineOf.get(g.allowRule) ?? 0,
            severity: "error",
            message:
              `grants ${category.name} (level ${category.level}) to agency ${requester.id}, a ${requester.sector} member that never receives more than level ${rights.maxLevel} ` +
              `(${rights.basis}; registry ${suite.file})`,
          });
        }
      }
    }
  }
}

type Fast = Awaited<ReturnType<typeof createPolicyAuthorizerFromSource>>;
type Reference = Awaited<ReturnType<typeof createCasbinReferenceAuthorizerFromSource>>;

function checkCase(c: TestCase, fast: Fast, reference: Reference): string | undefined {
  const base = { requester: c.requester, owner: c.owner, category: c.category, action: c.action, purpose: c.purpose };
  if ("level" in c.expect) {
    const g = fast.grantLevels(base);
    const got = highestGrantedLevel(g);
    // Cross-check the fast path against Casbin at each level.
    for (let level = 1; level <= 4; level++) {
      if (reference.decide({ ...base, level }).allowed !== level <= got) return `the evaluator and Casbin disagree at level ${level} (report this)`;
    }
    if (got !== c.expect.level) {
      const why = g.denyRule && g.minDenied <= Math.max(c.expect.level, 1) ? `; refused by: ${g.denyRule}` : g.allowRule ? `; granted by: ${g.allowRule}` : "; no rule matches";
      return `expected highest level ${c.expect.level}, got ${got}${why}`;
    }
    return undefined;
  }
  const request = { ...base, level: c.level! };
  const d = fast.decide(request);
  const r = reference.decide(request);
  if (d.allowed !== r.allowed || d.explicitDeny !== r.explicitDeny) return `the evaluator and Casbin disagree (report this)`;
  const got = d.allowed ? "allow" : d.explicitDeny ? "explicit-deny" : "deny";
  const pass = c.expect.decision === got || (c.expect.decision === "deny" && got === "explicit-deny");
  return pass ? undefined : `expected ${c.expect.decision}, got ${got}${d.matchedRule ? ` (${d.matchedRule})` : " (no rule matches)"}`;
}

function lineOfDefinition(modelText: string, key: string): number {
  const i = modelText.split("\n").findIndex((l) => new RegExp(`^\\s*${key}\\s*=`).test(l));
  return i + 1;
}

function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}
