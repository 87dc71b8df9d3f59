import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createPolicyAuthorizerFromSource } from "../adapters/casbin/create-policy-authorizer.js";
import { packageRoot } from "../config/package-root.js";
import { SECTORS } from "../core/catalogue.js";
import { createSeededRandom } from "../core/identifiers/random-source.js";
import { summarizeLatencies } from "./latency-summary.js";
import { generateBenchPolicy } from "./bench-policy.js";

export interface DecisionFigures {
  readonly lines: number;
  readonly rules: number;
  /** Parse (Casbin) + compile (credex index) of the whole policy. */
  readonly compileMs: number;
  readonly decisions: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

const CATEGORIES = ["administrative_penalty", "loan_overdue", "income", "securities_violation", "forex_violation", "red_list", "insurance_claim", "tax_amount"];
const PURPOSES = ["LOAN_APPROVAL", "GUARANTEE", "SUPERVISION", "JUDICIAL"];

/** Decision latency of the fast evaluator over a generated policy of `lines` lines (issue 4: p99 ≤ 20 µs at 10k, ≤ 50 µs at 100k). */
export async function measureDecisions(lines: number, decisions = 20_000): Promise<DecisionFigures> {
  const policies = join(packageRoot(), "policies");
  const [modelText, base] = await Promise.all([readFile(join(policies, "model.conf"), "utf8"), readFile(join(policies, "policy.csv"), "utf8")]);
  const agencies = Array.from({ length: 8 }, (_, i) => ({ id: `a${i + 1}`, sector: SECTORS[i % SECTORS.length]! }));
  const policyText = generateBenchPolicy(base, lines, agencies.map((a) => a.id));
  const t0 = process.hrtime.bigint();
  const authorizer = await createPolicyAuthorizerFromSource({ modelText, policyText, agencies });
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const random = createSeededRandom(3);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const requests = Array.from({ length: 1024 }, () => ({
    requester: pick(agencies).id,
    owner: pick(agencies).id,
    category: pick(CATEGORIES),
    action: "query",
    purpose: pick(PURPOSES),
  }));
  const samples = new Float64Array(decisions);
  let sink = 0;
  for (let i = 0; i < decisions; i++) {
    const start = process.hrtime.bigint();
    sink += authorizer.grantLevels(requests[i & 1023]!).maxAllowed;
    samples[i] = Number(process.hrtime.bigint() - start) / 1e3;
  }
  if (sink < 0) throw new Error("unreachable");
  const s = summarizeLatencies(samples);
  const r = (v: number) => Math.round(v * 100) / 100;
  return { lines, rules: authorizer.ruleCount, compileMs: Math.round(compileMs), decisions, p50Us: r(s.p50), p99Us: r(s.p99), maxUs: r(s.max) };
}
