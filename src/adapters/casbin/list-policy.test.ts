import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCasbinReferenceAuthorizerFromSource, createPolicyAuthorizerFromSource } from "./create-policy-authorizer.js";
import type { PolicySource } from "./load-casbin-policy.js";
import { loadListCatalogue } from "../../config/list-catalogue-file.js";
import { LIST_PURPOSE } from "../../core/lists/list-catalogue.js";
import { DEMO_AGENCIES } from "../../demo/demo-agencies.js";

const POLICIES = join(__dirname, "..", "..", "..", "policies");
const source: PolicySource = {
  modelText: readFileSync(join(POLICIES, "model.conf"), "utf8"),
  policyText: readFileSync(join(POLICIES, "policy.csv"), "utf8"),
  agencies: DEMO_AGENCIES,
};
const catalogue = loadListCatalogue(join(POLICIES, "lists.yaml"));
const parties = [...DEMO_AGENCIES.map((a) => a.id), "stranger"];

describe("list rules of the shipped policy (publish, subscribe)", () => {
  it("are decided by the index exactly as by Casbin's own enforce", async () => {
    const fast = await createPolicyAuthorizerFromSource(source);
    const reference = await createCasbinReferenceAuthorizerFromSource(source);
    let allowed = 0;
    let total = 0;
    for (const requester of parties)
      for (const owner of parties)
        for (const category of [...catalogue.lists.keys(), "unknown_list"])
          for (const action of ["publish", "subscribe"])
            for (let level = 1; level <= 4; level++) {
              const request = { requester, owner, category, action, purpose: LIST_PURPOSE, level };
              const a = fast.decide(request);
              expect(a.allowed, JSON.stringify(request)).toBe(reference.decide(request).allowed);
              total++;
              if (a.allowed) allowed++;
            }
    expect(total).toBe(parties.length ** 2 * (catalogue.lists.size + 1) * 2 * 4);
    expect(allowed).toBeGreaterThan(0);
  });

  it.each([
    ["ok/owner-publishes", "sh-credit", "sh-credit", "dishonest_debtors", "publish", 1, true],
    ["fail/other-publishes-in-owner-name", "pbccrc", "sh-credit", "dishonest_debtors", "publish", 1, false],
    ["ok/any-member-receives-public-list", "nfra", "sh-credit", "dishonest_debtors", "subscribe", 1, true],
    ["fail/public-list-above-level-1", "nfra", "sh-credit", "dishonest_debtors", "subscribe", 2, false],
    ["ok/regulator-receives-fraud-watch", "csrc", "pbccrc", "financial_fraud_watch", "subscribe", 3, true],
    ["fail/regional-platform-never-receives-fraud-watch", "sh-credit", "pbccrc", "financial_fraud_watch", "subscribe", 1, false],
    ["fail/query-rules-do-not-grant-lists", "pbccrc", "sh-credit", "dishonest_debtor", "subscribe", 1, false],
  ] as const)("%s", async (_name, requester, owner, category, action, level, expected) => {
    const fast = await createPolicyAuthorizerFromSource(source);
    expect(fast.decide({ requester, owner, category, action, purpose: LIST_PURPOSE, level }).allowed).toBe(expected);
  });

  it("names only registry agencies as list owners", () => {
    const ids = new Set(DEMO_AGENCIES.map((a) => a.id));
    for (const list of catalogue.lists.values()) for (const owner of list.owners) expect(ids.has(owner), `${list.id}: ${owner}`).toBe(true);
  });
});
