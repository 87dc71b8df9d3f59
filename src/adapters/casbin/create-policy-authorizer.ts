/**
 * Authorizer factories over policies/model.conf + policy.csv.
 *
 * Each call builds a NEW evaluator from the files; a live one is never mutated
 * (Casbin's loadPolicy clears before it reloads: TOOLCHAIN.md). To change policy,
 * build another and swap the reference the gateway holds.
 */
import { readFile } from "node:fs/promises";
import type { AccessDecision, AccessRequest, Authorizer, LevelGrant } from "../../core/authorizer.js";
import { compileEnforcer, compileEnforcerSliced, loadCasbinEnforcer, policyRevision, type AgencySector, type PolicySource, type Slicing } from "./load-casbin-policy.js";

export interface PolicyFiles {
  readonly modelPath: string;
  readonly policyPath: string;
  /** The agency registry: each id gets g and g2 links to "sector:<sector>". */
  readonly agencies: readonly AgencySector[];
}

/** The compiled evaluator, with the size of what it compiled. */
export interface PolicyAuthorizer extends Authorizer {
  grantLevels(request: Omit<AccessRequest, "level">): LevelGrant;
  /** Number of `p` lines compiled. */
  readonly ruleCount: number;
}

export async function readPolicySource(files: PolicyFiles): Promise<PolicySource> {
  const [modelText, policyText] = await Promise.all([readFile(files.modelPath, "utf8"), readFile(files.policyPath, "utf8")]);
  return { modelText, policyText, agencies: files.agencies };
}

/** The fast evaluator: Casbin parses, credex indexes; decide() probes a few keys, never all lines. */
export async function createPolicyAuthorizer(files: PolicyFiles): Promise<PolicyAuthorizer> {
  return createPolicyAuthorizerFromSource(await readPolicySource(files));
}

/** `slicing`: compile in slices beside live traffic (policy apply on a running gateway). */
export async function createPolicyAuthorizerFromSource(source: PolicySource, slicing?: Slicing): Promise<PolicyAuthorizer> {
  const enforcer = await loadCasbinEnforcer(source, "fast", slicing);
  const index = slicing ? await compileEnforcerSliced(enforcer, slicing) : compileEnforcer(enforcer);
  const revision = policyRevision(source);
  const rules = index.rules;
  return Object.freeze({
    revision,
    ruleCount: rules.length,
    decide: (request: AccessRequest): AccessDecision => index.decide(request),
    grantLevels: (request: Omit<AccessRequest, "level">): LevelGrant => {
      const g = index.grant(request);
      return {
        maxAllowed: g.maxAllow,
        minDenied: g.minDeny,
        allowRule: g.allowRule >= 0 ? rules[g.allowRule]!.text : "",
        denyRule: g.denyRule >= 0 ? rules[g.denyRule]!.text : "",
      };
    },
  });
}

/**
 * Casbin's own enforce over the same files: linear in policy lines (≈3.5 ms at 1k,
 * TOOLCHAIN.md). For differential tests and small setups.
 */
export async function createCasbinReferenceAuthorizer(files: PolicyFiles): Promise<Authorizer> {
  return createCasbinReferenceAuthorizerFromSource(await readPolicySource(files));
}

export async function createCasbinReferenceAuthorizerFromSource(source: PolicySource): Promise<Authorizer> {
  // Casbin end to end, its own CSV line parser included: the differential test then covers parsing too.
  const enforcer = await loadCasbinEnforcer(source, "casbin");
  // Compiling validates the lines exactly as the fast evaluator does, so both refuse the same files.
  compileEnforcer(enforcer);
  const revision = policyRevision(source);
  return Object.freeze({
    revision,
    decide(request: AccessRequest): AccessDecision {
      const [allowed, explain] = enforcer.enforceExSync(
        request.requester,
        request.owner,
        request.category,
        request.action,
        request.level,
        request.purpose,
      );
      const matchedRule = explain.length > 0 ? `p, ${explain.join(", ")}` : "";
      return { allowed, matchedRule, explicitDeny: !allowed && explain[6] === "deny" };
    },
  });
}
