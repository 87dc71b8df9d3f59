/**
 * Member types end to end, over mTLS on 127.0.0.1, in the demo federation (one
 * member of each type). The gateway runs a policy that tries to give the credit
 * bureau everything: the shipped bureau deny removed and an allow of every
 * category up to level 4 for every purpose. The sector's bounds hold anyway
 * (src/core/sector-rights.ts): a credit bureau never receives level-4 data
 * (Credit Investigation Regulation Art. 14.2), receives level 3 only with the
 * subject's consent (Art. 13, 18) and states no official purpose; a court needs
 * no consent for its statutory purposes (Civil Procedure Law Art. 253; PIPL
 * Art. 13 ¶1(3)). `credex policy check` refuses the same policy.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { DecisionEffect } from "../src/gen/credex/v1/audit_pb.js";
import { Level, Purpose, SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { signConsent } from "../src/client/consent.js";
import { checkPolicyDir } from "../src/adapters/casbin/check-policy.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { auditEventOf, failureOf, startTestFederation } from "./support/federation.js";
import { debtorEntry, Watcher } from "./support/lists.js";
import { SubscribePhase } from "../src/gen/credex/v1/lists_pb.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let policyDir: string;
const company = DEMO_SUBJECTS.tradingCompany;
const person = DEMO_SUBJECTS.borrower;
const BUREAU_DENY = "p, sector:CREDIT_BUREAU, *, *, query, 4, *, deny\n";
const GRANT_ALL = "p, credit-bureau, *, *, query, 4, *, allow";
const GRANT_ALL_LISTS = "p, credit-bureau, *, *, subscribe, 4, *, allow";

beforeAll(async () => {
  policyDir = mkdtempSync(join(tmpdir(), "credex-member-types-"));
  cpSync("policies", policyDir, { recursive: true });
  const shipped = readFileSync(join(policyDir, "policy.csv"), "utf8");
  expect(shipped).toContain(BUREAU_DENY);
  writeFileSync(join(policyDir, "policy.csv"), `${shipped.replace(BUREAU_DENY, "")}\n${GRANT_ALL}\n${GRANT_ALL_LISTS}\n`);
  fed = await startTestFederation({
    gatewayConfig: { policy: { model: join(policyDir, "model.conf"), policy: join(policyDir, "policy.csv"), categories: join(policyDir, "categories.yaml") } },
  });
}, 120_000);

afterAll(async () => {
  await fed?.cleanup();
  if (policyDir) rmSync(policyDir, { recursive: true, force: true });
});

function consent(requester: string, subject: { type: SubjectType; id: string }, categories: string[], namesSensitive: boolean, purpose = Purpose.LOAN_APPROVAL) {
  const now = Date.now();
  return signConsent(
    {
      consentId: `it-consent-${Math.random().toString(16).slice(2)}`,
      subject,
      purpose,
      categories,
      grantedAt: timestampFromDate(new Date(now - 60_000)),
      expiresAt: timestampFromDate(new Date(now + 3_600_000)),
      namesSensitiveCategories: namesSensitive,
      requesterAgency: requester,
    },
    readFileSync(fed.pki.agencies[requester]!.client.key),
  );
}

describe("member types: the credit bureau under a policy that grants it everything", () => {
  it("fail/level-4 data with written consent naming it: PERMISSION_DENIED SECTOR_LEVEL_NOT_PERMITTED, audited as a denial (Art. 14.2)", async () => {
    const categories = ["tax_amount", "income"];
    const failure = await failureOf(
      fed.client("credit-bureau").query({ subject: person, categories, purpose: Purpose.LOAN_APPROVAL, consent: consent("credit-bureau", person, categories, true), requestId: "it-bureau-l4" }),
    );
    expect(failure.code).toBe(status.PERMISSION_DENIED);
    expect(failure.reason).toBe("SECTOR_LEVEL_NOT_PERMITTED");
    expect(failure.metadata).toMatchObject({ sector: "CREDIT_BUREAU", sector_max_level: "3", category_level: "4" });
    const event = await auditEventOf(fed, (e) => e.requestId === "it-bureau-l4");
    expect(event.requester!.sector).toBe("CREDIT_BUREAU");
    expect(event.decision!.effect).toBe(DecisionEffect.DENY);
    expect(event.statusReason).toBe("SECTOR_LEVEL_NOT_PERMITTED");
    expect(event.providers).toEqual([]);
  });

  it("ok/partial: level 3 with consent is released without its level-4 field; the level-4 owners are NOT_PERMITTED with the reason", async () => {
    const categories = ["tax_violation", "tax_amount", "income"];
    const response = await fed.client("credit-bureau").query({
      subject: company,
      categories,
      purpose: Purpose.LOAN_APPROVAL,
      consent: consent("credit-bureau", company, categories, true),
      requestId: "it-bureau-partial",
    });
    const tax = response.results.find((r) => r.agencyId === "sh-tax")!;
    expect(tax.status).toBe(AgencyStatus.OK);
    expect(tax.records.map((r) => [r.recordId, r.category])).toEqual([["tax-V-0002", "tax_violation"]]);
    expect(tax.records[0]!.fields.map((f) => f.name)).toEqual(["violation", "status"]);
    expect(tax.withheld.map((w) => [w.reason, w.fields])).toEqual([["LEVEL_ABOVE_GRANT", 1]]);
    expect(response.results.find((r) => r.agencyId === "sh-credit")).toMatchObject({ status: AgencyStatus.NOT_PERMITTED, detail: "SECTOR_LEVEL_NOT_PERMITTED" });
    for (const r of response.results) for (const rec of r.records) for (const f of rec.fields) expect(f.level).toBeLessThan(Level.SENSITIVE);
    const event = await auditEventOf(fed, (e) => e.requestId === "it-bureau-partial");
    expect(event.release!.withheldFieldNames).toContain("evaded_tax_cny");
  });

  it("fail/restricted data of a company without its consent: SECTOR_CONSENT_REQUIRED (Art. 13, 18), whatever the subject type", async () => {
    const failure = await failureOf(fed.client("credit-bureau").query({ subject: company, categories: ["tax_violation"], purpose: Purpose.LOAN_APPROVAL }));
    expect(failure.code).toBe(status.PERMISSION_DENIED);
    expect(failure.reason).toBe("SECTOR_CONSENT_REQUIRED");
    expect(failure.metadata).toMatchObject({ sector: "CREDIT_BUREAU", sector_max_level: "2", category_level: "3" });
  });

  it("ok/without consent, public and shared records still flow, capped at level 2", async () => {
    const response = await fed.client("credit-bureau").query({ subject: company, categories: ["business_registration", "tax_arrears"], purpose: Purpose.GUARANTEE });
    const ids = response.results.flatMap((r) => r.records.map((x) => x.recordId)).sort();
    expect(ids).toEqual(["amr-B-0001", "sh-B-0001", "tax-A-0001"]);
  });

  it("fail/an official purpose, though the policy allows every purpose: PURPOSE_NOT_PERMITTED naming the sector", async () => {
    const failure = await failureOf(fed.client("credit-bureau").query({ subject: company, categories: ["administrative_penalty"], purpose: Purpose.ENFORCEMENT }));
    expect(failure.reason).toBe("PURPOSE_NOT_PERMITTED");
    expect(failure.metadata).toMatchObject({ sector: "CREDIT_BUREAU", purpose: "ENFORCEMENT" });
  });

  it("fail/a special application for level-4 data is refused before any owner is asked to approve it", async () => {
    const failure = await failureOf(
      fed.client("credit-bureau").requestSpecialAccess({
        subject: person,
        ownerAgency: "sh-tax",
        categories: ["tax_amount"],
        purpose: Purpose.LOAN_APPROVAL,
        justification: "mortgage pre-approval requested by the applicant in writing",
        durationSeconds: 3600,
      }),
    );
    expect(failure.code).toBe(status.PERMISSION_DENIED);
    expect(failure.reason).toBe("SECTOR_LEVEL_NOT_PERMITTED");
    expect(failure.metadata).toMatchObject({ sector: "CREDIT_BUREAU", category: "tax_amount" });
  });

  it("fail/a restricted list the policy lets it subscribe to is never delivered; public list entries are", async () => {
    const bureau = new Watcher(fed.client("credit-bureau"), ["financial_fraud_watch", "dishonest_debtors"]);
    const bank = new Watcher(fed.client("csrc"), ["financial_fraud_watch", "dishonest_debtors"]);
    await bureau.until(() => bureau.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT_COMPLETE));
    await bank.until(() => bank.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT_COMPLETE));
    await fed.client("pbccrc").publishListEntries({ entries: [debtorEntry(40, "financial_fraud_watch")] });
    const marker = debtorEntry(41);
    await fed.client("sh-credit").publishListEntries({ entries: [marker] });
    await bank.until(() => bank.live.some((e) => e.subject?.id === marker.subject!.id));
    await bureau.until(() => bureau.live.some((e) => e.subject?.id === marker.subject!.id));
    expect(bank.live.filter((e) => e.listId === "financial_fraud_watch")).toHaveLength(1);
    expect(bureau.entries.filter((e) => e.listId === "financial_fraud_watch")).toEqual([]);
    bureau.subscription.cancel();
    bank.subscription.cancel();
  });

  it("fail/`credex policy check` refuses the same policy at the granting line", async () => {
    const report = await checkPolicyDir(policyDir);
    const line = readFileSync(join(policyDir, "policy.csv"), "utf8").split("\n").indexOf(GRANT_ALL) + 1;
    const errors = report.findings.filter((f) => f.severity === "error" && f.file.endsWith("policy.csv"));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((f) => f.line === line && f.message.includes("to agency credit-bureau, a CREDIT_BUREAU member that never receives more than level 3"))).toBe(true);
  });
});

describe("member types: the court and the other new members", () => {
  it("ok/a court queries a natural person for ENFORCEMENT without consent only under the court_enforcement statutory exemption (Art. 18; PIPL Art. 13 ¶1(3)), audited with its basis", async () => {
    const without = await failureOf(fed.client("sh-court").query({ subject: person, categories: ["loan_overdue", "enforcement_case"], purpose: Purpose.ENFORCEMENT }));
    expect(without.reason).toBe("CONSENT_REQUIRED");
    const response = await fed.client("sh-court").query({ subject: person, categories: ["loan_overdue", "enforcement_case"], purpose: Purpose.ENFORCEMENT, statutoryExemption: "court_enforcement", requestId: "it-court" });
    const ids = response.results.flatMap((r) => r.records.map((x) => x.recordId)).sort();
    expect(ids).toEqual(["court-E-0003", "pbccrc-L-0003"]);
    const event = await auditEventOf(fed, (e) => e.requestId === "it-court");
    expect(event.requester!.sector).toBe("COURT");
    expect(event.decision!.effect).toBe(DecisionEffect.ALLOW);
  });

  it("fail/the tax authority stating ENFORCEMENT for a person still needs consent (Art. 13)", async () => {
    const failure = await failureOf(fed.client("sh-tax").query({ subject: person, categories: ["enforcement_case"], purpose: Purpose.ENFORCEMENT }));
    expect(failure.reason).toBe("CONSENT_REQUIRED");
  });

  it("ok/market supervision reads a court's list and enforcement cases for licensing (joint punishment, Planning Outline §4(1))", async () => {
    const response = await fed.client("sh-amr").query({ subject: DEMO_SUBJECTS.logisticsFirm, categories: ["dishonest_debtor", "enforcement_case", "abnormal_operation"], purpose: Purpose.ADMINISTRATIVE_APPROVAL });
    const ids = response.results.flatMap((r) => r.records.map((x) => x.recordId)).sort();
    expect(ids).toEqual(["amr-X-0004", "court-D-0001", "court-E-0002", "sh-D-0005"]);
  });
});
