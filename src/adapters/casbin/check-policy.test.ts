import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkPolicyDir } from "./check-policy.js";

const POLICIES = join(__dirname, "..", "..", "..", "policies");

/** A copy of the shipped policies/ with policy.csv (and optionally tests) edited. */
function policyCopy(edit: (csv: string) => string, tests?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "credex-check-"));
  cpSync(POLICIES, dir, { recursive: true });
  writeFileSync(join(dir, "policy.csv"), edit(readFileSync(join(POLICIES, "policy.csv"), "utf8")));
  if (tests !== undefined) writeFileSync(join(dir, "tests", "demo-agencies.yaml"), tests);
  return dir;
}

const messages = (r: Awaited<ReturnType<typeof checkPolicyDir>>) => r.findings.map((f) => `${f.severity} ${f.file.split("/").pop()}:${f.line} ${f.message}`);

describe("checkPolicyDir", () => {
  it("ok/the shipped policy is clean and its tests pass", async () => {
    const report = await checkPolicyDir(POLICIES);
    expect(messages(report)).toEqual([]);
    expect(report.testsRun).toBeGreaterThanOrEqual(20);
    expect(report.testsFailed).toBe(0);
    expect(report.revision).toMatch(/^[0-9a-f]{64}$/);
  });

  it("fail/errors carry file and line", async () => {
    const dir = policyCopy(
      (csv) =>
        `${csv}p, csrc, *, loan_record, query, 7, SUPERVISION, allow\n` +
        `p, csrc, *, loan_recrod, query, 3, SUPERVISION, allow\n` +
        `p, csrc, *, loan_record, query, 3, SUPERVISON, allow\n` +
        `p, csrc, *, loan_record, query, 3\n` +
        `p, sector:TELECOM, *, loan_record, query, 3, SUPERVISION, allow\n` +
        `g, csrc, sector:BANKING\n` +
        `x, csrc\n`,
    );
    const report = await checkPolicyDir(dir);
    const n = readFileSync(join(POLICIES, "policy.csv"), "utf8").split("\n").length; // first appended line
    expect(messages(report)).toEqual([
      `error policy.csv:${n} level "7" is not one of 1, 2, 3, 4`,
      `error policy.csv:${n + 1} unknown category "loan_recrod" (not in categories.yaml, not a group)`,
      expect.stringMatching(new RegExp(`^error policy.csv:${n + 2} unknown purpose "SUPERVISON"`)),
      `error policy.csv:${n + 3} expected 7 fields (sub, dom, obj, act, lvl, pur, eft), got 5`,
      `error policy.csv:${n + 4} requester sector:TELECOM never matches: TELECOM is not a sector (known: BANKING, SECURITIES, INSURANCE, FOREX, REGIONAL, TAX, MARKET_SUPERVISION, COURT, CREDIT_BUREAU)`,
      `error policy.csv:${n + 5} g lines come from the agency registry at run time; remove this line`,
      `error policy.csv:${n + 6} unknown line type "x" (expected p or g3)`,
      "error tests:0 test cases not run: fix the errors above first",
    ]);
  });

  it("warn/shadowed and partly denied rules; fail/allows that a deny cancels", async () => {
    const dir = policyCopy(
      (csv) =>
        `${csv}p, pbccrc, csrc, securities_violation, query, 2, LOAN_APPROVAL, allow\n` +
        `p, csrc, pbccrc, deposit, query, 3, SUPERVISION, allow\n` +
        `p, safe, nfra, insurance_claim, query, 3, SUPERVISION, allow\n` +
        `p, safe, *, insurance_claim, query, 2, *, deny\n` +
        `p, *, *, deposit, query, 1, *, deny\n`,
    );
    const report = await checkPolicyDir(dir);
    const n = readFileSync(join(POLICIES, "policy.csv"), "utf8").split("\n").length;
    const csv = readFileSync(join(POLICIES, "policy.csv"), "utf8").split("\n");
    const lineOf = (start: string) => csv.findIndex((l) => l.startsWith(start)) + 1;
    const wider = lineOf("p, sector:BANKING, sector:SECURITIES, securities_violation");
    const depositDeny = lineOf("p, *, *, deposit, query, 1, *, deny");
    expect(messages(report)).toEqual([
      `warning policy.csv:${n} shadowed by line ${wider} (p, sector:BANKING, sector:SECURITIES, securities_violation, query, 3, LOAN_APPROVAL|POST_LOAN_MANAGEMENT|GUARANTEE, allow): removing this line changes no decision`,
      `error policy.csv:${n + 1} never takes effect: the deny at line ${depositDeny} refuses every level this allow grants`,
      `warning policy.csv:${n + 2} levels 2..3 of this allow are refused by the deny at line ${n + 3}; it grants at most level 1`,
      `warning policy.csv:${n + 4} duplicate of line ${depositDeny}`,
      "error tests:0 test cases not run: fix the errors above first",
    ]);
  });

  it("fail/a failing test case names its file, line and the deciding rule", async () => {
    const tests = readFileSync(join(POLICIES, "tests", "demo-agencies.yaml"), "utf8");
    const dir = policyCopy((csv) => csv.replace("p, *, *, deposit, query, 1, *, deny\n", ""), tests);
    const report = await checkPolicyDir(dir);
    // Two cases rely on that deny: the regional platform's and the court's.
    expect(report.testsFailed).toBe(2);
    const line = tests.split("\n").findIndex((l) => l.includes("deposits are refused at every level")) + 1;
    expect(messages(report)).toContain(
      `error demo-agencies.yaml:${line} test "deposits are refused at every level, even for JUDICIAL" failed: expected explicit-deny, got allow (p, *, *, *, query, 3, JUDICIAL, allow)`,
    );
  });

  it("fail/an edited model is pointed at by line", async () => {
    const dir = policyCopy((csv) => csv);
    const model = readFileSync(join(dir, "model.conf"), "utf8");
    writeFileSync(join(dir, "model.conf"), model.replace(/^e = .*$/m, "e = some(where (p.eft == allow))"));
    const report = await checkPolicyDir(dir);
    const line = model.split("\n").findIndex((l) => l.startsWith("e = ")) + 1;
    expect(messages(report)[0]).toBe(`error model.conf:${line} model: definition e.e differs from the credex model the evaluator compiles`);
  });

  // Issue 17, item 6: level protection is enforced, not declared.
  it("fail/GB/T 22239-2019: a grant of a level-3 category to an agency declared below protection level 3 is refused, naming file, line, agency and levels", async () => {
    const tests = readFileSync(join(POLICIES, "tests", "demo-agencies.yaml"), "utf8").replace("- { id: nfra, sector: INSURANCE }", "- { id: nfra, sector: INSURANCE, protectionLevel: 2 }");
    const dir = policyCopy((csv) => csv, tests);
    const report = await checkPolicyDir(dir);
    const csv = readFileSync(join(POLICIES, "policy.csv"), "utf8").split("\n");
    const line = csv.findIndex((l) => l.startsWith("p, sector:INSURANCE, sector:BANKING, group:bank_credit")) + 1;
    expect(messages(report)).toContain(
      `error policy.csv:${line} grants loan_overdue (level 3) to agency nfra, whose declared protection level 2 is below the 3 that level requires (GB/T 22239-2019; categories.yaml minimumProtectionLevel; registry ${join(dir, "tests", "demo-agencies.yaml")})`,
    );
    // Public data needs no more than level 1: the level-1 rule for everyone is not refused.
    const publicLine = csv.findIndex((l) => l.startsWith("p, *, *, group:public")) + 1;
    expect(report.findings.filter((f) => f.line === publicLine)).toEqual([]);
    // Only nfra is named; the policy tests are not run on a policy with errors.
    expect(report.findings.filter((f) => f.file.endsWith("policy.csv")).every((f) => f.message.includes("agency nfra"))).toBe(true);
    expect(messages(report)).toContain("error tests:0 test cases not run: fix the errors above first");
  });

  it("ok/GB/T 22239-2019: the requirement follows categories.yaml minimumProtectionLevel", async () => {
    const tests = readFileSync(join(POLICIES, "tests", "demo-agencies.yaml"), "utf8").replace("- { id: nfra, sector: INSURANCE }", "- { id: nfra, sector: INSURANCE, protectionLevel: 2 }");
    const dir = policyCopy((csv) => csv, tests);
    const categories = readFileSync(join(dir, "categories.yaml"), "utf8");
    writeFileSync(join(dir, "categories.yaml"), categories.replace(/^minimumProtectionLevel: .*$/m, "minimumProtectionLevel: { 3: 2, 4: 2 }"));
    expect(messages(await checkPolicyDir(dir))).toEqual([]);
  });
  it("fail/the catalogue is the allow-list: a category without fields, or a field naming prohibited data (Art. 14.1), is an error", async () => {
    const dir = policyCopy((csv) => csv);
    const categories = readFileSync(join(dir, "categories.yaml"), "utf8")
      .replace("    fields: { registration: {} }\n", "")
      .replace("fields: { list: {} }", "fields: { list: {}, bloodGroup: {} }");
    writeFileSync(join(dir, "categories.yaml"), categories);
    const found = messages(await checkPolicyDir(dir)).filter((m) => m.includes("categories.yaml"));
    expect(found.map((m) => m.replace(/categories\.yaml:\d+/, "categories.yaml:N"))).toEqual([
      "error categories.yaml:N category red_list: field bloodGroup names prohibited data (Credit Investigation Regulation Art. 14.1)",
      "error categories.yaml:N category forex_registration: lists no fields (the allow-list release enforces)",
    ]);
  });

  // Member types (src/core/sector-rights.ts): Credit Investigation Regulation Art. 14.2.
  it("fail/a policy that grants level-4 data to a credit bureau is refused at the granting line, even with the bureau's deny removed", async () => {
    const grant = "p, credit-bureau, sh-tax, tax_amount, query, 4, LOAN_APPROVAL, allow";
    const dir = policyCopy((csv) => `${csv.replace("p, sector:CREDIT_BUREAU, *, *, query, 4, *, deny\n", "")}${grant}\n`);
    const report = await checkPolicyDir(dir);
    const line = readFileSync(join(dir, "policy.csv"), "utf8").split("\n").indexOf(grant) + 1;
    expect(messages(report)).toContain(
      `error policy.csv:${line} grants tax_amount (level 4) to agency credit-bureau, a CREDIT_BUREAU member that never receives more than level 3 ` +
        `(Credit Investigation Regulation Art. 13, 14.2, 18; Planning Outline §3(3): a credit bureau never receives level-4 data through the exchange, level 3 only with the subject's consent; registry ${join(dir, "tests", "demo-agencies.yaml")})`,
    );
    expect(report.findings.filter((f) => f.severity === "error" && f.file.endsWith("policy.csv")).map((f) => f.line)).toEqual([line]);
    // The shipped test case saying so fails too.
    expect(messages(report)).toContainEqual(expect.stringMatching(/test "the credit bureau never receives level-4 data \(Credit Investigation Regulation Art. 14.2\)" failed: expected explicit-deny, got allow/));
  });

  it("fail/a wildcard allow that reaches a credit bureau at level 4 is refused too (decided with the compiled policy)", async () => {
    const grant = "p, *, sector:REGIONAL, income, query, 4, GUARANTEE, allow";
    const dir = policyCopy((csv) => `${csv.replace("p, sector:CREDIT_BUREAU, *, *, query, 4, *, deny\n", "")}${grant}\n`);
    const line = readFileSync(join(dir, "policy.csv"), "utf8").split("\n").indexOf(grant) + 1;
    expect(messages(await checkPolicyDir(dir)).filter((m) => m.startsWith(`error policy.csv:${line} grants income (level 4) to agency credit-bureau`))).toHaveLength(1);
    // With the shipped deny in place the same allow never reaches the bureau: no finding about it.
    const guarded = policyCopy((csv) => `${csv}${grant}\n`);
    expect(messages(await checkPolicyDir(guarded)).filter((m) => m.includes("credit-bureau"))).toEqual([]);
  });
});
