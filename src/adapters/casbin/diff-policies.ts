/**
 * `credex policy diff`: which requests an edit changes, in words. Both policy
 * directories are compiled and asked every (requester, owner, category, action,
 * purpose) of the registry and the catalogues; a grant is the set of levels
 * 1..L, so a change is the move of L (and of the explicit deny behind a refusal).
 */
import { readFileSync } from "node:fs";
import { highestGrantedLevel, type LevelGrant } from "../../core/authorizer.js";
import { PURPOSE_NAMES } from "./check-policy.js";
import { createPolicyAuthorizerFromSource } from "./create-policy-authorizer.js";
import type { AgencySector } from "./load-casbin-policy.js";
import { policyDirPaths, readRuleObjects, readTestSuites, tokenisePolicy, type Finding } from "./policy-files.js";

export interface GrantState {
  /** Highest level granted, 0 = none. */
  readonly level: number;
  /** The deny line that keeps the level where it is, "" when none. */
  readonly denyRule: string;
}

export interface PolicyChange {
  readonly requester: string;
  /** Owners with this same change (owners whose sector holds the category). */
  readonly owners: readonly string[];
  readonly category: string;
  readonly action: string;
  /** Purposes with this same change, in catalogue order. */
  readonly purposes: readonly string[];
  readonly before: GrantState;
  readonly after: GrantState;
}

export interface PolicyDiff {
  readonly changes: readonly PolicyChange[];
  /** Single requests (one level each) whose decision flips. */
  readonly requestsChanged: number;
  readonly requestsCompared: number;
  readonly revisions: readonly [string, string];
}

export class PolicyDiffError extends Error {
  constructor(readonly findings: readonly Finding[]) {
    super(findings.map((f) => `${f.file}:${f.line}: ${f.message}`).join("\n"));
    this.name = "PolicyDiffError";
  }
}

/** The registry both sides are evaluated under: the agencies of both test registries (the new side wins). */
export function registryOf(dirs: readonly string[]): AgencySector[] {
  const byId = new Map<string, AgencySector>();
  for (const dir of dirs) for (const s of readTestSuites(policyDirPaths(dir).tests, [])) for (const a of s.agencies) byId.set(a.id, a);
  return [...byId.values()];
}

export async function diffPolicyDirs(oldDir: string, newDir: string, agencies: readonly AgencySector[] = registryOf([oldDir, newDir])): Promise<PolicyDiff> {
  const findings: Finding[] = [];
  if (agencies.length === 0) {
    throw new PolicyDiffError([{ file: newDir, line: 0, severity: "error", message: "no registry to compare under: give tests/*.yaml with agencies, or --agencies" }]);
  }
  const sides = [oldDir, newDir].map((dir) => {
    const paths = policyDirPaths(dir);
    const categories = readRuleObjects(paths, findings);
    const read = (file: string) => {
      try {
        return readFileSync(file, "utf8");
      } catch (err) {
        findings.push({ file, line: 0, severity: "error", message: `cannot read: ${(err as Error).message}` });
        return "";
      }
    };
    const policyText = read(paths.policy);
    const actions = new Set(tokenisePolicy(policyText, paths.policy, findings).flatMap((l) => (l.key === "p" && l.tokens[3] ? [l.tokens[3]] : [])));
    return { modelText: read(paths.model), policyText, categories, actions };
  });
  if (findings.some((f) => f.severity === "error")) throw new PolicyDiffError(findings);
  const [before, after] = await Promise.all(
    sides.map((s, i) =>
      createPolicyAuthorizerFromSource({ modelText: s.modelText, policyText: s.policyText, agencies }).catch((err: Error) => {
        throw new PolicyDiffError([{ file: [oldDir, newDir][i]!, line: 0, severity: "error", message: `${err.message} (run credex policy check)` }]);
      }),
    ),
  ) as [Awaited<ReturnType<typeof createPolicyAuthorizerFromSource>>, Awaited<ReturnType<typeof createPolicyAuthorizerFromSource>>];

  const ids = agencies.map((a) => a.id).sort();
  const sectorOf = new Map(agencies.map((a) => [a.id, a.sector]));
  // Owners asked about a category: agencies of a sector that holds it on either side.
  const holders = new Map<string, Set<string>>();
  for (const side of sides) for (const [name, c] of side.categories) for (const s of c.owners) (holders.get(name) ?? holders.set(name, new Set()).get(name)!).add(s);
  const categories = [...holders.keys()].sort();
  const actions = [...new Set(["query", ...sides[0]!.actions, ...sides[1]!.actions])].sort();
  const changes: PolicyChange[] = [];
  let requestsChanged = 0;
  let requestsCompared = 0;
  for (const requester of ids) {
    for (const category of categories) {
      for (const action of actions) {
        // One sentence per distinct change: same purposes, same before and after, owners listed.
        const sentences = new Map<string, PolicyChange>();
        for (const owner of ids) {
          if (!holders.get(category)!.has(sectorOf.get(owner)!)) continue;
          const grouped = new Map<string, PolicyChange>();
          for (const purpose of PURPOSE_NAMES) {
            const request = { requester, owner, category, action, purpose };
            const b = stateOf(before.grantLevels(request));
            const a = stateOf(after.grantLevels(request));
            requestsCompared += 4;
            if (b.level === a.level && b.denyRule === a.denyRule) continue;
            requestsChanged += Math.abs(b.level - a.level);
            const key = `${b.level}\u0000${b.denyRule}\u0000${a.level}\u0000${a.denyRule}`;
            const existing = grouped.get(key);
            if (existing) (existing.purposes as string[]).push(purpose);
            else grouped.set(key, { requester, owners: [owner], category, action, purposes: [purpose], before: b, after: a });
          }
          for (const [key, change] of grouped) {
            const sentenceKey = `${key}\u0000${change.purposes.join("|")}`;
            const existing = sentences.get(sentenceKey);
            if (existing) (existing.owners as string[]).push(owner);
            else sentences.set(sentenceKey, change);
          }
        }
        changes.push(...sentences.values());
      }
    }
  }
  return { changes, requestsChanged, requestsCompared, revisions: [before.revision, after.revision] };
}

function stateOf(grant: LevelGrant): GrantState {
  const level = highestGrantedLevel(grant);
  // The deny matters only when it is what stops the grant below level 4.
  const denyRule = grant.minDenied <= 4 && grant.minDenied <= Math.max(grant.maxAllowed, 1) ? grant.denyRule : "";
  return { level, denyRule };
}

const LEVEL_NAMES = ["nothing", "PUBLIC", "SHARED", "RESTRICTED", "SENSITIVE"];

function describeState(s: GrantState): string {
  const what = s.level === 0 ? "nothing" : `up to level ${s.level} (${LEVEL_NAMES[s.level]})`;
  return s.denyRule ? `${what}, because of "${s.denyRule}"` : what;
}

/** One change as a sentence, e.g. `+ csrc may now receive loan_record of pbccrc up to level 3 (RESTRICTED) for LOAN_APPROVAL; before: nothing`. */
export function describeChange(c: PolicyChange): string {
  const others = PURPOSE_NAMES.filter((p) => !c.purposes.includes(p));
  const purposes = others.length === 0 ? "any purpose" : others.length <= 2 ? `any purpose but ${others.join(" and ")}` : c.purposes.join(", ");
  const action = c.action === "query" ? "receive" : `${c.action}`;
  const subject = `${c.category} of ${c.owners.join(", ")}`;
  if (c.before.level === 0 && c.after.level > 0) {
    return `+ ${c.requester} may now ${action} ${subject} ${describeState(c.after)} for ${purposes}; before: ${describeState(c.before)}`;
  }
  if (c.after.level === 0 && c.before.level > 0) {
    return `- ${c.requester} may no longer ${action} ${subject} for ${purposes}: now ${describeState(c.after)}; before: ${describeState(c.before)}`;
  }
  const verb = c.after.level > c.before.level ? "+" : c.after.level < c.before.level ? "-" : "=";
  const tail = verb === "=" ? " (same decisions, another deny rule behind them)" : "";
  return `${verb} ${c.requester} ${action} ${subject} for ${purposes}: ${describeState(c.before)} → ${describeState(c.after)}${tail}`;
}
