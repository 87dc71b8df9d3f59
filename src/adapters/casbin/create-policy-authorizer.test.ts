import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { highestGrantedLevel, type AccessRequest } from "../../core/authorizer.js";
import {
  createCasbinReferenceAuthorizer,
  createCasbinReferenceAuthorizerFromSource,
  createPolicyAuthorizer,
  createPolicyAuthorizerFromSource,
} from "./create-policy-authorizer.js";

const POLICIES = join(__dirname, "..", "..", "..", "policies");
const MODEL = readFileSync(join(POLICIES, "model.conf"), "utf8");
const AGENCIES = [
  { id: "pbccrc", sector: "BANKING" },
  { id: "csrc", sector: "SECURITIES" },
  { id: "nfra", sector: "INSURANCE" },
  { id: "safe", sector: "FOREX" },
  { id: "sh-credit", sector: "REGIONAL" },
];
const FILES = { modelPath: join(POLICIES, "model.conf"), policyPath: join(POLICIES, "policy.csv"), agencies: AGENCIES };

const ask = (over: Partial<AccessRequest>): AccessRequest => ({
  requester: "pbccrc",
  owner: "csrc",
  category: "securities_violation",
  action: "query",
  purpose: "LOAN_APPROVAL",
  level: 3,
  ...over,
});

describe("createPolicyAuthorizer over the shipped policy", () => {
  it("ok/banking reads securities violations for loan approval, up to level 3", async () => {
    const authz = await createPolicyAuthorizer(FILES);
    expect(authz.decide(ask({}))).toEqual({
      allowed: true,
      explicitDeny: false,
      matchedRule: "p, sector:BANKING, sector:SECURITIES, securities_violation, query, 3, LOAN_APPROVAL|POST_LOAN_MANAGEMENT|GUARANTEE, allow",
    });
    expect(authz.decide(ask({ level: 4 })).allowed).toBe(false);
    expect(highestGrantedLevel(authz.grantLevels(ask({})))).toBe(3);
  });

  it("fail/csrc may read loan data for SUPERVISION but not for LOAN_APPROVAL", async () => {
    const authz = await createPolicyAuthorizer(FILES);
    const loan = ask({ requester: "csrc", owner: "pbccrc", category: "loan_overdue" });
    expect(authz.decide({ ...loan, purpose: "SUPERVISION" }).allowed).toBe(true);
    expect(authz.decide(loan)).toEqual({ allowed: false, explicitDeny: false, matchedRule: "" });
  });

  it("fail/deposits are explicitly denied at every level, even for JUDICIAL", async () => {
    const authz = await createPolicyAuthorizer(FILES);
    const d = authz.decide(ask({ owner: "pbccrc", category: "deposit", purpose: "JUDICIAL", level: 1 }));
    expect(d).toEqual({ allowed: false, explicitDeny: true, matchedRule: "p, *, *, deposit, query, 1, *, deny" });
    const g = authz.grantLevels(ask({ owner: "pbccrc", category: "deposit", purpose: "JUDICIAL" }));
    expect(g.maxAllowed).toBe(3);
    expect(g.minDenied).toBe(1);
    expect(highestGrantedLevel(g)).toBe(0);
  });

  it("ok/public records reach any member, unknown agencies and categories get nothing", async () => {
    const authz = await createPolicyAuthorizer(FILES);
    expect(authz.decide(ask({ requester: "sh-credit", owner: "safe", category: "administrative_penalty", purpose: "SUBJECT_REQUEST", level: 1 })).allowed).toBe(true);
    expect(authz.decide(ask({ category: "religion", purpose: "JUDICIAL", level: 1 })).allowed).toBe(true);
    expect(authz.decide(ask({ category: "religion", level: 1 })).allowed).toBe(false);
  });

  it("ok/the reference authorizer gives the same answers and revision", async () => {
    const fast = await createPolicyAuthorizer(FILES);
    const reference = await createCasbinReferenceAuthorizer(FILES);
    expect(reference.revision).toBe(fast.revision);
    expect(fast.revision).toMatch(/^[0-9a-f]{64}$/);
    for (const req of [ask({}), ask({ level: 4 }), ask({ owner: "pbccrc", category: "deposit", purpose: "JUDICIAL", level: 1 })]) {
      const a = fast.decide(req);
      const b = reference.decide(req);
      expect([a.allowed, a.explicitDeny]).toEqual([b.allowed, b.explicitDeny]);
    }
  });
});

describe("revision and rebuilds", () => {
  it("ok/the revision covers model, policy and registry", async () => {
    const policyText = "p, *, *, red_list, query, 1, *, allow\n";
    const base = await createPolicyAuthorizerFromSource({ modelText: MODEL, policyText, agencies: AGENCIES });
    const again = await createPolicyAuthorizerFromSource({ modelText: MODEL, policyText, agencies: [...AGENCIES].reverse() });
    const moved = await createPolicyAuthorizerFromSource({ modelText: MODEL, policyText, agencies: [{ id: "pbccrc", sector: "REGIONAL" }] });
    const edited = await createPolicyAuthorizerFromSource({ modelText: MODEL, policyText: `${policyText}# note\n`, agencies: AGENCIES });
    expect(again.revision).toBe(base.revision);
    expect(new Set([base.revision, moved.revision, edited.revision]).size).toBe(3);
  });

  it("ok/a new authorizer never changes one already built", async () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-policy-"));
    const policyPath = join(dir, "policy.csv");
    writeFileSync(policyPath, "p, sector:BANKING, *, red_list, query, 1, *, allow\n");
    const first = await createPolicyAuthorizer({ ...FILES, policyPath });
    writeFileSync(policyPath, "p, sector:BANKING, *, red_list, query, 1, *, deny\n");
    const second = await createPolicyAuthorizer({ ...FILES, policyPath });
    const req = ask({ category: "red_list", level: 1 });
    expect(first.decide(req).allowed).toBe(true);
    expect(second.decide(req).explicitDeny).toBe(true);
  });
});

describe("hierarchy depth", () => {
  it("ok/category groups are followed up to Casbin's 10 links and no further", async () => {
    const chain = Array.from({ length: 12 }, (_, i) => `g3, c${i}, c${i + 1}`).join("\n");
    const policyText = `${chain}\np, *, *, c12, query, 1, *, allow\np, *, *, c11, query, 2, *, allow\n`;
    const source = { modelText: MODEL, policyText, agencies: AGENCIES };
    const fast = await createPolicyAuthorizerFromSource(source);
    const reference = await createCasbinReferenceAuthorizerFromSource(source);
    for (let i = 0; i <= 12; i++) {
      for (const level of [1, 2]) {
        const req = ask({ category: `c${i}`, level });
        expect(fast.decide(req).allowed, `c${i} level ${level}`).toBe(reference.decide(req).allowed);
      }
    }
    expect(fast.decide(ask({ category: "c2", level: 1 })).allowed).toBe(true); // 10 links to c12
    expect(fast.decide(ask({ category: "c1", level: 1 })).allowed).toBe(true); // 10 links to c11 (level 2 grant)
    expect(fast.decide(ask({ category: "c0", level: 1 })).allowed).toBe(false); // 11 and 12 links: too far
  });
});

describe("invalid policies are refused", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["fail/level-5", "p, *, *, red_list, query, 5, *, allow", /level "5" is not one of 1, 2, 3, 4/],
    ["fail/level-word", "p, *, *, red_list, query, high, *, allow", /level "high"/],
    ["fail/effect", "p, *, *, red_list, query, 1, *, permit", /effect "permit"/],
    ["fail/purpose-regex", "p, *, *, red_list, query, 1, LOAN.*, allow", /purpose "LOAN\.\*"/],
    ["fail/purpose-star-in-list", "p, *, *, red_list, query, 1, LOAN_APPROVAL|*, allow", /purpose "\*"/],
    ["fail/purpose-empty-alternative", "p, *, *, red_list, query, 1, LOAN_APPROVAL||JUDICIAL, allow", /purpose ""/],
    ["fail/short-line", "p, *, *, red_list, query, 1, allow", /expected 7 fields/],
    ["fail/action-wildcard", "p, *, *, red_list, *, 1, *, allow", /act cannot be "\*"/],
  ];
  for (const [name, line, message] of cases) {
    it(name, async () => {
      await expect(createPolicyAuthorizerFromSource({ modelText: MODEL, policyText: line, agencies: AGENCIES })).rejects.toThrow(message);
      await expect(createCasbinReferenceAuthorizerFromSource({ modelText: MODEL, policyText: line, agencies: AGENCIES })).rejects.toThrow(message);
    });
  }

  it("fail/model-edited", async () => {
    const modelText = MODEL.replace(/^m = .*$/m, (line) => line.replace("r.lvl <= p.lvl", "r.lvl < p.lvl"));
    expect(modelText).not.toBe(MODEL);
    await expect(createPolicyAuthorizerFromSource({ modelText, policyText: "p, *, *, red_list, query, 1, *, allow", agencies: AGENCIES })).rejects.toThrow(
      /definition m\.m differs/,
    );
  });

  it("fail/agency-id-with-comma", async () => {
    await expect(createPolicyAuthorizerFromSource({ modelText: MODEL, policyText: "", agencies: [{ id: "a,b", sector: "BANKING" }] })).rejects.toThrow(
      /cannot be a policy token/,
    );
  });
});

describe("compiled in slices (policy apply beside live traffic)", () => {
  it("ok/the sliced compile decides exactly as the one-piece compile, and pauses between slices", async () => {
    const source = { modelText: MODEL, policyText: readFileSync(join(POLICIES, "policy.csv"), "utf8"), agencies: AGENCIES };
    let pauses = 0;
    const whole = await createPolicyAuthorizerFromSource(source);
    const sliced = await createPolicyAuthorizerFromSource(source, { slice: 3, pause: async () => void pauses++ });
    expect(pauses).toBeGreaterThan(whole.ruleCount / 3);
    expect(sliced.revision).toBe(whole.revision);
    const categories = ["loan_overdue", "loan_record", "income", "securities_holding", "administrative_penalty", "business_registration", "deposit", "forex_violation"];
    const purposes = ["LOAN_APPROVAL", "SUPERVISION", "GUARANTEE", "JUDICIAL", "SUBJECT_REQUEST"];
    let compared = 0;
    for (const requester of AGENCIES) for (const owner of AGENCIES) for (const category of categories) for (const purpose of purposes) {
      const base = { requester: requester.id, owner: owner.id, category, action: "query", purpose };
      expect(sliced.grantLevels(base)).toEqual(whole.grantLevels(base));
      for (let level = 1; level <= 4; level++) expect(sliced.decide({ ...base, level })).toEqual(whole.decide({ ...base, level }));
      compared++;
    }
    expect(compared).toBe(AGENCIES.length * AGENCIES.length * categories.length * purposes.length);
  });
});
