/**
 * Adversarial identifiers, consent and policy: an authenticated agency trying
 * to query what it may not. Every refusal is asserted by code and reason, is
 * audited as a refusal, and the gateway keeps serving.
 */
import { readFileSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Purpose, SubjectType, type ConsentAttestation } from "../../src/gen/credex/v1/types_pb.js";
import { DecisionEffect } from "../../src/gen/credex/v1/audit_pb.js";
import { signConsent } from "../../src/client/consent.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { auditEvents, failureOf, startTestFederation } from "../support/federation.js";
import { expectStillServing, sharedClient } from "../support/adversarial.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await fed?.cleanup();
});

const person = DEMO_SUBJECTS.borrower;
const company = DEMO_SUBJECTS.tradingCompany;

function consent(signer: string, options: { requester?: string; subjectId?: string; purpose?: Purpose; categories?: string[]; validFromMs?: number; expiresInMs?: number; namesSensitive?: boolean } = {}): ConsentAttestation {
  const now = Date.now();
  return signConsent(
    {
      consentId: `adv-${Math.random().toString(16).slice(2)}`,
      subject: { type: SubjectType.NATURAL_PERSON, id: options.subjectId ?? person.id },
      purpose: options.purpose ?? Purpose.LOAN_APPROVAL,
      categories: options.categories ?? ["income"],
      grantedAt: timestampFromDate(new Date(now + (options.validFromMs ?? -60_000))),
      expiresAt: timestampFromDate(new Date(now + (options.expiresInMs ?? 3_600_000))),
      requesterAgency: options.requester ?? signer,
      namesSensitiveCategories: options.namesSensitive ?? false,
    },
    readFileSync(fed.pki.agencies[signer]!.client.key),
  );
}

async function expectAuditedRefusal(agencyId: string, reason: string): Promise<void> {
  const events = (await auditEvents(fed)).filter((e) => e.requester?.agencyId === agencyId && e.statusReason === reason);
  expect(events.length).toBeGreaterThan(0);
  for (const e of events) expect(e.decision!.effect).not.toBe(DecisionEffect.ALLOW);
}

describe("adversarial/identifiers: invalid subject ids → INVALID_ARGUMENT", () => {
  it.each([
    ["USCC with a wrong check character", "USCC_INVALID", SubjectType.LEGAL_PERSON, "91310110666007217X"],
    ["USCC too short", "USCC_INVALID", SubjectType.LEGAL_PERSON, "9131011066600721"],
    ["USCC with forbidden letters (I, O, S, V, Z)", "USCC_INVALID", SubjectType.LEGAL_PERSON, "91310110666OO7217T"],
    ["USCC in lowercase", "USCC_INVALID", SubjectType.OTHER_ORG, "91350200ma2yj1xr9g"],
    ["USCC in full-width digits", "USCC_INVALID", SubjectType.LEGAL_PERSON, "９１３１０１１０６６６００７２１７Ｔ"],
    ["USCC with an injected SQL tail", "USCC_INVALID", SubjectType.LEGAL_PERSON, "91310110666007217T' OR '1'='1"],
    ["resident id with a wrong check digit", "RESIDENT_ID_INVALID", SubjectType.NATURAL_PERSON, "110105194912310021"],
    ["resident id with an impossible date (Feb 30)", "RESIDENT_ID_INVALID", SubjectType.NATURAL_PERSON, "110105194902301234"],
    ["resident id with a lowercase x", "RESIDENT_ID_INVALID", SubjectType.NATURAL_PERSON, "11010519491231002x"],
    ["resident id of 15 digits (first generation)", "RESIDENT_ID_INVALID", SubjectType.NATURAL_PERSON, "110105491231002"],
    ["a company id given as a resident id", "RESIDENT_ID_INVALID", SubjectType.NATURAL_PERSON, company.id],
    ["an unspecified subject type", "SUBJECT_TYPE_INVALID", SubjectType.UNSPECIFIED, company.id],
  ])("fail/%s → %s", async (_name, reason, type, id) => {
    const failure = await failureOf(sharedClient(fed, "pbccrc").query({ subject: { type, id }, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION }));
    expect(failure).toMatchObject({ code: status.INVALID_ARGUMENT, reason });
    await expectAuditedRefusal("pbccrc", reason);
  });

  it.each([
    ["a request_id with control characters", "FIELD_INVALID", { requestId: "abc\u0000\u001b[2J" }],
    ["a request_id of 65 characters", "FIELD_INVALID", { requestId: "r".repeat(65) }],
    ["a malformed special_grant_id", "FIELD_INVALID", { specialGrantId: "../../etc/passwd" }],
    ["a category outside the catalogue", "CATEGORY_UNKNOWN", { categories: ["administrative_penalty", "all_data"] }],
  ])("fail/%s → %s", async (_name, reason, extra) => {
    const failure = await failureOf(sharedClient(fed, "pbccrc").query({ subject: company, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION, ...extra }));
    expect(failure).toMatchObject({ code: status.INVALID_ARGUMENT, reason });
    // Caller text echoed in errors is made printable: no control characters reach a terminal or log.
    expect([...failure.message].some((ch) => ch.charCodeAt(0) < 0x20)).toBe(false);
    await expectStillServing(fed);
  });
});

describe("adversarial/policy: consent abuse → PERMISSION_DENIED", () => {
  it("fail/consent for another subject → CONSENT_SUBJECT_MISMATCH", async () => {
    const failure = await failureOf(sharedClient(fed, "pbccrc").query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: consent("pbccrc", { subjectId: "110105194912310037" }) }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "CONSENT_SUBJECT_MISMATCH" });
    await expectAuditedRefusal("pbccrc", "CONSENT_SUBJECT_MISMATCH");
  });

  it("fail/a consent replayed after its expiry → CONSENT_EXPIRED (it was accepted before)", async () => {
    const shortLived = consent("pbccrc", { expiresInMs: 1_500 });
    const request = { subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: shortLived };
    const first = await sharedClient(fed, "pbccrc").query(request);
    expect(first.results.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1_600));
    const failure = await failureOf(sharedClient(fed, "pbccrc").query(request));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "CONSENT_EXPIRED" });
    expect(failure.metadata["consent_id"]).toMatch(/^adv-/);
    await expectAuditedRefusal("pbccrc", "CONSENT_EXPIRED");
  });

  it("fail/a consent stolen from another agency and replayed → CONSENT_SIGNATURE_INVALID", async () => {
    const stolen = consent("pbccrc");
    const failure = await failureOf(sharedClient(fed, "csrc").query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: stolen }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "CONSENT_SIGNATURE_INVALID" });
  });

  it("fail/a consent signed by the caller but naming another requester → CONSENT_REQUESTER_MISMATCH", async () => {
    const failure = await failureOf(sharedClient(fed, "pbccrc").query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: consent("pbccrc", { requester: "csrc" }) }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "CONSENT_REQUESTER_MISMATCH" });
  });

  it("fail/a consent for another purpose → CONSENT_PURPOSE_MISMATCH", async () => {
    const failure = await failureOf(sharedClient(fed, "pbccrc").query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: consent("pbccrc", { purpose: Purpose.GUARANTEE }) }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "CONSENT_PURPOSE_MISMATCH" });
  });

  it("fail/a consent dated in the future → CONSENT_NOT_YET_VALID", async () => {
    const failure = await failureOf(sharedClient(fed, "pbccrc").query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: consent("pbccrc", { validFromMs: 3_600_000, expiresInMs: 7_200_000 }) }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "CONSENT_NOT_YET_VALID" });
  });

  it("fail/a consent with an unsupported algorithm → INVALID_ARGUMENT CONSENT_MALFORMED", async () => {
    const c = consent("pbccrc");
    c.algorithm = "none";
    const failure = await failureOf(sharedClient(fed, "pbccrc").query({ subject: person, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: c }));
    expect(failure).toMatchObject({ code: status.INVALID_ARGUMENT, reason: "CONSENT_MALFORMED" });
    await expectStillServing(fed);
  });
});

describe("adversarial/policy: authorization", () => {
  it("fail/a purpose the policy does not grant (csrc, loan data, LOAN_APPROVAL) → PERMISSION_DENIED PURPOSE_NOT_PERMITTED", async () => {
    const failure = await failureOf(sharedClient(fed, "csrc").query({ subject: company, categories: ["loan_overdue"], purpose: Purpose.LOAN_APPROVAL }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "PURPOSE_NOT_PERMITTED" });
    await expectAuditedRefusal("csrc", "PURPOSE_NOT_PERMITTED");
  });

  it("fail/a suspended agency → PERMISSION_DENIED AGENCY_SUSPENDED; others unaffected; served again after resume", async () => {
    fed.gateway.registry.suspend("safe", "incident 8 drill");
    try {
      const failure = await failureOf(sharedClient(fed, "safe").query({ subject: company, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION }));
      expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "AGENCY_SUSPENDED" });
      await expectStillServing(fed, "nfra");
    } finally {
      fed.gateway.registry.resume("safe");
    }
    await expectStillServing(fed, "safe");
  });

  it("fail/a special grant used past its count, even by concurrent calls → PERMISSION_DENIED SPECIAL_GRANT_EXHAUSTED; by another agency → SPECIAL_GRANT_MISMATCH", async () => {
    const pending = await sharedClient(fed, "pbccrc").requestSpecialAccess({
      subject: person,
      categories: ["securities_holding"],
      purpose: Purpose.LOAN_APPROVAL,
      justification: "Adversarial suite: a grant of two uses raced by six concurrent calls",
      durationSeconds: 3600,
      ownerAgency: "csrc",
    });
    const approved = await sharedClient(fed, "csrc").decideSpecialAccess({ applicationId: pending.applicationId, approve: true, maxUses: 2 });
    // For a person the grant works only with consent naming the holdings (Art. 13, 18; PIPL Art. 29).
    const consented = (agency: string) => ({ subject: person, categories: ["securities_holding"], purpose: Purpose.LOAN_APPROVAL, specialGrantId: approved.grantId, consent: consent(agency, { categories: ["securities_holding"], namesSensitive: true }) });
    const query = consented("pbccrc");
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => sharedClient(fed, "pbccrc").query(query).then(() => "OK", (err) => failureOf(Promise.reject(err)).then((f) => `${f.code}:${f.reason}`))));
    expect(outcomes.filter((o) => o === "OK")).toHaveLength(2);
    expect(outcomes.filter((o) => o !== "OK")).toEqual(Array(4).fill(`${status.PERMISSION_DENIED}:SPECIAL_GRANT_EXHAUSTED`));
    const stolen = await failureOf(sharedClient(fed, "nfra").query(consented("nfra")));
    expect(stolen).toMatchObject({ code: status.PERMISSION_DENIED, reason: "SPECIAL_GRANT_MISMATCH" });
    await expectAuditedRefusal("pbccrc", "SPECIAL_GRANT_EXHAUSTED");
    await expectStillServing(fed);
  });
});
