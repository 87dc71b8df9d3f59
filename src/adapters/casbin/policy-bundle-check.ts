/**
 * Policy bundles on both sides of `credex policy apply` (issue 4):
 * - the operator's side reads a policy directory into a bundle;
 * - a gateway replica compiles a received bundle into a NEW evaluator under its
 *   own agency registry and runs the bundle's test cases against that evaluator
 *   before anything is swapped. A bundle that does not compile or fails a test
 *   is refused with a reason, and the policy in force stays.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Authorizer } from "../../core/authorizer.js";
import { highestGrantedLevel } from "../../core/authorizer.js";
import type { PolicyBundle } from "../../core/control/policy-bundle-item.js";
import { createPolicyAuthorizerFromSource, type PolicyAuthorizer } from "./create-policy-authorizer.js";
import type { AgencySector } from "./load-casbin-policy.js";
import { policyDirPaths, readTestSuite, type Finding, type TestCase } from "./policy-files.js";

export interface ReadBundleOptions {
  readonly operator: string;
  /** Above every bundle published before (highestPolicySequence + 1): replicas refuse anything lower. */
  readonly sequence: number;
  /** Default: "sha256:" and the first 16 hex digits of the hash of the files. */
  readonly revision?: string | undefined;
  readonly createdAt?: Date | undefined;
}

/** The files of a policy directory as a bundle (the same files `policy check` read). */
export function readPolicyBundle(dir: string, options: ReadBundleOptions): PolicyBundle {
  const paths = policyDirPaths(dir);
  const tests: Record<string, string> = {};
  if (existsSync(paths.tests)) {
    for (const name of readdirSync(paths.tests).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort()) {
      tests[name] = readFileSync(join(paths.tests, name), "utf8");
    }
  }
  const model = readFileSync(paths.model, "utf8");
  const policy = readFileSync(paths.policy, "utf8");
  const categories = readFileSync(paths.categories, "utf8");
  return Object.freeze({
    sequence: options.sequence,
    revision: options.revision ?? contentRevision(model, policy, categories, tests),
    createdAt: options.createdAt ?? new Date(),
    operator: options.operator,
    model,
    policy,
    categories,
    tests: Object.freeze(tests),
  });
}

function contentRevision(model: string, policy: string, categories: string, tests: Record<string, string>): string {
  const h = createHash("sha256");
  for (const part of [model, policy, categories, ...Object.entries(tests).flat()]) h.update(`${Buffer.byteLength(part)}:`).update(part);
  return `sha256:${h.digest("hex").slice(0, 16)}`;
}

/** Why a replica refused a bundle; `message` is the reason reported (log, callback, audit). */
export class PolicyBundleRejection extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyBundleRejection";
  }
}

/** Lines per slice: ≈10 ms of work on the build machine, so an exchange waits at most that long for the compile. */
const COMPILE_SLICE = 1000;

export interface CompiledBundle {
  /** The new evaluator; its revision is the bundle's. */
  readonly authorizer: Authorizer;
  readonly ruleCount: number;
  readonly testsRun: number;
}

/**
 * Compiles the bundle under `agencies` (the replica's registry) and runs its
 * test cases on the result. Yields to the event loop between phases and
 * between batches of cases so that exchanges keep flowing meanwhile.
 */
export async function compilePolicyBundle(bundle: PolicyBundle, agencies: readonly AgencySector[]): Promise<CompiledBundle> {
  const findings: Finding[] = [];
  const cases: TestCase[] = [];
  for (const [name, text] of Object.entries(bundle.tests)) {
    const suite = readTestSuite(`tests/${name}`, findings, text);
    if (suite) cases.push(...suite.cases);
  }
  const firstError = findings.find((f) => f.severity === "error");
  if (firstError) throw new PolicyBundleRejection(`test file ${firstError.file}:${firstError.line}: ${firstError.message}`);
  await yieldToEventLoop();

  let compiled: PolicyAuthorizer;
  try {
    compiled = await createPolicyAuthorizerFromSource({ modelText: bundle.model, policyText: bundle.policy, agencies }, { slice: COMPILE_SLICE, pause: () => yieldToEventLoop() });
  } catch (err) {
    throw new PolicyBundleRejection(`the policy does not compile: ${(err as Error).message}`);
  }
  await yieldToEventLoop();

  let failed = 0;
  let firstFailure = "";
  for (let i = 0; i < cases.length; i++) {
    const problem = runCase(cases[i]!, compiled);
    if (problem) {
      failed++;
      firstFailure ||= `${cases[i]!.file}:${cases[i]!.line}: test "${cases[i]!.name}" failed: ${problem}`;
    }
    if (i % 1000 === 999) await yieldToEventLoop();
  }
  if (failed > 0) throw new PolicyBundleRejection(`${failed} of ${cases.length} policy test(s) failed under this gateway's registry; first: ${firstFailure}`);

  const authorizer: Authorizer = Object.freeze({
    revision: bundle.revision,
    decide: compiled.decide,
    grantLevels: compiled.grantLevels,
  });
  return { authorizer, ruleCount: compiled.ruleCount, testsRun: cases.length };
}

/** The case's expectation against the compiled evaluator (policy check also cross-checks Casbin; a replica does not: 100k lines). */
function runCase(c: TestCase, authz: PolicyAuthorizer): string | undefined {
  const base = { requester: c.requester, owner: c.owner, category: c.category, action: c.action, purpose: c.purpose };
  if ("level" in c.expect) {
    const got = highestGrantedLevel(authz.grantLevels(base));
    return got === c.expect.level ? undefined : `expected highest level ${c.expect.level}, got ${got}`;
  }
  const d = authz.decide({ ...base, level: c.level! });
  const got = d.allowed ? "allow" : d.explicitDeny ? "explicit-deny" : "deny";
  const pass = c.expect.decision === got || (c.expect.decision === "deny" && got === "explicit-deny");
  return pass ? undefined : `expected ${c.expect.decision}, got ${got}${d.matchedRule ? ` (${d.matchedRule})` : " (no rule matches)"}`;
}
