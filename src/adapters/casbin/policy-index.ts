/**
 * A compiled form of the credex Casbin model (policies/model.conf) that answers
 * without scanning policy lines. Casbin's enforce evaluates the matcher once per
 * line (≈39 ms at 10k lines, TOOLCHAIN.md); here every line is filed once under
 * its (requester, owner, category, action, purpose) key, and a request probes only
 * the keys its role closures can reach: a few dozen map lookups whatever the size
 * of the policy. The differential test (policy-index.test.ts) proves the answers
 * are Casbin's.
 *
 * This module knows the model's matcher by heart; the loader refuses a model whose
 * matcher differs (see canonical-model.ts), so the two cannot drift apart silently.
 */
import type { AccessDecision, AccessRequest } from "../../core/authorizer.js";

/** The matcher's wildcard token for p.sub, p.dom, p.obj and p.pur. */
export const WILDCARD = "*";

/** Casbin's DefaultRoleManager follows at most 10 links (maxHierarchyLevel). */
export const MAX_HIERARCHY_LEVEL = 10;

/** One `p` line, already validated. */
export interface PolicyRule {
  readonly sub: string;
  readonly dom: string;
  readonly obj: string;
  readonly act: string;
  readonly lvl: number;
  /** ["*"] or the purpose names of the line. */
  readonly purposes: readonly string[];
  readonly eft: "allow" | "deny";
  /** The line as Casbin read it: "p, a, b, ...". */
  readonly text: string;
}

/** Lines of the three role definitions: [member, role]. */
export interface RoleLinks {
  readonly g: ReadonlyArray<readonly [string, string]>;
  readonly g2: ReadonlyArray<readonly [string, string]>;
  readonly g3: ReadonlyArray<readonly [string, string]>;
}

/**
 * What one (sub, dom, obj, act, purpose) key grants. An allow line matches when
 * r.lvl <= p.lvl, a deny line when r.lvl >= p.lvl, so the highest allow and the
 * lowest deny level summarise all lines filed under the key.
 */
interface Cell {
  maxAllow: number;
  allowRule: number;
  minDeny: number;
  denyRule: number;
}

type Keyed<T> = Map<string, T>;
// sub → dom → obj → act → purpose → Cell
type Index = Keyed<Keyed<Keyed<Keyed<Keyed<Cell>>>>>;

/** A request stripped of its level: what the index can say about all four levels at once. */
export type LevelFreeRequest = Omit<AccessRequest, "level">;

/** The summary of every matching line for a level-free request. */
export interface IndexGrant {
  /** Highest allowed level (0 when nothing is allowed). */
  readonly maxAllow: number;
  /** Lowest explicitly denied level (Infinity when no deny matches). */
  readonly minDeny: number;
  /** Index into rules of a deciding allow line, -1 when none. */
  readonly allowRule: number;
  /** Index into rules of the deciding deny line, -1 when none. */
  readonly denyRule: number;
}

const DEFAULT_DENY: AccessDecision = Object.freeze({ allowed: false, matchedRule: "", explicitDeny: false });

export class PolicyIndex {
  private readonly index: Index = new Map();
  private readonly closures: readonly [Map<string, string[]>, Map<string, string[]>, Map<string, string[]>];
  /** Decisions rendered once per rule, so decide() allocates nothing on the hot path. */
  private readonly allowDecisions: AccessDecision[];
  private readonly denyDecisions: AccessDecision[];

  constructor(
    readonly rules: readonly PolicyRule[],
    links: RoleLinks,
    options: { deferred?: boolean } = {},
  ) {
    this.closures = [roleClosures(links.g), roleClosures(links.g2), roleClosures(links.g3)];
    this.allowDecisions = new Array<AccessDecision>(rules.length);
    this.denyDecisions = new Array<AccessDecision>(rules.length);
    if (!options.deferred) this.insert(0, rules.length);
  }

  /**
   * The same index built in slices of `slice` rules with `pause()` between them,
   * so that a gateway compiling a new policy keeps serving exchanges with the old
   * one (issue 4: apply of 100k lines without pausing traffic).
   */
  static async build(rules: readonly PolicyRule[], links: RoleLinks, slice: number, pause: () => Promise<void>): Promise<PolicyIndex> {
    const index = new PolicyIndex(rules, links, { deferred: true });
    for (let from = 0; from < rules.length; from += slice) {
      index.insert(from, Math.min(rules.length, from + slice));
      await pause();
    }
    return index;
  }

  private insert(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const rule = this.rules[i]!;
      this.allowDecisions[i] = Object.freeze({ allowed: true, matchedRule: rule.text, explicitDeny: false });
      this.denyDecisions[i] = Object.freeze({ allowed: false, matchedRule: rule.text, explicitDeny: true });
      const byDom = child(this.index, rule.sub);
      const byObj = child(byDom, rule.dom);
      const byAct = child(byObj, rule.obj);
      const byPur = child(byAct, rule.act);
      for (const purpose of rule.purposes) {
        let cell = byPur.get(purpose);
        if (!cell) {
          cell = { maxAllow: -Infinity, allowRule: -1, minDeny: Infinity, denyRule: -1 };
          byPur.set(purpose, cell);
        }
        // Ties keep the earlier line, so the reported rule is the first in the file.
        if (rule.eft === "allow" && rule.lvl > cell.maxAllow) {
          cell.maxAllow = rule.lvl;
          cell.allowRule = i;
        } else if (rule.eft === "deny" && rule.lvl < cell.minDeny) {
          cell.minDeny = rule.lvl;
          cell.denyRule = i;
        }
      }
    }
  }

  /** Casbin's decision for one request (effect: some allow and no deny). */
  decide(request: AccessRequest): AccessDecision {
    const level = request.level;
    let allowRule = -1;
    let denyRule = -1;
    this.forEachCell(request, (cell) => {
      if (level >= cell.minDeny) denyRule = pickEarlier(denyRule, cell.denyRule);
      if (level <= cell.maxAllow) allowRule = pickEarlier(allowRule, cell.allowRule);
    });
    if (denyRule >= 0) return this.denyDecisions[denyRule]!;
    if (allowRule >= 0) return this.allowDecisions[allowRule]!;
    return DEFAULT_DENY;
  }

  /**
   * Every matching line summarised for all levels at once: level L is allowed
   * exactly when L <= maxAllow and L < minDeny, so the authorize stage learns the
   * highest granted level from one probe instead of four.
   */
  grant(request: LevelFreeRequest): IndexGrant {
    let maxAllow = 0;
    let minDeny = Infinity;
    let allowRule = -1;
    let denyRule = -1;
    this.forEachCell(request, (cell) => {
      if (cell.minDeny < minDeny || (cell.minDeny === minDeny && cell.denyRule < denyRule)) {
        minDeny = cell.minDeny;
        denyRule = cell.denyRule;
      }
      if (cell.maxAllow > maxAllow || (cell.maxAllow === maxAllow && cell.allowRule >= 0 && cell.allowRule < allowRule)) {
        maxAllow = cell.maxAllow;
        allowRule = cell.allowRule;
      }
    });
    return { maxAllow, minDeny, allowRule, denyRule };
  }

  /** Visits the cells of every key the request can match; never more than |subs|·|doms|·|objs|·2. */
  private forEachCell(request: LevelFreeRequest, visit: (cell: Cell) => void): void {
    const subs = this.candidates(0, request.requester);
    const doms = this.candidates(1, request.owner);
    const objs = this.candidates(2, request.category);
    for (let a = 0; a < subs.length; a++) {
      const byDom = this.index.get(subs[a]!);
      if (!byDom) continue;
      for (let b = 0; b < doms.length; b++) {
        const byObj = byDom.get(doms[b]!);
        if (!byObj) continue;
        for (let c = 0; c < objs.length; c++) {
          const byPur = byObj.get(objs[c]!)?.get(request.action);
          if (!byPur) continue;
          const exact = byPur.get(request.purpose);
          if (exact) visit(exact);
          if (request.purpose !== WILDCARD) {
            const any = byPur.get(WILDCARD);
            if (any) visit(any);
          }
        }
      }
    }
  }

  /**
   * The p-values a request value can match: itself, every role it reaches within
   * Casbin's hierarchy limit (g(r, p) is true for r === p even for unknown names),
   * and the wildcard.
   */
  private candidates(kind: 0 | 1 | 2, name: string): readonly string[] {
    return this.closures[kind].get(name) ?? (name === WILDCARD ? [WILDCARD] : [name, WILDCARD]);
  }
}

function pickEarlier(current: number, candidate: number): number {
  return current < 0 || (candidate >= 0 && candidate < current) ? candidate : current;
}

function child<T>(map: Map<string, Map<string, T>>, key: string): Map<string, T> {
  let next = map.get(key);
  if (!next) {
    next = new Map();
    map.set(key, next);
  }
  return next;
}

/**
 * For every member name: itself, all roles reachable in at most
 * MAX_HIERARCHY_LEVEL links (breadth first, as DefaultRoleManager.hasLink
 * bounds depth), and the wildcard.
 */
function roleClosures(links: ReadonlyArray<readonly [string, string]>): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const [member, role] of links) {
    const list = edges.get(member);
    if (list) {
      if (!list.includes(role)) list.push(role);
    } else edges.set(member, [role]);
  }
  const closures = new Map<string, string[]>();
  for (const start of edges.keys()) {
    const seen = new Set<string>([start]);
    let frontier = [start];
    for (let depth = 0; depth < MAX_HIERARCHY_LEVEL && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const name of frontier) {
        for (const role of edges.get(name) ?? []) {
          if (!seen.has(role)) {
            seen.add(role);
            next.push(role);
          }
        }
      }
      frontier = next;
    }
    seen.add(WILDCARD);
    closures.set(start, [...seen]);
  }
  return closures;
}
