import { CredexError } from "../errors.js";
import { PURPOSES, type PurposeName } from "../catalogue.js";
import { highestGrantedLevel, type AccessRequest, type Authorizer } from "../authorizer.js";
import type { GrantUse } from "../special-access/special-access-registry.js";
import { missingPurposeRole, type AgencyRegistry } from "../registry.js";
import type { Principal } from "../principal.js";
import type { Catalogue } from "../catalogue.js";
import { protectionCeiling, requiredProtectionLevel } from "../protection-level.js";
import { assertSectorMayState, sectorCeiling, sectorRights } from "../sector-rights.js";

/** What one owner's records of one category may be released at. */
export interface Grant {
  readonly owner: string;
  readonly category: string;
  /** Highest level released, 1..4. */
  readonly maxLevel: number;
  readonly matchedRule: string;
}

export type DenialReason =
  | "EXPLICITLY_DENIED"
  | "SECTOR_LEVEL_NOT_PERMITTED"
  | "PROTECTION_LEVEL_INSUFFICIENT"
  | "SECTOR_CONSENT_REQUIRED"
  | "PURPOSE_NOT_PERMITTED"
  | "CATEGORY_NOT_PERMITTED";

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
  /**
   * Category levels and the protection level each classification level requires
   * (GB/T 22239-2019); absent (unit tests), categories are taken as level 1 and the
   * default requirements apply to the grant's level.
   */
  readonly catalogue?: Catalogue | undefined;
}

export interface AuthorizeInput {
  readonly principal: Principal;
  readonly categories: readonly string[];
  readonly purpose: PurposeName;
  /** An approved special grant named by the query: its owner's categories pass up to level 4 unless explicitly denied. */
  readonly specialGrant?: GrantUse | undefined;
  /** The query carried a verified consent attestation covering every requested category (validate stage). */
  readonly consented?: boolean | undefined;
}

const DENIAL_PRECEDENCE: readonly DenialReason[] = [
  "SECTOR_LEVEL_NOT_PERMITTED",
  "EXPLICITLY_DENIED",
  "PROTECTION_LEVEL_INSUFFICIENT",
  "SECTOR_CONSENT_REQUIRED",
  "PURPOSE_NOT_PERMITTED",
  "CATEGORY_NOT_PERMITTED",
];

/** The policy's answer for one owner × category × purpose, for levels 1..ceiling. */
interface Probe {
  /** Highest level allowed (0: none). */
  readonly allowLevel: number;
  readonly allowRule: string;
  /** Lowest level an explicit deny refuses (Infinity: none). */
  readonly denyFloor: number;
  readonly denyRule: string;
}

function probe(authorizer: Authorizer, request: Omit<AccessRequest, "level">, ceiling: number): Probe {
  if (authorizer.grantLevels) {
    // Fast path: all four levels in one probe (agrees with decide(): src/adapters/casbin tests).
    const g = authorizer.grantLevels(request);
    return { allowLevel: Math.min(highestGrantedLevel(g), ceiling), allowRule: g.allowRule, denyFloor: g.minDenied, denyRule: g.denyRule };
  }
  let allowLevel = 0;
  let allowRule = "";
  let denyFloor = Infinity;
  let denyRule = "";
  for (let level = 1; level <= ceiling; level++) {
    const d = authorizer.decide({ ...request, level });
    if (d.allowed) [allowLevel, allowRule] = [level, d.matchedRule];
    else if (d.explicitDeny && denyFloor === Infinity) [denyFloor, denyRule] = [level, d.matchedRule];
  }
  return { allowLevel, allowRule, denyFloor, denyRule };
}

/**
 * Stage 3: what may the caller see? Decides only (STYLE.md: authorize
 * decides, release enforces). For every owner that serves a requested
 * category, the highest level the policy grants for this purpose, capped by
 * the requester's clearance, its declared protection level and the gateway's
 * mode. A category whose level needs a higher protection level than the
 * requester declared (GB/T 22239-2019) is refused whatever the policy or a
 * special grant says: the policy may come in a signed bundle checked against
 * another registry, and the registry may change. The requester's sector bounds
 * it the same way (src/core/sector-rights.ts): a credit bureau never receives
 * level-4 data, and level 3 only with the subject's consent. Deny by default: a pair
 * with no allow rule is denied; explicit denies win, over special grants too.
 * When nothing at all is granted the exchange is refused with the most
 * specific reason.
 */
export function authorize(deps: AuthorizeDeps, input: AuthorizeInput, now: Date): ExchangeDecision {
  const authorizer = deps.authorizer(); // one policy revision for the whole exchange
  const requester = deps.registry.get(input.principal.agencyId);
  const rights = sectorRights(input.principal.sector);
  // A sector fact, checked before the policy like the role below: a credit bureau holds no public authority to supervise, license or enforce.
  assertSectorMayState(input.principal.sector, input.purpose, input.principal.agencyId);
  const missingRole = missingPurposeRole(requester, input.purpose);
  if (missingRole !== undefined) {
    // A registry fact, checked before the policy: no rule (not even "*, JUDICIAL") lets an agency claim the purpose.
    throw new CredexError("PURPOSE_NOT_PERMITTED", `purpose ${input.purpose} needs the "${missingRole}" role in the agency registry; "${input.principal.agencyId}" does not hold it`, {
      purpose: input.purpose,
      required_role: missingRole,
      agency: input.principal.agencyId,
    });
  }
  const sectorCap = sectorCeiling(rights, input.consented === true);
  const protection = requester?.protectionLevel ?? 0;
  const protectionCap = protectionCeiling(deps.catalogue, protection);
  const ceiling = Math.min(requester?.clearance ?? 0, deps.levelCap(), protectionCap, sectorCap, 4);
  const grants: Grant[] = [];
  const denials: Denial[] = [];
  let underProtected: { category: string; owner: string; required: number } | undefined;
  for (const category of input.categories) {
    const categoryLevel = deps.catalogue?.categories.get(category)?.level ?? 1;
    const required = requiredProtectionLevel(deps.catalogue, categoryLevel);
    for (const owner of deps.registry.providersOf(category)) {
      // Before the policy and any special grant: these bounds hold whatever either says.
      if (categoryLevel > rights.maxLevel) {
        denials.push({ owner: owner.id, category, reason: "SECTOR_LEVEL_NOT_PERMITTED", matchedRule: rights.basis });
        continue;
      }
      if (categoryLevel > sectorCap) {
        denials.push({ owner: owner.id, category, reason: "SECTOR_CONSENT_REQUIRED", matchedRule: rights.basis });
        continue;
      }
      if (protection < required) {
        denials.push({ owner: owner.id, category, reason: "PROTECTION_LEVEL_INSUFFICIENT", matchedRule: `GB/T 22239-2019: level ${categoryLevel} needs protection level ${required}` });
        underProtected ??= { category, owner: owner.id, required };
        continue;
      }
      const request = { requester: input.principal.agencyId, owner: owner.id, category, action: "query", purpose: input.purpose };
      const p = probe(authorizer, request, ceiling);
      const special = input.specialGrant && input.specialGrant.ownerAgency === owner.id && input.specialGrant.categories.has(category);
      const level = special ? Math.min(ceiling, p.denyFloor - 1) : p.allowLevel;
      if (level >= 1) {
        grants.push({ owner: owner.id, category, maxLevel: level, matchedRule: special ? `special grant ${input.specialGrant!.grantId}` : p.allowRule });
      } else if (p.denyFloor <= ceiling) {
        denials.push({ owner: owner.id, category, reason: "EXPLICITLY_DENIED", matchedRule: p.denyRule });
      } else {
        // Explain the default deny: would another purpose have been allowed?
        const otherPurposeAllowed = PURPOSES.some((other) => other !== input.purpose && authorizer.decide({ ...request, purpose: other, level: 1 }).allowed);
        denials.push({ owner: owner.id, category, reason: otherPurposeAllowed ? "PURPOSE_NOT_PERMITTED" : "CATEGORY_NOT_PERMITTED", matchedRule: "" });
      }
    }
  }
  if (grants.length === 0 && denials.length > 0) {
    const reason = DENIAL_PRECEDENCE.find((r) => denials.some((d) => d.reason === r))!;
    const first = denials.find((d) => d.reason === reason)!;
    const levels: Record<string, string> =
      reason === "PROTECTION_LEVEL_INSUFFICIENT" && underProtected
        ? { declared_protection_level: String(protection), required_protection_level: String(underProtected.required) }
        : reason === "SECTOR_LEVEL_NOT_PERMITTED" || reason === "SECTOR_CONSENT_REQUIRED"
          ? { sector: input.principal.sector, sector_max_level: String(reason === "SECTOR_LEVEL_NOT_PERMITTED" ? rights.maxLevel : sectorCap), category_level: String(deps.catalogue?.categories.get(first.category)?.level ?? 1) }
          : {};
    throw new CredexError(reason, undefined, { purpose: input.purpose, category: first.category, owner: first.owner, policy_revision: authorizer.revision, ...levels });
  }
  return { grants, denials, policyRevision: authorizer.revision, decidedAt: now };
}
