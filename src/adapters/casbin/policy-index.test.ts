/**
 * Differential test: the compiled PolicyIndex must decide exactly as Casbin's
 * own enforce over the same model and policy (issue 4: ≥ 10,000 random requests,
 * 100% agreement). Seeded, so a failure names a reproducible case.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AccessRequest, Authorizer } from "../../core/authorizer.js";
import { highestGrantedLevel } from "../../core/authorizer.js";
import { createCasbinReferenceAuthorizerFromSource, createPolicyAuthorizerFromSource, type PolicyAuthorizer } from "./create-policy-authorizer.js";
import type { AgencySector, PolicySource } from "./load-casbin-policy.js";
import { createSeededRandom } from "../../core/identifiers/random-source.js";
import { PURPOSES } from "../../core/catalogue.js";

const POLICIES = join(__dirname, "..", "..", "..", "policies");
const MODEL = readFileSync(join(POLICIES, "model.conf"), "utf8");

const DEMO_AGENCIES: AgencySector[] = [
  { id: "pbccrc", sector: "BANKING" },
  { id: "csrc", sector: "SECURITIES" },
  { id: "nfra", sector: "INSURANCE" },
  { id: "safe", sector: "FOREX" },
  { id: "sh-credit", sector: "REGIONAL" },
];


// mulberry32, shared with the synthetic-data generators.
const prng = createSeededRandom;

interface Universe {
  agencies: AgencySector[];
  sectors: string[];
  categories: string[];
  groups: string[];
  actions: string[];
}

function randomUniverse(rand: () => number): Universe {
  const sectors = ["A", "B", "C", "D"];
  const agencies = Array.from({ length: 8 }, (_, i) => ({ id: `ag${i}`, sector: sectors[Math.floor(rand() * sectors.length)]! }));
  return {
    agencies,
    sectors,
    categories: Array.from({ length: 10 }, (_, i) => `cat${i}`),
    groups: ["group:x", "group:y", "group:z"],
    actions: ["query", "subscribe"],
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** A random policy: allow and deny lines, wildcards, sector roles, nested category groups. */
function randomPolicy(rand: () => number, u: Universe, lines: number): string {
  const out: string[] = ["# generated"];
  // Groups nest (z inside y inside x) so role closures longer than one link are exercised.
  out.push("g3, group:z, group:y", "g3, group:y, group:x");
  for (const c of u.categories) {
    if (rand() < 0.6) out.push(`g3, ${c}, ${pick(rand, u.groups)}`);
  }
  const subject = () => {
    const r = rand();
    return r < 0.15 ? "*" : r < 0.45 ? `sector:${pick(rand, u.sectors)}` : pick(rand, u.agencies).id;
  };
  const object = () => {
    const r = rand();
    return r < 0.1 ? "*" : r < 0.35 ? pick(rand, u.groups) : pick(rand, u.categories);
  };
  const purposes = () => {
    if (rand() < 0.3) return "*";
    const n = 1 + Math.floor(rand() * 3);
    return Array.from({ length: n }, () => pick(rand, PURPOSES)).join("|");
  };
  // Layout noise (blanks, tabs, quotes, CRLF, comments) so both line parsers are exercised.
  const field = (v: string) => {
    const r = rand();
    return r < 0.05 ? `"${v}"` : r < 0.1 ? `\t${v} ` : v;
  };
  for (let i = 0; i < lines; i++) {
    const eft = rand() < 0.2 ? "deny" : "allow";
    const values = [subject(), subject(), object(), pick(rand, u.actions), String(1 + Math.floor(rand() * 4)), purposes(), eft];
    out.push(`p,${values.map((v) => ` ${field(v)}`).join(",")}${rand() < 0.05 ? "\r" : ""}`);
    if (rand() < 0.03) out.push(rand() < 0.5 ? "# a comment, with commas" : "  ");
  }
  return out.join("\n");
}

function randomRequest(rand: () => number, u: Universe): AccessRequest {
  // Mostly known names, sometimes unknown ones, "*" and sector roles, which Casbin also accepts as request values.
  const party = () => {
    const r = rand();
    return r < 0.85 ? pick(rand, u.agencies).id : r < 0.9 ? "stranger" : r < 0.95 ? "*" : `sector:${pick(rand, u.sectors)}`;
  };
  const r = rand();
  const category = r < 0.85 ? pick(rand, u.categories) : r < 0.93 ? pick(rand, u.groups) : r < 0.97 ? "unknown_cat" : "*";
  return {
    requester: party(),
    owner: party(),
    category,
    action: rand() < 0.9 ? pick(rand, u.actions) : "delete",
    purpose: rand() < 0.95 ? pick(rand, PURPOSES) : rand() < 0.5 ? "*" : "OTHER",
    level: 1 + Math.floor(rand() * 4),
  };
}

function expectAgreement(fast: PolicyAuthorizer, reference: Authorizer, requests: Iterable<AccessRequest>): { allowed: number; denied: number; explicit: number } {
  const tally = { allowed: 0, denied: 0, explicit: 0 };
  const mismatches: string[] = [];
  for (const req of requests) {
    const want = reference.decide(req);
    const got = fast.decide(req);
    if (got.allowed !== want.allowed || got.explicitDeny !== want.explicitDeny) {
      mismatches.push(`${JSON.stringify(req)}: casbin ${JSON.stringify(want)}, index ${JSON.stringify(got)}`);
    }
    // grantLevels must agree with decide at this level.
    if ((req.level <= highestGrantedLevel(fast.grantLevels(req))) !== got.allowed) {
      mismatches.push(`${JSON.stringify(req)}: grantLevels disagrees with decide`);
    }
    if (want.allowed) tally.allowed++;
    else if (want.explicitDeny) tally.explicit++;
    else tally.denied++;
  }
  expect(mismatches.slice(0, 5)).toEqual([]);
  return tally;
}

describe("PolicyIndex agrees with Casbin's enforce", () => {
  it("on 12,000 random requests over 6 random policies with denies, wildcards and sector roles", async () => {
    let total = 0;
    const sum = { allowed: 0, denied: 0, explicit: 0 };
    for (let seed = 1; seed <= 6; seed++) {
      const rand = prng(seed);
      const u = randomUniverse(rand);
      const source: PolicySource = { modelText: MODEL, policyText: randomPolicy(rand, u, 100), agencies: u.agencies };
      const fast = await createPolicyAuthorizerFromSource(source);
      const reference = await createCasbinReferenceAuthorizerFromSource(source);
      expect(fast.revision).toBe(reference.revision);
      const requests = Array.from({ length: 2000 }, () => randomRequest(rand, u));
      const t = expectAgreement(fast, reference, requests);
      sum.allowed += t.allowed;
      sum.denied += t.denied;
      sum.explicit += t.explicit;
      total += requests.length;
    }
    expect(total).toBeGreaterThanOrEqual(10_000);
    // The random policies must exercise all three outcomes, or agreement proves little.
    expect(sum.allowed).toBeGreaterThan(total * 0.1);
    expect(sum.denied).toBeGreaterThan(total * 0.1);
    expect(sum.explicit).toBeGreaterThan(total * 0.05);
  });

  it("on every request over the shipped policy and the five demo agencies", async () => {
    const source: PolicySource = {
      modelText: MODEL,
      policyText: readFileSync(join(POLICIES, "policy.csv"), "utf8"),
      agencies: DEMO_AGENCIES,
    };
    const fast = await createPolicyAuthorizerFromSource(source);
    const reference = await createCasbinReferenceAuthorizerFromSource(source);
    const categories = Object.keys(loadCategoryNames());
    const parties = [...DEMO_AGENCIES.map((a) => a.id), "stranger"];
    function* all(): Generator<AccessRequest> {
      for (const requester of parties)
        for (const owner of parties)
          for (const category of [...categories, "unknown_cat"])
            for (const purpose of PURPOSES)
              for (let level = 1; level <= 4; level++) yield { requester, owner, category, action: "query", purpose, level };
    }
    const t = expectAgreement(fast, reference, all());
    expect(t.allowed).toBeGreaterThan(0);
    expect(t.explicit).toBeGreaterThan(0);
  });
});

function loadCategoryNames(): Record<string, unknown> {
  const text = readFileSync(join(POLICIES, "categories.yaml"), "utf8");
  const names: Record<string, unknown> = {};
  for (const m of text.matchAll(/^ {2}([a-z_]+):\s*$/gm)) names[m[1]!] = true;
  return names;
}
