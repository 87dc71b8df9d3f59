import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeChange, diffPolicyDirs } from "./diff-policies.js";

const POLICIES = join(__dirname, "..", "..", "..", "policies");

function edited(edit: (csv: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), "credex-diff-"));
  cpSync(POLICIES, dir, { recursive: true });
  writeFileSync(join(dir, "policy.csv"), edit(readFileSync(join(POLICIES, "policy.csv"), "utf8")));
  return dir;
}

describe("diffPolicyDirs", () => {
  it("ok/no change between a policy and itself", async () => {
    const d = await diffPolicyDirs(POLICIES, POLICIES);
    expect(d.changes).toEqual([]);
    expect(d.requestsChanged).toBe(0);
    expect(d.requestsCompared).toBeGreaterThan(1000);
    expect(d.revisions[0]).toBe(d.revisions[1]);
  });

  it("ok/a widened purpose and a lowered deny, in words", async () => {
    const dir = edited((csv) =>
      csv
        .replace("p, sector:SECURITIES, sector:BANKING, group:bank_credit, query, 3, SUPERVISION, allow", "p, sector:SECURITIES, sector:BANKING, group:bank_credit, query, 3, SUPERVISION|LOAN_APPROVAL, allow")
        .replace("p, sector:REGIONAL, *, group:sensitive, query, 4, *, deny", "p, sector:REGIONAL, *, group:sensitive, query, 3, *, deny"),
    );
    const d = await diffPolicyDirs(POLICIES, dir);
    const lines = d.changes.map(describeChange);
    expect(lines).toContain("+ csrc may now receive loan_record of pbccrc up to level 3 (RESTRICTED) for LOAN_APPROVAL; before: nothing");
    expect(lines).toContain(
      '- sh-credit receive securities_holding of csrc for JUDICIAL: up to level 3 (RESTRICTED) → up to level 2 (SHARED), because of "p, sector:REGIONAL, *, group:sensitive, query, 3, *, deny"',
    );
    expect(lines).toHaveLength(8);
    // 3 bank-credit categories × 3 levels gained; 5 sensitive categories (tax_amount of two owners) × 1 level lost.
    expect(d.requestsChanged).toBe(15);
  });

  it("ok/owners and purposes with the same change share one sentence", async () => {
    const dir = edited((csv) => `${csv}p, safe, *, group:public, query, 1, *, deny\n`);
    const lines = (await diffPolicyDirs(POLICIES, dir)).changes.map(describeChange);
    const deny = '"p, safe, *, group:public, query, 1, *, deny"';
    expect(lines).toContain(
      `- safe may no longer receive administrative_penalty of csrc, nfra, pbccrc, safe, sh-amr, sh-credit, sh-tax for any purpose but JUDICIAL: now nothing, because of ${deny}; before: up to level 1 (PUBLIC)`,
    );
    expect(lines).toContain(`- safe may no longer receive administrative_penalty of csrc, nfra, pbccrc, safe, sh-amr, sh-credit, sh-tax for JUDICIAL: now nothing, because of ${deny}; before: up to level 3 (RESTRICTED)`);
    // Administrative licences are public too (双公示, NDRC 2015: issue 17, item 7).
    expect(lines).toContain(
      `- safe may no longer receive administrative_license of csrc, nfra, pbccrc, safe, sh-amr, sh-credit, sh-tax for any purpose but JUDICIAL: now nothing, because of ${deny}; before: up to level 1 (PUBLIC)`,
    );
    // Five public categories (abnormal operations too), each for JUDICIAL and for the other purposes.
    expect(lines).toHaveLength(10);
  });
});
