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

export interface Authorizer {
  /** Identifies the policy in force (content hash or signed bundle revision); recorded in every audit event. */
  readonly revision: string;
  decide(request: AccessRequest): AccessDecision;
}
