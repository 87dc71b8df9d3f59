import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProviderCeiling, parseProviderCeiling } from "./provider-ceiling-file.js";

describe("provider ceiling file", () => {
  it("ok/categories and per-requester levels, frozen", () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-ceiling-"));
    const file = join(dir, "ceiling.yaml");
    writeFileSync(file, "categories:\n  forex_violation: 3\n  forex_registration: 2\nrequesters:\n  csrc:\n    forex_violation: 1\n");
    const ceiling = loadProviderCeiling(file);
    expect(ceiling).toEqual({ categories: { forex_violation: 3, forex_registration: 2 }, requesters: { csrc: { forex_violation: 1 } } });
    expect(Object.isFrozen(ceiling.categories)).toBe(true);
  });

  it("ok/no requesters", () => {
    expect(parseProviderCeiling("c.yaml", { categories: { red_list: 1 } })).toEqual({ categories: { red_list: 1 }, requesters: {} });
  });

  const cases: Array<[string, unknown, string]> = [
    ["fail/no-categories", { requesters: {} }, "c.yaml: categories: must be a mapping"],
    ["fail/unknown-key", { categories: {}, default: {} }, "c.yaml: default: unknown key (expected one of: categories, requesters)"],
    ["fail/level-above-4", { categories: { income: 5 } }, "c.yaml: categories.income: must be ≤ 4 (got 5)"],
    ["fail/level-negative", { categories: { income: -1 } }, "c.yaml: categories.income: must be ≥ 0 (got -1)"],
    ["fail/level-not-integer", { categories: { income: "high" } }, "c.yaml: categories.income: must be an integer"],
    ["fail/category-name", { categories: { "Loan Record": 1 } }, "c.yaml: categories.Loan Record: category names are lower_snake_case"],
    ["fail/requester-id", { categories: {}, requesters: { "CSRC!": { income: 1 } } }, "c.yaml: requesters.CSRC!: is not an agency id"],
    ["fail/requester-level", { categories: {}, requesters: { csrc: { income: 9 } } }, "c.yaml: requesters.csrc.income: must be ≤ 4 (got 9)"],
  ];
  for (const [name, doc, message] of cases) {
    it(name, () => {
      expect(() => parseProviderCeiling("c.yaml", doc)).toThrowError(message);
    });
  }

  it("fail/unreadable file names it", () => {
    expect(() => loadProviderCeiling("/nonexistent/ceiling.yaml")).toThrowError("/nonexistent/ceiling.yaml: cannot read: ENOENT");
  });
});
