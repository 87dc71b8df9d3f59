import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { DecisionEffect } from "../src/gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { readFileSync } from "node:fs";
import { signConsent } from "../src/client/consent.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { auditEventOf, failureOf, startTestFederation } from "./support/federation.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await fed?.cleanup();
});

const company = DEMO_SUBJECTS.tradingCompany;
const person = DEMO_SUBJECTS.borrower;

function consentFor(agency: string, categories: string[], options: { namesSensitive?: boolean; expiresInMs?: number; subjectId?: string } = {}) {
  const now = Date.now();
  return signConsent(
    {
      consentId: `consent-${Math.random().toString(16).slice(2)}`,
      subject: { type: SubjectType.NATURAL_PERSON, id: options.subjectId ?? person.id },
      purpose: Purpose.LOAN_APPROVAL,
      categories,
      grantedAt: timestampFromDate(new Date(now - 60_000)),
      expiresAt: timestampFromDate(new Date(now + (options.expiresInMs ?? 3_600_000))),
      namesSensitiveCategories: options.namesSensitive ?? false,
      requesterAgency: agency,
    },
    readFileSync(fed.pki.agencies[agency]!.client.key),
  );
}

describe("allowed exchange", () => {
  it("answers a query spanning several agencies, released field by field, and audits it", async () => {
    const response = await fed.client("pbccrc").query({
      subject: company,
      categories: ["administrative_penalty", "securities_violation", "forex_violation", "business_registration"],
      purpose: Purpose.LOAN_APPROVAL,
      requestId: "it-allowed-1",
    });
    const byAgency = new Map(response.results.map((r) => [r.agencyId, r]));
    // Every owner of a requested category: the regulators, the regional platform, market supervision and tax (penalties).
    expect([...byAgency.keys()].sort()).toEqual(["csrc", "nfra", "pbccrc", "safe", "sh-amr", "sh-credit", "sh-tax"]);
    for (const r of response.results) expect(r.status).toBe(AgencyStatus.OK);
    expect(byAgency.get("csrc")!.records.map((r) => r.category).sort()).toEqual(["administrative_penalty", "securities_violation"]);
    // The disputed securities violation is released marked disputed.
    expect(byAgency.get("csrc")!.records.find((r) => r.recordId === "csrc-V-0001")!.disputed).toBe(true);
    // safe: the level-4 balance field is removed; the 6-year-old negative record is not provided (Art. 16).
    const safe = byAgency.get("safe")!;
    expect(safe.records.map((r) => r.recordId)).toEqual(["safe-V-0001"]);
    expect(safe.records[0]!.fields.map((f) => f.name)).toEqual(["violation", "fine_cny"]);
    expect(Object.fromEntries(safe.withheld.map((w) => [w.reason, [w.records, w.fields]]))).toEqual({ NEGATIVE_EXPIRED: [1, 0], LEVEL_ABOVE_GRANT: [0, 1] });

    const event = await auditEventOf(fed, (e) => e.exchangeId === response.exchangeId);
    expect(event.requester!.agencyId).toBe("pbccrc");
    expect(event.decision!.effect).toBe(DecisionEffect.ALLOW);
    expect(event.decision!.policyRevision).toBe(response.policyRevision);
    expect(event.purpose).toBe(Purpose.LOAN_APPROVAL);
    expect(event.subjectPseudonym).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(event.toString?.() ?? "")).not.toContain(company.id);
    expect(event.release!.withheldFieldNames).toContain("account_balance_usd");
    expect(event.providers.map((p) => p.agencyId).sort()).toEqual(["csrc", "nfra", "pbccrc", "safe", "sh-amr", "sh-credit", "sh-tax"]);
    expect(event.statusCode).toBe(0);
    expect(event.responseDigest.length).toBe(32);
  });

  it("streams the same exchange in batches", async () => {
    const messages = await fed.client("pbccrc").queryStream(
      { subject: company, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL },
      { batchSize: 1 },
    );
    expect(messages.at(-1)!.last).toBe(true);
    const records = messages.flatMap((m) => m.batch?.records ?? []);
    expect(records.map((r) => r.recordId).sort()).toEqual(["amr-P-0002", "csrc-P-0002", "pbccrc-P-0004", "sh-P-0002"]);
    for (const m of messages) expect(m.batch?.records.length ?? 0).toBeLessThanOrEqual(1);
  });
});

describe("refusals, each audited", () => {
  it("denies a purpose the policy does not allow", async () => {
    const failure = await failureOf(
      fed.client("csrc").query({ subject: company, categories: ["loan_overdue"], purpose: Purpose.LOAN_APPROVAL, requestId: "it-purpose" }),
    );
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "PURPOSE_NOT_PERMITTED" });
    const event = await auditEventOf(fed, (e) => e.requestId === "it-purpose" || (e.requester?.agencyId === "csrc" && e.statusReason === "PURPOSE_NOT_PERMITTED"));
    expect(event.decision!.effect).toBe(DecisionEffect.DENY);
    expect(event.statusCode).toBe(status.PERMISSION_DENIED);
  });

  it("refuses a natural-person query without consent", async () => {
    const failure = await failureOf(fed.client("pbccrc").query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "CONSENT_REQUIRED" });
  });

  it("answers with consent; level-4 content only when the consent names it (Art. 14.2)", async () => {
    const categories = ["income", "real_estate"];
    const unnamed = await fed.client("pbccrc").query({ subject: person, categories, purpose: Purpose.LOAN_APPROVAL, consent: consentFor("pbccrc", categories) });
    const sh1 = unnamed.results.find((r) => r.agencyId === "sh-credit")!;
    expect(sh1.records).toHaveLength(0);
    expect(sh1.withheld.find((w) => w.reason === "SENSITIVE_NOT_CONSENTED")!.records).toBe(2);

    const named = await fed.client("pbccrc").query({ subject: person, categories, purpose: Purpose.LOAN_APPROVAL, consent: consentFor("pbccrc", categories, { namesSensitive: true }) });
    const sh2 = named.results.find((r) => r.agencyId === "sh-credit")!;
    expect(sh2.records.map((r) => r.recordId).sort()).toEqual(["sh-E-0007", "sh-I-0006"]);
    const event = await auditEventOf(fed, (e) => e.exchangeId === named.exchangeId);
    expect(event.consentId).toMatch(/^consent-/);
  });

  it.each([
    ["consent for another subject", () => consentFor("pbccrc", ["income"], { subjectId: "110105194912310037" }), "CONSENT_SUBJECT_MISMATCH"],
    ["expired consent", () => consentFor("pbccrc", ["income"], { expiresInMs: -1_000 }), "CONSENT_EXPIRED"],
    ["consent signed by another agency", () => consentFor("csrc", ["income"]), "CONSENT_SIGNATURE_INVALID"],
    ["consent not covering the category", () => consentFor("pbccrc", ["real_estate"]), "CONSENT_CATEGORY_NOT_COVERED"],
  ])("refuses %s", async (_name, consent, reason) => {
    const failure = await failureOf(fed.client("pbccrc").query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: consent() }));
    expect(failure.reason).toBe(reason);
    expect(failure.code).toBe(status.PERMISSION_DENIED);
  });

  it.each([
    ["an invalid USCC", { subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217X" }, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION }, "USCC_INVALID"],
    ["an invalid resident id", { subject: { type: SubjectType.NATURAL_PERSON, id: "110105194902301234" }, categories: ["income"], purpose: Purpose.LOAN_APPROVAL }, "RESIDENT_ID_INVALID"],
    ["no purpose", { subject: company, categories: ["administrative_penalty"] }, "PURPOSE_MISSING"],
    ["an unknown category", { subject: company, categories: ["horoscope"], purpose: Purpose.SUPERVISION }, "CATEGORY_UNKNOWN"],
    ["no subject", { categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION }, "SUBJECT_MISSING"],
  ])("refuses %s with INVALID_ARGUMENT", async (_name, request, reason) => {
    const failure = await failureOf(fed.client("pbccrc").query(request as never));
    expect(failure).toMatchObject({ code: status.INVALID_ARGUMENT, reason });
    const event = await auditEventOf(fed, (e) => e.statusReason === reason && e.requester?.agencyId === "pbccrc");
    expect(event.decision!.effect).toBe(DecisionEffect.NONE);
  });

  it("refuses an oversized request with RESOURCE_EXHAUSTED and audits it", async () => {
    const failure = await failureOf(
      fed.client("pbccrc").query({ subject: company, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION, requestId: "x".repeat(70_000) }),
    );
    expect(failure).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: "REQUEST_TOO_LARGE" });
    const event = await auditEventOf(fed, (e) => e.statusReason === "REQUEST_TOO_LARGE");
    expect(event.requester!.agencyId).toBe("pbccrc");
    expect(Number(event.requestBytes)).toBeGreaterThan(65_536);
  });
});

describe("partial answers", () => {
  it("reports an agency that is down as UNAVAILABLE and answers with the others", async () => {
    await fed.stopAgency("safe");
    const response = await fed.client("pbccrc").query({ subject: company, categories: ["forex_violation", "securities_violation"], purpose: Purpose.LOAN_APPROVAL });
    const byAgency = new Map(response.results.map((r) => [r.agencyId, r]));
    expect(byAgency.get("safe")!.status).toBe(AgencyStatus.UNAVAILABLE);
    expect(byAgency.get("csrc")!.status).toBe(AgencyStatus.OK);
    expect(byAgency.get("csrc")!.records).toHaveLength(1);
    const event = await auditEventOf(fed, (e) => e.exchangeId === response.exchangeId);
    expect(event.providers.find((p) => p.agencyId === "safe")!.status).toBe("UNAVAILABLE");
  });
});
