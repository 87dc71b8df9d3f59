import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { QueryRequestSchema } from "../gen/credex/v1/exchange_pb.js";
import { Purpose, Sector, SubjectType } from "../gen/credex/v1/types_pb.js";
import { SECTORS, type Catalogue, type CategoryInfo } from "./catalogue.js";
import { SECTOR_RIGHTS, assertSectorMayAsk, sectorCeiling, sectorRights } from "./sector-rights.js";
import { AgencyRegistry, missingPurposeRole, type AgencyEntry } from "./registry.js";
import { authorize } from "./stages/authorize.js";
import { validateQuery } from "./stages/validate.js";
import { CredexError } from "./errors.js";
import type { AccessRequest, Authorizer } from "./authorizer.js";
import type { Principal } from "./principal.js";
import type { GrantUse } from "./special-access/special-access-registry.js";

const category = (name: string, level: number): [string, CategoryInfo] => [name, { name, level, sensitive: level === 4, negative: false, sectors: ["TAX"], description: name }];
const catalogue: Catalogue = { categories: new Map([category("red_list", 1), category("tax_arrears", 2), category("tax_violation", 3), category("tax_amount", 4)]) };
const agency = (id: string, sector: AgencyEntry["sector"], categories: string[]): AgencyEntry => ({
  id, name: id, sector, uscc: "91310110666007217T", providerEndpoint: "127.0.0.1:1", categories, clearance: 4, protectionLevel: 3, status: "active",
});
const registry = new AgencyRegistry([
  agency("tax", "TAX", ["red_list", "tax_arrears", "tax_violation", "tax_amount"]),
  agency("bureau", "CREDIT_BUREAU", []),
  agency("court", "COURT", []),
]);
const key = generateKeyPairSync("ed25519").publicKey;
const as = (agencyId: string, sector: string): Principal => ({ agencyId, sector, uscc: "", certFingerprint: "", certSerial: "", publicKey: key });
const bureau = as("bureau", "CREDIT_BUREAU");

/** A policy that allows everything up to level 4, for every purpose: the sector bounds must hold anyway. */
const allowEverything: Authorizer = {
  revision: "rev-all",
  decide: (r: AccessRequest) => ({ allowed: true, matchedRule: `p, *, *, *, query, 4, *, allow (level ${r.level})`, explicitDeny: false }),
};
const deps = { authorizer: () => allowEverything, registry, levelCap: () => 4, catalogue };
const now = new Date();

function reasonOf(run: () => unknown): { reason: string; metadata: Record<string, string> } {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CredexError);
    return { reason: (err as CredexError).reason, metadata: { ...(err as CredexError).metadata } };
  }
  throw new Error("expected a refusal");
}

describe("member types: the sector list", () => {
  it("the protocol's Sector enum names exactly the sectors the registry, certificates and catalogue accept", () => {
    const protoNames = Object.keys(Sector)
      .filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED")
      .sort();
    expect(protoNames).toEqual([...SECTORS].sort());
    expect(Object.keys(SECTOR_RIGHTS).sort()).toEqual([...SECTORS].sort());
  });

  it("every sector's bounds cite their rule, and only the credit bureau is capped below level 4", () => {
    for (const s of SECTORS) expect(SECTOR_RIGHTS[s].basis).not.toBe("");
    expect(SECTORS.filter((s) => SECTOR_RIGHTS[s].maxLevel < 4)).toEqual(["CREDIT_BUREAU"]);
    expect(sectorCeiling(SECTOR_RIGHTS.CREDIT_BUREAU, false)).toBe(2);
    expect(sectorCeiling(SECTOR_RIGHTS.CREDIT_BUREAU, true)).toBe(3);
    expect(sectorCeiling(SECTOR_RIGHTS.TAX, false)).toBe(4);
    expect(sectorRights("NOT_A_SECTOR")).toBe(SECTOR_RIGHTS.BANKING);
  });
});

// Credit Investigation Regulation Art. 13, 14.2, 18; Planning Outline §3(3).
describe("member types: a credit bureau", () => {
  it("fail/never receives level-4 data, even when the policy allows everything (SECTOR_LEVEL_NOT_PERMITTED)", () => {
    const { reason, metadata } = reasonOf(() => authorize(deps, { principal: bureau, categories: ["tax_amount"], purpose: "LOAN_APPROVAL", consented: true }, now));
    expect(reason).toBe("SECTOR_LEVEL_NOT_PERMITTED");
    expect(metadata).toMatchObject({ sector: "CREDIT_BUREAU", sector_max_level: "3", category_level: "4", category: "tax_amount", owner: "tax" });
  });

  it("fail/a special grant of the owner does not lift the bound", () => {
    const specialGrant: GrantUse = { grantId: "g-1", ownerAgency: "tax", categories: new Set(["tax_amount"]), usesLeft: 1 };
    expect(reasonOf(() => authorize(deps, { principal: bureau, categories: ["tax_amount"], purpose: "LOAN_APPROVAL", specialGrant, consented: true }, now)).reason).toBe("SECTOR_LEVEL_NOT_PERMITTED");
  });

  it("fail/receives restricted (level-3) data only with the subject's consent, whatever the subject type (SECTOR_CONSENT_REQUIRED)", () => {
    const { reason, metadata } = reasonOf(() => authorize(deps, { principal: bureau, categories: ["tax_violation"], purpose: "LOAN_APPROVAL" }, now));
    expect(reason).toBe("SECTOR_CONSENT_REQUIRED");
    expect(metadata).toMatchObject({ sector: "CREDIT_BUREAU", sector_max_level: "2", category_level: "3" });
  });

  it("ok/with consent: level 3 is granted, and every grant is capped at 3 so level-4 fields are removed at release", () => {
    const d = authorize(deps, { principal: bureau, categories: ["tax_violation", "tax_arrears", "tax_amount"], purpose: "LOAN_APPROVAL", consented: true }, now);
    expect(d.grants.map((g) => [g.category, g.maxLevel])).toEqual([["tax_violation", 3], ["tax_arrears", 3]]);
    expect(d.denials.map((x) => [x.category, x.reason])).toEqual([["tax_amount", "SECTOR_LEVEL_NOT_PERMITTED"]]);
  });

  it("ok/without consent: public and shared data for a stated purpose, capped at level 2", () => {
    const d = authorize(deps, { principal: bureau, categories: ["red_list", "tax_arrears"], purpose: "GUARANTEE" }, now);
    expect(d.grants.map((g) => [g.category, g.maxLevel])).toEqual([["red_list", 2], ["tax_arrears", 2]]);
  });

  it.each(["SUPERVISION", "ADMINISTRATIVE_APPROVAL", "ENFORCEMENT", "JUDICIAL"] as const)("fail/may not state the official purpose %s (PURPOSE_NOT_PERMITTED)", (purpose) => {
    const { reason, metadata } = reasonOf(() => authorize(deps, { principal: bureau, categories: ["red_list"], purpose, consented: true }, now));
    expect(reason).toBe("PURPOSE_NOT_PERMITTED");
    expect(metadata).toMatchObject({ purpose, sector: "CREDIT_BUREAU", agency: "bureau" });
  });
});

describe("member types: what a sector may ask for later (special applications)", () => {
  it("fail/a credit bureau's application for level-4 data, or for an official purpose", () => {
    expect(reasonOf(() => assertSectorMayAsk("CREDIT_BUREAU", "LOAN_APPROVAL", [{ name: "tax_amount", level: 4 }]))).toEqual({
      reason: "SECTOR_LEVEL_NOT_PERMITTED",
      metadata: { sector: "CREDIT_BUREAU", sector_max_level: "3", category_level: "4", category: "tax_amount" },
    });
    expect(reasonOf(() => assertSectorMayAsk("CREDIT_BUREAU", "SUPERVISION", [{ name: "red_list", level: 1 }])).reason).toBe("PURPOSE_NOT_PERMITTED");
  });

  it("ok/level 3 for a credit purpose, and level 4 for any other sector", () => {
    expect(() => assertSectorMayAsk("CREDIT_BUREAU", "LOAN_APPROVAL", [{ name: "tax_violation", level: 3 }])).not.toThrow();
    expect(() => assertSectorMayAsk("COURT", "ENFORCEMENT", [{ name: "tax_amount", level: 4 }])).not.toThrow();
  });
});

// Civil Procedure Law Art. 253; PIPL Art. 13 ¶1(3).
describe("member types: a court", () => {
  const person = { type: SubjectType.NATURAL_PERSON, id: "11010519491231002X" };

  it("ok/holds the judicial role by its sector, without a registry entry naming it", () => {
    expect(missingPurposeRole(registry.get("court"), "JUDICIAL")).toBeUndefined();
    expect(missingPurposeRole(registry.get("tax"), "JUDICIAL")).toBe("judicial");
  });

  // A court's duty does not waive consent by itself: the query names the statutory exemption
  // (policies/exemptions.yaml), which is audited with its legal basis (Art. 18; PIPL Art. 13 ¶1(3)).
  const exemptions = new Map([["court_enforcement", { id: "court_enforcement", legalBasis: "Civil Procedure Law, enforcement procedure", purposes: new Set(["ENFORCEMENT", "JUDICIAL"] as const), requesterRoles: new Set(["judicial"] as const), categories: new Set(["tax_arrears"]) }]]);
  const withExemption = (principal: Principal, purpose: Purpose, statutoryExemption = "court_enforcement") =>
    validateQuery({ catalogue, maxCategories: 10, exemptions, registry }, create(QueryRequestSchema, { subject: person, categories: ["tax_arrears"], purpose, operator: "clerk-1", statutoryExemption }), principal, now);

  it.each([Purpose.ENFORCEMENT, Purpose.JUDICIAL])("ok/a court (judicial by its sector) queries a natural person for purpose %s under the court_enforcement exemption, without a consent attestation", (purpose) => {
    const v = withExemption(as("court", "COURT"), purpose);
    expect(v.consent).toBeUndefined();
    expect(v.exemption?.id).toBe("court_enforcement");
  });

  it("fail/without the exemption named, a court needs consent like any member (Art. 13)", () => {
    expect(() => withExemption(as("court", "COURT"), Purpose.ENFORCEMENT, "")).toThrow(expect.objectContaining({ reason: "CONSENT_REQUIRED" }));
    expect(() => withExemption(as("court", "COURT"), Purpose.LOAN_APPROVAL)).toThrow(expect.objectContaining({ reason: "STATUTORY_EXEMPTION_NOT_APPLICABLE" }));
  });

  it("fail/another sector naming the exemption or stating ENFORCEMENT still needs the person's consent", () => {
    expect(() => withExemption(as("tax", "TAX"), Purpose.ENFORCEMENT)).toThrow(expect.objectContaining({ reason: "STATUTORY_EXEMPTION_NOT_APPLICABLE" }));
    expect(() => withExemption(as("tax", "TAX"), Purpose.ENFORCEMENT, "")).toThrow(expect.objectContaining({ reason: "CONSENT_REQUIRED" }));
    expect(() => withExemption(bureau, Purpose.LOAN_APPROVAL, "")).toThrow(expect.objectContaining({ reason: "CONSENT_REQUIRED" }));
  });
});
