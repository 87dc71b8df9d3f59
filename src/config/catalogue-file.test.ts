import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalogue } from "./catalogue-file.js";
import { packageRoot } from "./package-root.js";
import { protectionCeiling, requiredProtectionLevel } from "../core/protection-level.js";

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
});
