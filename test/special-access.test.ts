import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { AuditEventType } from "../src/gen/credex/v1/audit_pb.js";
import { SpecialAccessState } from "../src/gen/credex/v1/special_access_pb.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { demoConsent } from "../src/demo/demo-script.js";
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
const application = {
  subject: borrower,
  categories: ["securities_holding"],
  purpose: Purpose.LOAN_APPROVAL,
  justification: "Margin-loan collateral check requested by the borrower's bank, case 2026-117",
  durationSeconds: 3600,
  ownerAgency: "csrc",
};
const holdingsQuery = (grantId: string) => ({ subject: borrower, categories: ["securities_holding"], purpose: Purpose.LOAN_APPROVAL, specialGrantId: grantId });

describe("special applications (Planning Outline §3(5))", () => {
  it("the policy alone gives a bank no securities holdings", async () => {
    const query = { ...holdingsQuery("00000000-0000-0000-0000-000000000000"), consent: demoConsent(fed, "pbccrc", borrower.id, ["securities_holding"], true) };
    const failure = await failureOf(fed.client("pbccrc").query(query));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "SPECIAL_GRANT_UNKNOWN" });
  });

  it("pending → approved by the owner's approver → used within its limits → lapses; every step audited", async () => {
    const pending = await fed.client("pbccrc").requestSpecialAccess(application);
    expect(pending.state).toBe(SpecialAccessState.PENDING);
    expect(pending.grantId).toBe("");

    // Only the owning agency decides.
    const wrongApprover = await failureOf(fed.client("nfra").decideSpecialAccess({ applicationId: pending.applicationId, approve: true, maxUses: 1 }));
    expect(wrongApprover).toMatchObject({ code: status.PERMISSION_DENIED, reason: "APPROVER_NOT_OWNER" });

    const approved = await fed.client("csrc").decideSpecialAccess({ applicationId: pending.applicationId, approve: true, maxUses: 1, note: "collateral check only" });
    expect(approved).toMatchObject({ state: SpecialAccessState.APPROVED, maxUses: 1, usesLeft: 1 });

    // Consent is not waived (Art. 13, 18; PIPL Art. 29): this used to release the person's
    // level-4 holdings on the grant alone. Refused before the grant's one use is counted.
    const unconsented = await failureOf(fed.client("pbccrc").query(holdingsQuery(approved.grantId)));
    expect(unconsented).toMatchObject({ code: status.PERMISSION_DENIED, reason: "SPECIAL_GRANT_CONSENT_REQUIRED" });
    // Consent that does not name the sensitive category (Art. 14.2) does not do either.
    const unnamed = await failureOf(fed.client("pbccrc").query({ ...holdingsQuery(approved.grantId), consent: demoConsent(fed, "pbccrc", borrower.id, ["securities_holding"], false) }));
    expect(unnamed).toMatchObject({ reason: "SPECIAL_GRANT_CONSENT_REQUIRED", metadata: { category: "securities_holding" } });

    // With the person's written consent naming the category the grant takes effect at once.
    const consented = (grantId: string, requester = "pbccrc") => ({ ...holdingsQuery(grantId), consent: demoConsent(fed, requester, borrower.id, ["securities_holding"], true) });
    const answer = await fed.client("pbccrc").query(consented(approved.grantId));
    const csrc = answer.results.find((r) => r.agencyId === "csrc")!;
    expect(csrc.records.map((r) => r.recordId)).toEqual(["csrc-H-0003"]);
    expect(csrc.records[0]!.fields.map((f) => f.name)).toEqual(["holding", "shares"]);

    // Lapses by itself: one use only.
    const again = await failureOf(fed.client("pbccrc").query(consented(approved.grantId)));
    expect(again).toMatchObject({ code: status.PERMISSION_DENIED, reason: "SPECIAL_GRANT_EXHAUSTED" });
    // Nobody else can use it.
    const other = await failureOf(fed.client("nfra").query(consented(approved.grantId, "nfra")));
    expect(other.reason).toBe("SPECIAL_GRANT_MISMATCH");

    const events = await auditEvents(fed);
    const steps = events.filter((e) => e.type === AuditEventType.SPECIAL_ACCESS && e.attributes["application_id"] === pending.applicationId);
    expect(steps.map((e) => [e.method, e.attributes["state"]])).toEqual([
      ["RequestSpecialAccess", "PENDING"],
      ["DecideSpecialAccess", "APPROVED"],
    ]);
    expect(events.filter((e) => e.specialGrantId === approved.grantId).map((e) => e.statusReason)).toEqual(["", "SPECIAL_GRANT_EXHAUSTED", "SPECIAL_GRANT_MISMATCH"]);
    // The refusals for want of consent are audited too (refused in validation, before the grant is looked at).
    expect(events.filter((e) => e.statusReason === "SPECIAL_GRANT_CONSENT_REQUIRED").map((e) => [e.requester?.agencyId, e.categories])).toEqual([
      ["pbccrc", ["securities_holding"]],
      ["pbccrc", ["securities_holding"]],
    ]);
    expect(events.some((e) => e.type === AuditEventType.SPECIAL_ACCESS && e.statusReason === "APPROVER_NOT_OWNER")).toBe(true);
  });

  it("the requesting certificate cannot approve its own application (separation of duties)", async () => {
    const own = await fed.client("csrc").requestSpecialAccess({ ...application, purpose: Purpose.GUARANTEE });
    const failure = await failureOf(fed.client("csrc").decideSpecialAccess({ applicationId: own.applicationId, approve: true, maxUses: 1 }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason: "SEPARATION_OF_DUTIES" });
  });

  it("refuses malformed applications with their reason", async () => {
    expect((await failureOf(fed.client("pbccrc").requestSpecialAccess({ ...application, justification: "pls" }))).reason).toBe("FIELD_INVALID");
    expect((await failureOf(fed.client("pbccrc").requestSpecialAccess({ ...application, categories: ["loan_overdue"] }))).reason).toBe("FIELD_INVALID");
    expect((await failureOf(fed.client("pbccrc").requestSpecialAccess({ ...application, subject: { ...borrower, id: "110105194912310021" } }))).reason).toBe("RESIDENT_ID_INVALID");
  });
});
