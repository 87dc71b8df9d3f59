import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalogue } from "./catalogue-file.js";
import { loadStatutoryExemptions } from "./exemptions-file.js";
import { packageRoot } from "./package-root.js";

const POLICIES = join(packageRoot(), "policies");
const known = new Set(loadCatalogue(join(POLICIES, "categories.yaml")).categories.keys());

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "credex-exemptions-")), "exemptions.yaml");
  writeFileSync(path, text);
  return path;
}

const entry = (over: Record<string, string> = {}) => {
  const fields = { legalBasis: "Civil Procedure Law, enforcement procedure", requesterRoles: "[judicial]", purposes: "[ENFORCEMENT]", categories: "[loan_overdue]", ...over };
  return `exemptions:\n  court_enforcement:\n${Object.entries(fields).map(([k, v]) => `    ${k}: ${v}`).join("\n")}\n`;
};

describe("loadStatutoryExemptions (Regulation Art. 18: except where the law provides)", () => {
  it("ok/the shipped court_enforcement exemption names its legal basis, the judicial role and its purposes", () => {
    const e = loadStatutoryExemptions(join(POLICIES, "exemptions.yaml"), known).get("court_enforcement")!;
    expect(e.legalBasis).toMatch(/Civil Procedure Law.*Art\. 18.*PIPL Art\. 13\(3\)/s);
    expect([...e.requesterRoles]).toEqual(["judicial"]);
    expect([...e.purposes].sort()).toEqual(["ENFORCEMENT", "JUDICIAL"]);
  });

  it("ok/no file: no exemptions, every natural-person query needs consent", () => {
    expect(loadStatutoryExemptions(join(tmpdir(), "no-such-dir", "exemptions.yaml"), known).size).toBe(0);
  });

  it.each([
    ["fail/no legal basis", entry({ legalBasis: '""' }), /legalBasis: must be a non-empty string/],
    ["fail/a legal basis that names no law", entry({ legalBasis: "law" }), /legalBasis: an exemption names the law it rests on/],
    ["fail/unknown category", entry({ categories: "[horoscope]" }), /categories: "horoscope" is not in the catalogue/],
    ["fail/unknown purpose", entry({ purposes: "[MARKETING]" }), /"MARKETING" is not one of/],
    ["fail/unknown role", entry({ requesterRoles: "[police]" }), /"police" is not one of/],
    ["fail/no role", entry({ requesterRoles: "[]" }), /names the registry role/],
    ["fail/unknown key", `${entry()}    validUntil: 2030\n`, /unknown|not allowed|validUntil/],
  ])("%s", (_name, text, message) => {
    expect(() => loadStatutoryExemptions(file(text), known)).toThrow(message);
  });
});
