/**
 * Micro-benchmark of the policy decision (issue 4 targets: p99 ≤ 20 µs at 10k
 * lines, ≤ 50 µs at 100k, load + compile of 100k lines ≤ 5 s), with Casbin's
 * own enforce at 1k lines in the same run for comparison.
 *
 *   npm run bench:policy            (compiles with tsc, then runs with node)
 *
 * Policies are generated like a national exchange's: many agencies in the five
 * sectors, rules per agency and per sector, category groups, purposes, ~10% denies.
 * Each call is timed alone with process.hrtime.bigint() (≈50 ns of overhead,
 * included in the figures).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AccessRequest, Authorizer } from "../src/core/authorizer.js";
import { createCasbinReferenceAuthorizerFromSource, createPolicyAuthorizerFromSource } from "../src/adapters/casbin/create-policy-authorizer.js";
import type { AgencySector, PolicySource } from "../src/adapters/casbin/load-casbin-policy.js";
import { createSeededRandom } from "../src/core/identifiers/random-source.js";
import { PURPOSES, SECTORS } from "../src/core/catalogue.js";
import { SHIPPED_CATEGORIES, SHIPPED_GROUPS } from "../src/bench/bench-policy.js";

const MODEL = readFileSync(join(__dirname, "..", "..", "..", "policies", "model.conf"), "utf8");
const CATEGORIES = SHIPPED_CATEGORIES;
const GROUPS = SHIPPED_GROUPS;

// mulberry32, shared with the synthetic-data generators.
const prng = createSeededRandom;
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

function generate(lines: number, seed: number): { source: PolicySource; agencies: AgencySector[] } {
  const rand = prng(seed);
  // About one agency per 20 lines: 50 at 1k, 5,000 at 100k.
  const agencies = Array.from({ length: Math.max(10, Math.round(lines / 20)) }, (_, i) => ({ id: `agency-${i}`, sector: pick(rand, SECTORS) }));
  const out = CATEGORIES.map((c, i) => `g3, ${c}, ${GROUPS[i % GROUPS.length]}`);
  for (let i = 0; i < lines; i++) {
    const r = rand();
    const sub = r < 0.75 ? pick(rand, agencies).id : r < 0.97 ? `sector:${pick(rand, SECTORS)}` : "*";
    const d = rand();
    const dom = d < 0.6 ? pick(rand, agencies).id : d < 0.95 ? `sector:${pick(rand, SECTORS)}` : "*";
    const obj = rand() < 0.85 ? pick(rand, CATEGORIES) : pick(rand, GROUPS);
    const purposes = rand() < 0.2 ? "*" : [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(rand, PURPOSES)))].join("|");
    const eft = rand() < 0.1 ? "deny" : "allow";
    out.push(`p, ${sub}, ${dom}, ${obj}, query, ${1 + Math.floor(rand() * 4)}, ${purposes}, ${eft}`);
  }
  return { source: { modelText: MODEL, policyText: out.join("\n"), agencies }, agencies };
}

function requests(agencies: readonly AgencySector[], n: number, seed: number): AccessRequest[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => ({
    requester: pick(rand, agencies).id,
    owner: pick(rand, agencies).id,
    category: pick(rand, CATEGORIES),
    action: "query",
    purpose: pick(rand, PURPOSES),
    level: 1 + Math.floor(rand() * 4),
  }));
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
  allowed: number;
}

/** Per-call latency in µs over the requests, after one untimed warm-up pass. */
function measure(authz: Authorizer, reqs: readonly AccessRequest[], warmup = true): Latency {
  let allowed = 0;
  if (warmup) for (const r of reqs) authz.decide(r);
  const times = new Float64Array(reqs.length);
  for (let i = 0; i < reqs.length; i++) {
    const t0 = process.hrtime.bigint();
    const d = authz.decide(reqs[i]!);
    times[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if (d.allowed) allowed++;
  }
  times.sort();
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: times[times.length - 1]!, allowed: allowed / reqs.length };
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));

async function main(): Promise<void> {
  const rows: string[] = [];
  const row = (...cells: string[]) => rows.push(`| ${cells.join(" | ")} |`);
  row("policy lines", "evaluator", "load+compile (ms)", "decide p50 (µs)", "decide p99 (µs)", "max (µs)", "requests", "allowed");
  row("---:", "---", "---:", "---:", "---:", "---:", "---:", "---:");
  for (const lines of [1_000, 10_000, 100_000]) {
    const { source, agencies } = generate(lines, lines);
    const t0 = process.hrtime.bigint();
    const fast = await createPolicyAuthorizerFromSource(source);
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const reqs = requests(agencies, 200_000, lines + 1);
    const l = measure(fast, reqs);
    row(String(lines), "compiled index", loadMs.toFixed(0), fmt(l.p50), fmt(l.p99), fmt(l.max), String(reqs.length), `${(l.allowed * 100).toFixed(1)}%`);
    if (lines === 1_000) {
      const t1 = process.hrtime.bigint();
      const casbin = await createCasbinReferenceAuthorizerFromSource(source);
      const casbinLoadMs = Number(process.hrtime.bigint() - t1) / 1e6;
      const few = reqs.slice(0, 300);
      const c = measure(casbin, few, false);
      // Same requests, same answers: the benchmark is not measuring a different question.
      for (const r of few) if (casbin.decide(r).allowed !== fast.decide(r).allowed) throw new Error(`disagreement on ${JSON.stringify(r)}`);
      row(String(lines), "casbin enforce", casbinLoadMs.toFixed(0), fmt(c.p50), fmt(c.p99), fmt(c.max), String(few.length), `${(c.allowed * 100).toFixed(1)}%`);
    }
  }
  process.stdout.write(`node ${process.version}, ${process.platform}/${process.arch}\n\n${rows.join("\n")}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
