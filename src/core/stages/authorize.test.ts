import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { authorize } from "./authorize.js";
import { AgencyRegistry, type AgencyEntry } from "../registry.js";
import { CredexError } from "../errors.js";
import type { AccessRequest, Authorizer } from "../authorizer.js";
import type { Principal } from "../principal.js";
import type { Catalogue } from "../catalogue.js";
import type { GrantUse } from "../special-access/special-access-registry.js";

const agency = (id: string, sector: AgencyEntry["sector"], categories: string[], clearance = 4): AgencyEntry => ({
  id, name: id, sector, uscc: "91310110666007217T", providerEndpoint: "127.0.0.1:1", categories, clearance, protectionLevel: 3, status: "active",
});
const registry = new AgencyRegistry([agency("bank", "BANKING", ["loan_overdue"], 3), agency("sec", "SECURITIES", ["securities_violation", "securities_holding"]), agency("fx", "FOREX", ["forex_violation"])]);
const principal: Principal = { agencyId: "bank", sector: "BANKING", uscc: "", certFingerprint: "", certSerial: "", publicKey: generateKeyPairSync("ed25519").publicKey };

/** A table policy: "owner/category/purpose" → [max level allowed, lowest level denied]. */
function tableAuthorizer(table: Record<string, [number, number?]>): Authorizer {
  return {
    revision: "rev-1",
    decide(r: AccessRequest) {
      const [allow, deny] = table[`${r.owner}/${r.category}/${r.purpose}`] ?? [0];
      const denied = deny !== undefined && r.level >= deny;
      return { allowed: !denied && r.level <= allow, matchedRule: denied ? "p, deny" : r.level <= allow ? `p, allow ${allow}` : "", explicitDeny: denied };
    },
  };
}

const deps = (authorizer: Authorizer, cap = 4) => ({ authorizer: () => authorizer, registry, levelCap: () => cap });
const now = new Date();

describe("authorize", () => {
  it("ok/grants each owner the highest level the policy allows, capped by clearance", () => {
    const d = authorize(deps(tableAuthorizer({ "sec/securities_violation/LOAN_APPROVAL": [3], "sec/securities_holding/LOAN_APPROVAL": [4] })), { principal, categories: ["securities_violation", "securities_holding"], purpose: "LOAN_APPROVAL" }, now);
    // bank's clearance is 3: the level-4 allow for holdings is capped.
    expect(d.grants.map((g) => [g.owner, g.category, g.maxLevel])).toEqual([["sec", "securities_violation", 3], ["sec", "securities_holding", 3]]);
    expect(d.policyRevision).toBe("rev-1");
  });

  it("ok/partial: granted owners proceed, denied ones are listed", () => {
    const d = authorize(deps(tableAuthorizer({ "sec/securities_violation/SUPERVISION": [3] })), { principal, categories: ["securities_violation", "forex_violation"], purpose: "SUPERVISION" }, now);
    expect(d.grants.map((g) => g.owner)).toEqual(["sec"]);
    expect(d.denials).toEqual([{ owner: "fx", category: "forex_violation", reason: "CATEGORY_NOT_PERMITTED", matchedRule: "" }]);
  });

  it.each([
    ["fail/purpose-not-permitted", { "fx/forex_violation/SUPERVISION": [3] }, "PURPOSE_NOT_PERMITTED"],
    ["fail/category-not-permitted", {}, "CATEGORY_NOT_PERMITTED"],
    ["fail/explicitly-denied", { "fx/forex_violation/LOAN_APPROVAL": [3, 1] }, "EXPLICITLY_DENIED"],
  ] as const)("%s", (_name, table, reason) => {
    try {
      authorize(deps(tableAuthorizer(table as Record<string, [number, number?]>)), { principal, categories: ["forex_violation"], purpose: "LOAN_APPROVAL" }, now);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CredexError);
      expect((err as CredexError).reason).toBe(reason);
      expect((err as CredexError).metadata).toMatchObject({ category: "forex_violation", owner: "fx", purpose: "LOAN_APPROVAL" });
    }
  });

  it("ok/restricted mode caps every grant at level 1", () => {
    const authorizer = tableAuthorizer({ "sec/securities_violation/SUPERVISION": [3] });
    expect(() => authorize(deps(authorizer, 1), { principal, categories: ["securities_violation"], purpose: "SUPERVISION" }, now)).not.toThrow();
    const d = authorize(deps(authorizer, 1), { principal, categories: ["securities_violation"], purpose: "SUPERVISION" }, now);
    expect(d.grants[0]!.maxLevel).toBe(1);
  });

  it("ok/uses the one-probe fast path when the authorizer offers it, with the same answer", () => {
    const slow = tableAuthorizer({ "sec/securities_violation/SUPERVISION": [3, 3] });
    const fast: Authorizer = {
      ...slow,
      grantLevels: (r) => {
        const [allow, deny] = ({ "sec/securities_violation/SUPERVISION": [3, 3] } as Record<string, [number, number]>)[`${r.owner}/${r.category}/${r.purpose}`] ?? [0, Infinity];
        return { maxAllowed: allow, minDenied: deny, allowRule: "p, allow", denyRule: "p, deny" };
      },
    };
    const input = { principal, categories: ["securities_violation"], purpose: "SUPERVISION" as const };
    expect(authorize(deps(fast), input, now).grants.map((g) => g.maxLevel)).toEqual(authorize(deps(slow), input, now).grants.map((g) => g.maxLevel));
    expect(authorize(deps(fast), input, now).grants[0]!.maxLevel).toBe(2);
  });

  it.each([
    ["fail/JUDICIAL from an agency without the judicial role, even where the policy allows it", [], "PURPOSE_NOT_PERMITTED"],
    ["ok/JUDICIAL from an agency holding the judicial role", ["judicial"], "OK"],
  ] as const)("%s (issue 16 item 10)", (_name, roles, expected) => {
    const courts = new AgencyRegistry([{ ...agency("court", "REGIONAL", []), roles: [...roles] }, agency("sec", "SECURITIES", ["securities_violation"])]);
    const asker: Principal = { ...principal, agencyId: "court", sector: "REGIONAL" };
    const allowAll = tableAuthorizer({ "sec/securities_violation/JUDICIAL": [3] });
    try {
      const d = authorize({ authorizer: () => allowAll, registry: courts, levelCap: () => 4 }, { principal: asker, categories: ["securities_violation"], purpose: "JUDICIAL" }, now);
      expect(expected).toBe("OK");
      expect(d.grants.map((g) => g.maxLevel)).toEqual([3]);
    } catch (err) {
      expect((err as CredexError).reason).toBe(expected);
      expect((err as CredexError).metadata).toEqual({ purpose: "JUDICIAL", required_role: "judicial", agency: "court" });
    }
  });
});

// Issue 17, item 6: the declared protection level (等级保护, GB/T 22239-2019) is enforced, not declared.
describe("authorize: level protection (GB/T 22239-2019)", () => {
  const category = (name: string, level: number) => ({ name, level, sensitive: level === 4, negative: false, sectors: ["SECURITIES"], description: name });
  const catalogue: Catalogue = { categories: new Map([["securities_violation", category("securities_violation", 3)], ["administrative_penalty", category("administrative_penalty", 1)]]) };
  const registryAt = (protectionLevel: number) =>
    new AgencyRegistry([{ ...agency("bank", "BANKING", [], 4), protectionLevel }, agency("sec", "SECURITIES", ["securities_violation", "administrative_penalty"])]);
  const allowAll = tableAuthorizer({ "sec/securities_violation/SUPERVISION": [4], "sec/administrative_penalty/SUPERVISION": [4] });
  const depsAt = (protectionLevel: number) => ({ authorizer: () => allowAll, registry: registryAt(protectionLevel), levelCap: () => 4, catalogue });

  it("fail/GB/T 22239-2019: a level-3 category is refused to an agency declared at protection level 2, whatever the policy grants", () => {
    try {
      authorize(depsAt(2), { principal, categories: ["securities_violation"], purpose: "SUPERVISION" }, now);
      expect.unreachable();
    } catch (err) {
      expect((err as CredexError).reason).toBe("PROTECTION_LEVEL_INSUFFICIENT");
      expect((err as CredexError).metadata).toMatchObject({ category: "securities_violation", owner: "sec", declared_protection_level: "2", required_protection_level: "3" });
    }
  });

  it("fail/GB/T 22239-2019: a special grant does not lift the requirement", () => {
    const specialGrant: GrantUse = { grantId: "g-1", ownerAgency: "sec", categories: new Set(["securities_violation"]), usesLeft: 1 };
    expect(() => authorize(depsAt(2), { principal, categories: ["securities_violation"], purpose: "SUPERVISION", specialGrant }, now)).toThrow(/protection level/);
  });

  it("ok/partial: the public category passes, capped at the highest level protection level 2 may hold; the restricted one is listed as denied", () => {
    const d = authorize(depsAt(2), { principal, categories: ["securities_violation", "administrative_penalty"], purpose: "SUPERVISION" }, now);
    expect(d.grants.map((g) => [g.category, g.maxLevel])).toEqual([["administrative_penalty", 2]]);
    expect(d.denials.map((x) => [x.category, x.reason])).toEqual([["securities_violation", "PROTECTION_LEVEL_INSUFFICIENT"]]);
  });

  it("ok/an agency declared at protection level 3 receives what the policy grants", () => {
    const d = authorize(depsAt(3), { principal, categories: ["securities_violation"], purpose: "SUPERVISION" }, now);
    expect(d.grants.map((g) => [g.category, g.maxLevel])).toEqual([["securities_violation", 4]]);
  });
});
