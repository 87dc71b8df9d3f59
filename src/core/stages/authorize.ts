import { CredexError } from "../errors.js";
import { PURPOSES, type PurposeName } from "../catalogue.js";
import { highestGrantedLevel, type Authorizer } from "../authorizer.js";
import type { AgencyRegistry } from "../registry.js";
import type { Principal } from "../principal.js";

/** What one owner's records of one category may be released at. */
export interface Grant {
  readonly owner: string;
  readonly category: string;
  /** Highest level released, 1..4. */
  readonly maxLevel: number;
  readonly matchedRule: string;
}

export type DenialReason = "EXPLICITLY_DENIED" | "PURPOSE_NOT_PERMITTED" | "CATEGORY_NOT_PERMITTED";

export interface Denial {
  readonly owner: string;
  readonly category: string;
  readonly reason: DenialReason;
  readonly matchedRule: string;
}

export interface ExchangeDecision {
  readonly grants: readonly Grant[];
  readonly denials: readonly Denial[];
  readonly policyRevision: string;
  readonly decidedAt: Date;
}

export interface AuthorizeDeps {
  readonly authorizer: () => Authorizer;
  readonly registry: AgencyRegistry;
  /** Highest level any exchange may release now: 1 in restricted mode, else 4. */
  readonly levelCap: () => number;
}

export interface AuthorizeInput {
  readonly principal: Principal;
  readonly categories: readonly string[];
  readonly purpose: PurposeName;
}

const DENIAL_PRECEDENCE: readonly DenialReason[] = ["EXPLICITLY_DENIED", "PURPOSE_NOT_PERMITTED", "CATEGORY_NOT_PERMITTED"];

/**
 * Stage 3: what may the caller see? Decides only (STYLE.md: authorize
 * decides, release enforces). For every owner that serves a requested
 * category, the highest level the policy grants for this purpose, capped by
 * the requester's clearance and the gateway's mode. Deny by default: a pair
 * with no allow rule is denied. When nothing at all is granted the exchange
 * is refused with the most specific reason.
 */
export function authorize(deps: AuthorizeDeps, input: AuthorizeInput, now: Date): ExchangeDecision {
  const authorizer = deps.authorizer(); // one policy revision for the whole exchange
  const requester = deps.registry.get(input.principal.agencyId);
  const ceiling = Math.min(requester?.clearance ?? 0, deps.levelCap(), 4);
  const grants: Grant[] = [];
  const denials: Denial[] = [];
  for (const category of input.categories) {
    for (const owner of deps.registry.providersOf(category)) {
      const ask = (purpose: string, level: number) =>
        authorizer.decide({ requester: input.principal.agencyId, owner: owner.id, category, action: "query", purpose, level });
      let granted: Grant | undefined;
      let denyRule = "";
      if (authorizer.grantLevels) {
        // Fast path: all four levels in one probe (agrees with decide(): src/adapters/casbin tests).
        const g = authorizer.grantLevels({ requester: input.principal.agencyId, owner: owner.id, category, action: "query", purpose: input.purpose });
        const level = Math.min(highestGrantedLevel(g), ceiling);
        if (level >= 1) granted = { owner: owner.id, category, maxLevel: level, matchedRule: g.allowRule };
        else if (g.minDenied <= ceiling) denyRule = g.denyRule;
      } else {
        for (let level = ceiling; level >= 1; level--) {
          const decision = ask(input.purpose, level);
          if (decision.allowed) {
            granted = { owner: owner.id, category, maxLevel: level, matchedRule: decision.matchedRule };
            break;
          }
          if (decision.explicitDeny && denyRule === "") denyRule = decision.matchedRule;
        }
      }
      if (granted) {
        grants.push(granted);
        continue;
      }
      if (denyRule !== "") {
        denials.push({ owner: owner.id, category, reason: "EXPLICITLY_DENIED", matchedRule: denyRule });
        continue;
      }
      // Explain the default deny: would another purpose have been allowed?
      const otherPurposeAllowed = PURPOSES.some((p) => p !== input.purpose && ask(p, 1).allowed);
      denials.push({ owner: owner.id, category, reason: otherPurposeAllowed ? "PURPOSE_NOT_PERMITTED" : "CATEGORY_NOT_PERMITTED", matchedRule: "" });
    }
  }
  if (grants.length === 0 && denials.length > 0) {
    const reason = DENIAL_PRECEDENCE.find((r) => denials.some((d) => d.reason === r))!;
    const first = denials.find((d) => d.reason === reason)!;
    throw new CredexError(reason, undefined, { purpose: input.purpose, category: first.category, owner: first.owner, policy_revision: authorizer.revision });
  }
  return { grants, denials, policyRevision: authorizer.revision, decidedAt: now };
}
