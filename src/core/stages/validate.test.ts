import { describe, expect, it } from "vitest";
import { constants, generateKeyPairSync, sign } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { QueryRequestSchema } from "../../gen/credex/v1/exchange_pb.js";
import { ConsentAttestationSchema, ConsentGrantSchema, Purpose, SubjectType } from "../../gen/credex/v1/types_pb.js";
import { validateQuery } from "./validate.js";
import { CredexError } from "../errors.js";
import type { Catalogue, CategoryInfo } from "../catalogue.js";
import type { Principal } from "../principal.js";
import { AgencyRegistry, type AgencyEntry } from "../registry.js";
import type { StatutoryExemption } from "../consent/statutory-exemption.js";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
const principal: Principal = { agencyId: "pbccrc", sector: "BANKING", uscc: "", certFingerprint: "", certSerial: "", publicKey: keys.publicKey };
const cat = (name: string, level: number): [string, CategoryInfo] => [name, { name, level, sensitive: level === 4, negative: false, sectors: ["REGIONAL"], description: name }];
const catalogue: Catalogue = { categories: new Map([cat("income", 4), cat("administrative_penalty", 1), cat("real_estate", 4)]) };
const deps = { catalogue, maxCategories: 3 };
const now = new Date("2026-11-26T00:00:00Z");
const person = { type: SubjectType.NATURAL_PERSON, id: "11010519491231002X" };
const company = { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" };

function consent(overrides: Record<string, unknown> = {}, signer = keys.privateKey, algorithm = "RSA-PSS-SHA256") {
  const grant = toBinary(ConsentGrantSchema, create(ConsentGrantSchema, {
    consentId: "c-1", subject: person, purpose: Purpose.LOAN_APPROVAL, categories: ["income"],
    grantedAt: timestampFromDate(new Date("2026-11-01T00:00:00Z")), expiresAt: timestampFromDate(new Date("2026-12-01T00:00:00Z")),
    namesSensitiveCategories: true, requesterAgency: "pbccrc", ...overrides,
  }));
  const padding = algorithm === "RSA-SHA256" ? constants.RSA_PKCS1_PADDING : constants.RSA_PKCS1_PSS_PADDING;
  return create(ConsentAttestationSchema, { grant, signature: sign("sha256", grant, { key: signer, padding }), algorithm });
}

const query = (overrides: Record<string, unknown>) => create(QueryRequestSchema, { subject: company, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION, ...overrides });

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CredexError) return err.reason;
    throw err;
  }
  return "OK";
}

describe("validateQuery", () => {
  it.each([
    ["ok/legal person", {}, "OK"],
    ["fail/subject missing", { subject: undefined }, "SUBJECT_MISSING"],
    ["fail/subject type missing", { subject: { type: 0, id: company.id } }, "SUBJECT_TYPE_INVALID"],
    ["fail/USCC check character", { subject: { ...company, id: "91310110666007217X" } }, "USCC_INVALID"],
    ["fail/resident id not a real date", { subject: { type: SubjectType.NATURAL_PERSON, id: "110105194902301234" }, consent: consent() }, "RESIDENT_ID_INVALID"],
    ["fail/purpose missing", { purpose: Purpose.UNSPECIFIED }, "PURPOSE_MISSING"],
    ["fail/purpose unknown value", { purpose: 99 }, "PURPOSE_UNKNOWN"],
    ["fail/no categories", { categories: [] }, "CATEGORIES_MISSING"],
    ["fail/unknown category", { categories: ["horoscope"] }, "CATEGORY_UNKNOWN"],
    ["fail/too many categories", { categories: ["income", "real_estate", "administrative_penalty", "income"] }, "TOO_MANY_CATEGORIES"],
    ["fail/request id with control characters", { requestId: "a\nb" }, "FIELD_INVALID"],
  ])("%s", (_name, overrides, reason) => {
    expect(reasonOf(() => validateQuery(deps, query(overrides), principal, now))).toBe(reason);
  });

  it("ok/deduplicates categories", () => {
    expect(validateQuery(deps, query({ categories: ["income", "income"] }), principal, now).categories).toEqual(["income"]);
  });

  describe("natural persons need a consent attestation (Art. 13, 18)", () => {
    const personQuery = (c?: ReturnType<typeof consent>) => query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: c, operator: "teller-7" });
    it.each([
      ["fail/none", undefined, "CONSENT_REQUIRED"],
      ["ok/valid PSS signature", consent(), "OK"],
      ["ok/valid PKCS#1 signature", consent({}, keys.privateKey, "RSA-SHA256"), "OK"],
      ["fail/signed by another key", consent({}, other.privateKey), "CONSENT_SIGNATURE_INVALID"],
      ["fail/unknown algorithm", consent({}, keys.privateKey, "MD5"), "CONSENT_MALFORMED"],
      ["fail/expired", consent({ expiresAt: timestampFromDate(new Date("2026-11-25T00:00:00Z")) }), "CONSENT_EXPIRED"],
      ["fail/not yet valid", consent({ grantedAt: timestampFromDate(new Date("2026-11-27T00:00:00Z")) }), "CONSENT_NOT_YET_VALID"],
      ["fail/another subject", consent({ subject: { ...person, id: "110105194912310037" } }), "CONSENT_SUBJECT_MISMATCH"],
      ["fail/another purpose", consent({ purpose: Purpose.GUARANTEE }), "CONSENT_PURPOSE_MISMATCH"],
      ["fail/category not covered", consent({ categories: ["real_estate"] }), "CONSENT_CATEGORY_NOT_COVERED"],
      ["fail/collected by another agency", consent({ requesterAgency: "csrc" }), "CONSENT_REQUESTER_MISMATCH"],
      ["fail/no validity period", consent({ expiresAt: undefined }), "CONSENT_MALFORMED"],
    ])("%s", (_name, c, reason) => {
      expect(reasonOf(() => validateQuery(deps, personQuery(c), principal, now))).toBe(reason);
    });

    it("fail/tampered grant bytes", () => {
      const c = consent();
      c.grant = Uint8Array.from(c.grant);
      c.grant[c.grant.length - 1]! ^= 1;
      expect(reasonOf(() => validateQuery(deps, personQuery(c), principal, now))).toMatch(/CONSENT_(SIGNATURE_INVALID|MALFORMED)/);
    });

    it("ok/returns the consent facts later stages need", () => {
      const v = validateQuery(deps, personQuery(consent()), principal, now);
      expect(v.consent).toMatchObject({ consentId: "c-1", namesSensitiveCategories: true });
      expect([...v.consent!.categories]).toEqual(["income"]);
    });
  });

  describe("who queried: the human operator (Art. 22)", () => {
    const personQuery = (overrides: Record<string, unknown>) => query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: consent(), ...overrides });
    it.each([
      ["fail/natural person without an operator", { operator: "" }, "OPERATOR_REQUIRED"],
      ["fail/operator with a newline", { operator: "teller\n7" }, "FIELD_INVALID"],
      ["fail/operator longer than 64", { operator: "t".repeat(65) }, "FIELD_INVALID"],
      ["ok/natural person with an operator", { operator: "teller-7@branch.sh" }, "OK"],
    ])("%s", (_name, overrides, reason) => {
      expect(reasonOf(() => validateQuery(deps, personQuery(overrides), principal, now))).toBe(reason);
    });

    it("ok/a legal-person query may omit the operator, and an operator given is kept", () => {
      expect(validateQuery(deps, query({}), principal, now).operator).toBe("");
      expect(validateQuery(deps, query({ operator: "analyst-3" }), principal, now).operator).toBe("analyst-3");
    });
  });

  describe("consent is not waived by a special grant (Art. 13, 18; PIPL Art. 29)", () => {
    const grantQuery = (overrides: Record<string, unknown>) =>
      query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, operator: "teller-7", specialGrantId: "8c1f6f1e-0000-4000-8000-000000000001", ...overrides });
    it.each([
      // The case that used to pass: a grant stood in for the person's consent.
      ["fail/special grant without consent", {}, "SPECIAL_GRANT_CONSENT_REQUIRED"],
      ["fail/special grant with consent that does not name the sensitive category", { consent: consent({ namesSensitiveCategories: false }) }, "SPECIAL_GRANT_CONSENT_REQUIRED"],
      ["fail/special grant with consent for other categories", { consent: consent({ categories: ["real_estate"] }) }, "CONSENT_CATEGORY_NOT_COVERED"],
      ["ok/special grant with written consent naming the category", { consent: consent() }, "OK"],
    ])("%s", (_name, overrides, reason) => {
      expect(reasonOf(() => validateQuery(deps, grantQuery(overrides), principal, now))).toBe(reason);
    });

    it("ok/a legal person's special grant needs no consent", () => {
      expect(reasonOf(() => validateQuery(deps, query({ specialGrantId: "8c1f6f1e-0000-4000-8000-000000000001" }), principal, now))).toBe("OK");
    });
  });

  describe("statutory exemptions are the only way around consent (Art. 18: except where the law provides)", () => {
    const court: AgencyEntry = { id: "court-platform", name: "court platform", sector: "REGIONAL", uscc: "", categories: [], clearance: 3, protectionLevel: 3, status: "active", roles: ["judicial"] };
    const bank: AgencyEntry = { ...court, id: "pbccrc", roles: [] };
    const registry = new AgencyRegistry([court, bank]);
    const enforcement: StatutoryExemption = {
      id: "court_enforcement",
      legalBasis: "Civil Procedure Law, enforcement procedure",
      purposes: new Set(["ENFORCEMENT"]),
      requesterRoles: new Set(["judicial"]),
      categories: new Set(["income"]),
    };
    const exemptDeps = { ...deps, exemptions: new Map([[enforcement.id, enforcement]]), registry };
    const courtPrincipal: Principal = { ...principal, agencyId: "court-platform" };
    const exemptQuery = (overrides: Record<string, unknown>) =>
      query({ subject: person, categories: ["income"], purpose: Purpose.ENFORCEMENT, operator: "clerk-2", statutoryExemption: "court_enforcement", ...overrides });
    it.each([
      ["ok/a court's enforcement without consent", courtPrincipal, {}, "OK"],
      ["fail/an exemption the policy does not name", courtPrincipal, { statutoryExemption: "tax_audit" }, "STATUTORY_EXEMPTION_UNKNOWN"],
      ["fail/a requester without the role", principal, {}, "STATUTORY_EXEMPTION_NOT_APPLICABLE"],
      ["fail/another purpose", courtPrincipal, { purpose: Purpose.LOAN_APPROVAL }, "STATUTORY_EXEMPTION_NOT_APPLICABLE"],
      ["fail/a category the exemption does not name", courtPrincipal, { categories: ["income", "real_estate"] }, "STATUTORY_EXEMPTION_NOT_APPLICABLE"],
      ["fail/no exemption, no consent", courtPrincipal, { statutoryExemption: "" }, "CONSENT_REQUIRED"],
    ])("%s", (_name, who, overrides, reason) => {
      expect(reasonOf(() => validateQuery(exemptDeps, exemptQuery(overrides), who, now))).toBe(reason);
    });

    it("ok/the exemption and its legal basis reach the later stages (and the audit)", () => {
      expect(validateQuery(exemptDeps, exemptQuery({}), courtPrincipal, now).exemption).toMatchObject({ id: "court_enforcement", legalBasis: "Civil Procedure Law, enforcement procedure" });
    });
  });
});
