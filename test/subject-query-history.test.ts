import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType } from "../src/gen/credex/v1/audit_pb.js";
import { Purpose, SubjectRequestKind, SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { demoConsent } from "../src/demo/demo-script.js";
import { signSubjectRequest } from "../src/client/subject-request.js";
import { kafkaBrokers } from "./support/kafka.js";
import { credex } from "./support/cli.js";
import { startGateway, type RunningGateway } from "../src/gateway/gateway.js";
import { buildGatewayParts } from "../src/gateway/gateway-parts.js";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { DEMO_TRUST_DOMAIN } from "../src/demo/federation.js";
import { auditEvents, failureOf, startTestFederation } from "./support/federation.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
const borrower = DEMO_SUBJECTS.borrower;
const company = DEMO_SUBJECTS.tradingCompany;

/** The subject's request to see the queries about them, collected and signed by `agency` (or another agency's key). */
function historyRequest(fed: TestFederation, agency: string, overrides: { kind?: SubjectRequestKind; subject?: { type: SubjectType; id: string }; signer?: string; expiresInMs?: number } = {}) {
  const now = Date.now();
  return signSubjectRequest(
    {
      kind: overrides.kind ?? SubjectRequestKind.QUERY_HISTORY,
      requestId: `history-${agency}-${now}`,
      subject: overrides.subject ?? borrower,
      grantedAt: timestampFromDate(new Date(now - 60_000)),
      expiresAt: timestampFromDate(new Date(now + (overrides.expiresInMs ?? 86_400_000))),
      requesterAgency: agency,
    },
    readFileSync(fed.pki.agencies[overrides.signer ?? agency]!.client.key),
  );
}

describe.each([
  ["the audit file", false],
  ["the Kafka audit topic", true],
])("a subject's query history from %s (Regulation Art. 22; PIPL Art. 45)", (_medium, kafka) => {
  let fed: TestFederation;
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let answeredIds: string[] = [];

  beforeAll(async () => {
    fed = await startTestFederation(kafka ? { kafkaBrokers: kafkaBrokers(), kafkaAuditTopics: { topic: `credex.audit.history.${run}`, checkpointTopic: `credex.audit-checkpoints.history.${run}` } } : {});
    // Three queries about the borrower (two answered, one refused) and one about a company.
    const bank = await fed.client("pbccrc").query({ subject: borrower, categories: ["income"], purpose: Purpose.LOAN_APPROVAL, consent: demoConsent(fed, "pbccrc", borrower.id, ["income"], true) });
    const court = await fed.client("sh-credit").query({ subject: borrower, categories: ["loan_overdue"], purpose: Purpose.ENFORCEMENT, statutoryExemption: "court_enforcement" });
    await failureOf(fed.client("csrc").query({ subject: borrower, categories: ["loan_overdue"], purpose: Purpose.SUPERVISION }));
    await fed.client("pbccrc").query({ subject: company, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL });
    answeredIds = [bank.exchangeId, court.exchangeId];
  });
  afterAll(async () => {
    await fed?.cleanup();
  });

  it("lists which agency asked, when, for which purpose and which categories — the subject's queries only", async () => {
    const before = new Date(Date.now() - 60_000);
    const { queries, truncated } = await fed.client("nfra").listSubjectQueries({ subject: borrower, subjectRequest: historyRequest(fed, "nfra"), requestId: "hist-1" });
    expect(truncated).toBe(false);
    expect(queries.map((q) => [q.agencyId, Purpose[q.purpose], q.categories, q.answered, q.statutoryExemption])).toEqual([
      ["pbccrc", "LOAN_APPROVAL", ["income"], true, ""],
      ["sh-credit", "ENFORCEMENT", ["loan_overdue"], true, "court_enforcement"],
      ["csrc", "SUPERVISION", ["loan_overdue"], false, ""],
    ]);
    for (const q of queries) expect(timestampDate(q.queriedAt!).getTime()).toBeGreaterThan(before.getTime());

    // The call is audited as the subject's access, and it opened only the subject's three records.
    const events = await auditEvents(fed);
    const access = events.filter((e) => e.type === AuditEventType.SUBJECT_ACCESS && e.requestId === "hist-1");
    expect(access).toHaveLength(1);
    expect(access[0]!.requester?.agencyId).toBe("nfra");
    expect(access[0]!.attributes).toMatchObject({ queries: "3", records_opened: "3", truncated: "false" });
    const borrowerEvent = events.find((e) => e.exchangeId === answeredIds[0])!;
    expect(access[0]!.subjectPseudonym).toBe(borrowerEvent.subjectPseudonym);
    expect(events.filter((e) => e.type === AuditEventType.EXCHANGE).length).toBeGreaterThan(3);
  });

  it("`credex subject-queries` prints the same history; `credex query` names the operator", async () => {
    const listed = await credex("subject-queries", "--dir", fed.dir, "--as", "safe", "--subject", borrower.id, "--subject-type", "natural");
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout.trim().split("\n").map((l) => l.split(/\s+/).slice(1, 4))).toEqual([
      ["pbccrc", "LOAN_APPROVAL", "answered"],
      ["sh-credit", "ENFORCEMENT", "answered"],
      ["csrc", "SUPERVISION", "refused"],
    ]);
    const noOperator = await credex("query", "--dir", fed.dir, "--as", "pbccrc", "--subject", borrower.id, "--subject-type", "natural", "--categories", "income", "--purpose", "LOAN_APPROVAL", "--consent", "--json");
    expect(noOperator.code).toBe(1);
    expect(JSON.parse(noOperator.stdout)).toMatchObject({ error: { reason: "OPERATOR_REQUIRED" } });
    const named = await credex("query", "--dir", fed.dir, "--as", "pbccrc", "--subject", borrower.id, "--subject-type", "natural", "--categories", "income", "--purpose", "LOAN_APPROVAL", "--consent", "--operator", "teller-0042");
    expect(named.code).toBe(0);
  });

  it("a company sees its own query, not the person's", async () => {
    const { queries } = await fed.client("csrc").listSubjectQueries({ subject: company, subjectRequest: historyRequest(fed, "csrc", { subject: company }) });
    expect(queries.map((q) => [q.agencyId, q.categories])).toEqual([["pbccrc", ["administrative_penalty"]]]);
  });

  it("`since` narrows the window; one in the future is refused", async () => {
    const later = await fed.client("nfra").listSubjectQueries({ subject: borrower, subjectRequest: historyRequest(fed, "nfra"), since: timestampFromDate(new Date()) });
    expect(later.queries).toHaveLength(0);
    const future = await failureOf(fed.client("nfra").listSubjectQueries({ subject: borrower, subjectRequest: historyRequest(fed, "nfra"), since: timestampFromDate(new Date(Date.now() + 86_400_000)) }));
    expect(future).toMatchObject({ code: status.INVALID_ARGUMENT, reason: "FIELD_INVALID", metadata: { field: "since" } });
  });

  it.each([
    ["no subject request", () => undefined, "SUBJECT_REQUEST_REQUIRED", undefined],
    ["a request naming another subject", () => historyRequest(fed, "nfra", { subject: company }), "SUBJECT_REQUEST_INVALID", "SUBJECT_MISMATCH"],
    ["a request signed with another agency's key", () => historyRequest(fed, "nfra", { signer: "pbccrc" }), "SUBJECT_REQUEST_INVALID", "SIGNATURE_INVALID"],
    ["an objection request presented as a history request", () => historyRequest(fed, "nfra", { kind: SubjectRequestKind.OBJECTION }), "SUBJECT_REQUEST_INVALID", "KIND_MISMATCH"],
    ["an expired request", () => historyRequest(fed, "nfra", { expiresInMs: -1_000 }), "SUBJECT_REQUEST_INVALID", "EXPIRED"],
  ])("refuses %s, and audits the refusal", async (_name, request, reason, refusal) => {
    const failure = await failureOf(fed.client("nfra").listSubjectQueries({ subject: borrower, subjectRequest: request(), requestId: `refused-${reason}-${refusal ?? ""}` }));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, reason });
    if (refusal) expect(failure.metadata["refusal"]).toBe(refusal);
    const events = await auditEvents(fed);
    expect(events.filter((e) => e.type === AuditEventType.SUBJECT_ACCESS && e.requestId === `refused-${reason}-${refusal ?? ""}` && e.statusReason === reason)).toHaveLength(1);
  });

  it(kafka ? "another replica reading the same topic gives the same history (the fleet's audit)" : "a gateway restarted from the audit file gives the same history (the audit's, not the process's)", async () => {
    const base = fed.gateway.config;
    const dir = mkdtempSync(join(tmpdir(), "credex-history-"));
    const chainState = join(dir, "chain-state.json");
    let audit = { ...base.audit, chainState };
    if (kafka) {
      audit = { ...audit, kafka: { ...base.audit.kafka!, spoolFile: join(dir, "spool.log") } };
    } else {
      // The chain state first: it must never be ahead of the log.
      copyFileSync(base.audit.chainState, chainState);
      copyFileSync(base.audit.file, join(dir, "audit.log"));
      audit = { ...audit, file: join(dir, "audit.log") };
    }
    const config = {
      ...base,
      instance: kafka ? `${base.instance}-replica` : base.instance,
      listen: "127.0.0.1:0",
      audit,
      objections: { ...base.objections, stateFile: join(dir, "objections.json") },
      lists: { ...base.lists, file: join(dir, "lists.log") },
      observability: undefined,
    };
    let other: RunningGateway | undefined;
    const member = fed.pki.agencies["nfra"]!;
    try {
      other = await startGateway(config, await buildGatewayParts(config));
      const client = createExchangeClient({ address: other.address, trustDomain: DEMO_TRUST_DOMAIN, certFile: member.client.cert, keyFile: member.client.key, caFile: fed.pki.caBundle });
      try {
        const there = await client.listSubjectQueries({ subject: borrower, subjectRequest: historyRequest(fed, "nfra") });
        const here = await fed.client("nfra").listSubjectQueries({ subject: borrower, subjectRequest: historyRequest(fed, "nfra") });
        expect(there.queries.length).toBeGreaterThanOrEqual(3);
        expect(there.queries).toEqual(here.queries);
      } finally {
        client.close();
      }
    } finally {
      await other?.stop(1_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
