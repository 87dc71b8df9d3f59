import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalogue } from "./catalogue-file.js";
import { packageRoot } from "./package-root.js";
import { protectionCeiling, requiredProtectionLevel } from "../core/protection-level.js";
import { demoDatasets } from "../demo/synthetic-data.js";

const SHIPPED = join(packageRoot(), "policies", "categories.yaml");

/** The shipped catalogue with its minimumProtectionLevel line replaced. */
function withProtection(line: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "credex-catalogue-")), "categories.yaml");
  writeFileSync(file, readFileSync(SHIPPED, "utf8").replace(/^minimumProtectionLevel: .*$/m, line));
  return file;
}

describe("loadCatalogue", () => {
  // 双公示 (NDRC 2015, 发改办财金〔2015〕2700号): administrative licences and penalties are
  // published within 7 working days, so the catalogue makes them PUBLIC (issue 17, item 7).
  it("ok/双公示 (NDRC 2015): administrative licences and administrative penalties are level 1", () => {
    const c = loadCatalogue(SHIPPED).categories;
    expect(c.get("administrative_license")?.level).toBe(1);
    expect(c.get("administrative_penalty")?.level).toBe(1);
  });

  it("ok/GB/T 22239-2019: RESTRICTED and SENSITIVE data need a declared protection level 3 by default", () => {
    const catalogue = loadCatalogue(SHIPPED);
    expect([1, 2, 3, 4].map((l) => requiredProtectionLevel(catalogue, l))).toEqual([1, 1, 3, 3]);
    expect([1, 2, 3, 4, 5].map((p) => protectionCeiling(catalogue, p))).toEqual([2, 2, 4, 4, 4]);
  });

  it("ok/minimumProtectionLevel is configurable per classification level", () => {
    const catalogue = loadCatalogue(withProtection("minimumProtectionLevel: { 2: 2, 3: 3, 4: 4 }"));
    expect([1, 2, 3, 4].map((l) => requiredProtectionLevel(catalogue, l))).toEqual([1, 2, 3, 4]);
    expect(protectionCeiling(catalogue, 3)).toBe(3);
  });

  it.each([
    ["fail/protection level out of range", "minimumProtectionLevel: { 3: 6 }", "minimumProtectionLevel.3: must be ≤ 5 (got 6)"],
    ["fail/unknown classification level", "minimumProtectionLevel: { 5: 3 }", "minimumProtectionLevel.5: unknown key"],
    ["fail/a higher level requiring less than a lower one", "minimumProtectionLevel: { 3: 4, 4: 3 }", "minimumProtectionLevel.4: must be ≥ the requirement of level 3 (4)"],
  ])("%s", (_name, line, message) => {
    expect(() => loadCatalogue(withProtection(line))).toThrow(message);
  });
  /** The shipped catalogue with one category's block replaced. */
  const withCategory = (yaml: string): string => {
    const file = join(mkdtempSync(join(tmpdir(), "credex-catalogue-")), "categories.yaml");
    writeFileSync(file, `categories:\n${yaml}`);
    return file;
  };

  it("ok/every shipped category lists its fields, and every field of the demo data is listed for its category (the allow-list)", () => {
    const c = loadCatalogue(SHIPPED).categories;
    for (const category of c.values()) expect(category.fields?.size, category.name).toBeGreaterThan(0);
    for (const record of Object.values(demoDatasets()).flat()) {
      const known = c.get(record.category)!.fields!;
      // The one exception is deliberate: the demo's provider sends medical_history (Art. 14.1) to show it is dropped.
      for (const f of record.fields) if (f.name !== "medical_history") expect(known.has(f.name), `${record.category}.${f.name}`).toBe(true);
    }
    expect(c.get("loan_overdue")!.fields!.get("collateral_valuation_cny")).toEqual({ level: 4, sensitive: true });
    expect(c.get("loan_overdue")!.fields!.get("lender")).toEqual({ level: 3, sensitive: false });
  });

  it("ok/Art. 15: court lists and disclosed penalties are public by law; other negative categories are not", () => {
    const c = loadCatalogue(SHIPPED).categories;
    expect([...c.values()].filter((x) => x.publicByLaw).map((x) => x.name).sort()).toEqual(["administrative_penalty", "dishonest_debtor"]);
  });

  it.each([
    ["fail/a category without fields", "  loan_record: { level: 3, owners: [BANKING] }\n", "categories.loan_record.fields: each category lists its fields"],
    ["fail/Art. 14.1: a prohibited field name in the allow-list (a synonym)", "  loan_record: { level: 3, owners: [BANKING], fields: { lender: {}, blood_group: {} } }\n", "categories.loan_record.fields.blood_group: names prohibited data (Credit Investigation Regulation Art. 14.1)"],
    ["fail/Art. 14.1: a prohibited field name, snake_case", "  loan_record: { level: 3, owners: [BANKING], fields: { lender: {}, medical_history: {} } }\n", "categories.loan_record.fields.medical_history: names prohibited data (Credit Investigation Regulation Art. 14.1)"],
    ["fail/Art. 15: public by law but not negative", "  red_list: { level: 1, owners: [REGIONAL], publicByLaw: true, fields: { list: {} } }\n", "categories.red_list.publicByLaw: only a negative level-1 category can be public by law (Art. 15)"],
    ["fail/Art. 15: public by law above level 1", "  loan_overdue: { level: 3, owners: [BANKING], negative: true, publicByLaw: true, fields: { lender: {} } }\n", "categories.loan_overdue.publicByLaw: only a negative level-1 category can be public by law (Art. 15)"],
  ])("%s", (_name, yaml, message) => {
    expect(() => loadCatalogue(withCategory(yaml))).toThrow(message);
  });

  it("ok/a field listed as `name:` or `name: {}` takes its category's level", () => {
    const c = loadCatalogue(withCategory("  income:\n    level: 4\n    owners: [REGIONAL]\n    fields:\n      annual_income_cny:\n      employer: { level: 3 }\n")).categories.get("income")!;
    expect([...c.fields!]).toEqual([["annual_income_cny", { level: 4, sensitive: true }], ["employer", { level: 3, sensitive: false }]]);
  });
});
