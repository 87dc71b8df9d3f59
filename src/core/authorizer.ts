/**
 * The decision point (Envoy ext_authz / OPA split): it answers one question
 * and enforces nothing. The Casbin model and policy in policies/ are the
 * source of truth; adapters evaluate them (src/adapters/casbin).
 */

/** One question to the policy: may `requester` receive `category` records of `owner` at `level` for `purpose`? */
export interface AccessRequest {
  /** Requesting agency id, e.g. "pbccrc". */
  readonly requester: string;
  /** Owning agency id. */
  readonly owner: string;
  /** Catalogue category, e.g. "loan_overdue". */
  readonly category: string;
  /** "query" for exchanges; later actions (e.g. "subscribe") use the same model. */
  readonly action: string;
  /** Purpose name without prefix, e.g. "LOAN_APPROVAL". */
  readonly purpose: string;
  /** Classification level 1..4 of the data asked for. */
  readonly level: number;
}

export interface AccessDecision {
  readonly allowed: boolean;
  /** The policy line that decided (allow or deny), as written in the policy file; "" when none matched (default deny). */
  readonly matchedRule: string;
  /** True when an explicit deny rule decided. */
  readonly explicitDeny: boolean;
}

/**
 * Every level at once for a request without its level: level L is allowed exactly
 * when L <= maxAllowed and L < minDenied (an allow grants up to its level, a deny
 * refuses its level and above; policies/model.conf).
 */
export interface LevelGrant {
  /** Highest level an allow rule grants; 0 when none matches. */
  readonly maxAllowed: number;
  /** Lowest level an explicit deny refuses; Infinity when none matches. */
  readonly minDenied: number;
  /** A matching allow line with the highest level; "" when none. */
  readonly allowRule: string;
  /** A matching deny line with the lowest level; "" when none. */
  readonly denyRule: string;
}

export interface Authorizer {
  /** Identifies the policy in force (content hash or signed bundle revision); recorded in every audit event. */
  readonly revision: string;
  decide(request: AccessRequest): AccessDecision;
  /** Optional fast path: the answer for levels 1..4 in one probe. Must agree with decide(). */
  grantLevels?(request: Omit<AccessRequest, "level">): LevelGrant;
}

/** The highest level allowed by a grant, 0 when none. */
export function highestGrantedLevel(grant: LevelGrant): number {
  return Math.max(0, Math.min(grant.maxAllowed, grant.minDenied - 1));
}
