import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { AuditEventType } from "../src/gen/credex/v1/audit_pb.js";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { DEMO_OPERATOR } from "../src/demo/federation.js";
import { demoConsent } from "../src/demo/demo-script.js";
import { loadKeyRing } from "../src/core/audit/key-ring.js";
import { operatorPseudonym } from "../src/core/audit/pseudonym.js";
import { auditEvents, failureOf, startTestFederation } from "./support/federation.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await fed?.cleanup();
});

const borrower = DEMO_SUBJECTS.borrower;
// A court's enforcement against the borrower, carried by the regional platform (registry role "judicial").
const enforcement = { subject: borrower, categories: ["loan_overdue"], purpose: Purpose.ENFORCEMENT, statutoryExemption: "court_enforcement", requestId: "enf-1" };

describe("consent is not waived: only a statutory exemption stands in for it (Regulation Art. 13, 18; PIPL Art. 13(3), 29)", () => {
  it("without consent or exemption a court's enforcement query about a person is refused", async () => {
    const failure = await failureOf(fed.client("sh-credit").query({ ...enforcement, statutoryExemption: "", requestId: "enf-0" }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "CONSENT_REQUIRED" });
  });

  it("the exemption named in policies/exemptions.yaml lets it through, and the audit records the exemption and its legal basis", async () => {
    const answer = await fed.client("sh-credit").query(enforcement);
    expect(answer.results.find((r) => r.agencyId === "pbccrc")?.status).toBe(AgencyStatus.OK);
    const event = (await auditEvents(fed)).find((e) => e.exchangeId === answer.exchangeId)!;
    expect(event).toMatchObject({ statutoryExemption: "court_enforcement", statusCode: 0, consentId: "" });
    expect(event.legalBasis).toContain("Civil Procedure Law");
    expect(event.legalBasis).toContain("Art. 18");
  });

  it.each([
    ["an exemption the policy does not name", "pbccrc", { statutoryExemption: "tax_audit" }, "STATUTORY_EXEMPTION_UNKNOWN"],
    ["a requester without the registry role the exemption names (a bank claiming a court's exemption)", "pbccrc", {}, "STATUTORY_EXEMPTION_NOT_APPLICABLE"],
    ["a purpose the exemption does not cover", "sh-credit", { purpose: Purpose.ADMINISTRATIVE_APPROVAL }, "STATUTORY_EXEMPTION_NOT_APPLICABLE"],
    ["a category the exemption does not cover", "sh-credit", { categories: ["loan_overdue", "tax_amount"] }, "STATUTORY_EXEMPTION_NOT_APPLICABLE"],
  ])("refuses %s", async (_name, requester, overrides, reason) => {
    const failure = await failureOf(fed.client(requester).query({ ...enforcement, ...overrides }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason });
  });
});

describe("who queried: every natural-person query names its human operator (Regulation Art. 22)", () => {
  it("a query about a person without an operator is refused with OPERATOR_REQUIRED, and the refusal is audited", async () => {
    const consent = demoConsent(fed, "pbccrc", borrower.id, ["income"], true);
    const failure = await failureOf(fed.client("pbccrc", { operator: "" }).query({ subject: borrower, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent, requestId: "no-operator" }));
    expect(failure).toMatchObject({ code: status.INVALID_ARGUMENT, reason: "OPERATOR_REQUIRED" });
    expect((await auditEvents(fed)).filter((e) => e.statusReason === "OPERATOR_REQUIRED" && e.type === AuditEventType.EXCHANGE)).toHaveLength(1);
  });

  it("the operator reaches the audit only as a keyed pseudonym bound to the agency, never in clear", async () => {
    const consent = demoConsent(fed, "pbccrc", borrower.id, ["income"], true);
    const operator = "teller-4711";
    const answer = await fed.client("pbccrc", { operator }).query({ subject: borrower, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent });
    const event = (await auditEvents(fed)).find((e) => e.exchangeId === answer.exchangeId)!;
    const ring = await loadKeyRing(fed.manifest.keyRing);
    expect(event.operatorPseudonym).toBe(operatorPseudonym(ring.pseudonymKey, "pbccrc", operator));
    // The same staff id at another agency is another person: another pseudonym.
    expect(event.operatorPseudonym).not.toBe(operatorPseudonym(ring.pseudonymKey, "csrc", operator));
    // Neither the decrypted event nor the log on disk carries the id itself.
    expect(JSON.stringify(event, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(operator);
    expect(await readFile(fed.manifest.auditLog, "utf8")).not.toContain(operator);
  });

  it("a company query may omit the operator; the demo clients name theirs", async () => {
    const answer = await fed.client("pbccrc", { operator: "" }).query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL });
    const named = await fed.client("pbccrc").query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL });
    const events = await auditEvents(fed);
    const ring = await loadKeyRing(fed.manifest.keyRing);
    expect(events.find((e) => e.exchangeId === answer.exchangeId)!.operatorPseudonym).toBe("");
    expect(events.find((e) => e.exchangeId === named.exchangeId)!.operatorPseudonym).toBe(operatorPseudonym(ring.pseudonymKey, "pbccrc", DEMO_OPERATOR));
  });
});
