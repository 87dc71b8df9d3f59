/**
 * Objections end with an answer (Credit Investigation Regulation Art. 25: the
 * result is answered to the objector in writing, an error is corrected, an
 * unfounded dispute mark is removed; PIPL Art. 46: correction). End to end over
 * the demo federation's mTLS, with the reference agencies as owners:
 * - the owner's answer reaches the agency that filed the objection, and no
 *   other agency can read it;
 * - the disputed mark is cleared;
 * - agencies that received the record in the last 90 days, as the audited
 *   exchanges show, get a correction notice; an agency that never received
 *   it, or received it longer ago, gets none;
 * - only the record's owner answers: anyone else is refused with
 *   OBJECTION_NOT_OWNER, and nothing is delivered.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType } from "../src/gen/credex/v1/audit_pb.js";
import { ObjectionResolution, ObjectionStatus } from "../src/gen/credex/v1/objections_pb.js";
import { Purpose, SubjectRequestKind } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { DEMO_TRUST_DOMAIN } from "../src/demo/federation.js";
import { signSubjectRequest } from "../src/client/subject-request.js";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import { buildGatewayParts } from "../src/gateway/gateway-parts.js";
import { startGateway, type RunningGateway } from "../src/gateway/gateway.js";
import { auditEvents, failureOf, startTestFederation } from "./support/federation.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await fed?.cleanup();
});

const DAY = 86_400_000;
const firm = DEMO_SUBJECTS.logisticsFirm; // holds sh-D-0005 (dishonest_debtor) at sh-credit
const RECORD = "sh-D-0005";
const STATEMENT = "checked against the court's enforcement file: the debt was paid on 2025-09-30; the record now shows it fulfilled";

/** The firm's request to object to the record, collected and signed by `agency` (standing without having received it). */
function subjectRequest(agency: string) {
  const now = Date.now();
  return signSubjectRequest(
    {
      kind: SubjectRequestKind.OBJECTION,
      requestId: `req-${agency}-${now}`,
      subject: firm,
      ownerAgency: "sh-credit",
      recordId: RECORD,
      grantedAt: timestampFromDate(new Date(now - 60_000)),
      expiresAt: timestampFromDate(new Date(now + DAY)),
      requesterAgency: agency,
    },
    readFileSync(fed.pki.agencies[agency]!.client.key),
  );
}

const released = async (agency: string) =>
  (await fed.client(agency).query({ subject: firm, categories: ["dishonest_debtor"], purpose: Purpose.SUPERVISION })).results.find((r) => r.agencyId === "sh-credit")!.records.find((r) => r.recordId === RECORD)!;

describe("objections end with an answer (Art. 25; PIPL Art. 46)", () => {
  let objectionId = "";
  let csrcReceivedAt = new Date(0);

  it("Art. 25: a filed objection marks the record disputed; until the owner answers, the filer's poll is empty", async () => {
    // csrc receives the record in an exchange (the audit names it): a recent recipient.
    const before = Date.now();
    await released("csrc");
    csrcReceivedAt = new Date(before);
    // pbccrc files for the firm, presenting its request: it never received the record itself.
    const { objection } = await fed.client("pbccrc").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds: "the judgment debt was paid", subjectRequest: subjectRequest("pbccrc"), requestId: "answer-file-1" });
    objectionId = objection!.objectionId;
    expect(objection!.status).toBe(ObjectionStatus.OPEN);
    expect((await released("csrc")).disputed).toBe(true);
    expect(await fed.client("pbccrc").listObjectionAnswers({})).toMatchObject({ answers: [], lastSequence: 0n });
  });

  it("Art. 25: only the owner of the record answers; the filer and a recipient are refused with OBJECTION_NOT_OWNER and nothing is delivered", async () => {
    for (const agency of ["pbccrc", "csrc", "nfra"]) {
      expect(await failureOf(fed.client(agency).resolveObjection({ objectionId, resolution: ObjectionResolution.MARK_REMOVED, statement: "nothing wrong here" }))).toMatchObject({
        code: status.PERMISSION_DENIED,
        reason: "OBJECTION_NOT_OWNER",
        metadata: { objection_id: objectionId },
      });
    }
    expect(fed.gateway.members.objections.get(objectionId)!.status).toBe(ObjectionStatus.OPEN);
    expect((await released("csrc")).disputed).toBe(true);
    expect((await fed.client("pbccrc").listObjectionAnswers({})).answers).toEqual([]);
    expect((await fed.client("csrc").listCorrectionNotices({})).notices).toEqual([]);
    const refusals = (await auditEvents(fed)).filter((e) => e.type === AuditEventType.OBJECTION && e.attributes["action"] === "RESOLVE" && e.statusReason === "OBJECTION_NOT_OWNER");
    expect(refusals.map((e) => e.requester!.agencyId).sort()).toEqual(["csrc", "nfra", "pbccrc"]);
  });

  it("Art. 25: the owner's correction reaches the filer with its statement, the disputed mark is cleared, and no other agency can read the answer", async () => {
    // A recipient the audit showed 91 days ago is outside the 90 days; one 89 days ago is inside.
    const receipts = fed.gateway.members.receipts;
    const firmPseudonym = fed.gateway.members.objections.get(objectionId)!.subjectPseudonym;
    receipts.note({ agency: "safe", ownerAgency: "sh-credit", recordId: RECORD, subjectPseudonym: firmPseudonym, at: new Date(Date.now() - 91 * DAY) });
    receipts.note({ agency: "nfra", ownerAgency: "sh-credit", recordId: RECORD, subjectPseudonym: firmPseudonym, at: new Date(Date.now() - 89 * DAY) });

    const { objection } = await fed.client("sh-credit").resolveObjection({ objectionId, resolution: ObjectionResolution.CORRECTED, statement: STATEMENT, requestId: "answer-resolve-1" });
    expect(objection).toMatchObject({ status: ObjectionStatus.RESOLVED, resolution: ObjectionResolution.CORRECTED });

    const polled = await fed.client("pbccrc").listObjectionAnswers({});
    expect(polled.answers.map((a) => [a.objection!.objectionId, a.objection!.resolution, a.statement])).toEqual([[objectionId, ObjectionResolution.CORRECTED, STATEMENT]]);
    expect(polled.lastSequence).toBe(polled.answers[0]!.sequence);
    // Polling on from the position returned: nothing again.
    expect((await fed.client("pbccrc").listObjectionAnswers({ afterSequence: polled.lastSequence })).answers).toEqual([]);
    // Not the recipient, not the owner, not an agency that had nothing to do with it.
    for (const agency of ["csrc", "nfra", "safe", "sh-credit"]) expect((await fed.client(agency).listObjectionAnswers({})).answers).toEqual([]);
    // Nor through the objection list: it names objections to their filer and owner only.
    for (const agency of ["csrc", "nfra", "safe"]) expect((await fed.client(agency).listObjections({ includeResolved: true })).objections.map((o) => o.objectionId)).not.toContain(objectionId);

    expect((await released("csrc")).disputed).toBe(false);
  });

  it("PIPL Art. 46: a correction notice reaches the agencies that received the record in the last 90 days, by the audit, and no other", async () => {
    const csrc = await fed.client("csrc").listCorrectionNotices({});
    expect(csrc.notices).toHaveLength(1);
    const notice = csrc.notices[0]!;
    expect(notice).toMatchObject({ recipientAgency: "csrc", ownerAgency: "sh-credit", recordId: RECORD, subjectType: firm.type, resolution: ObjectionResolution.CORRECTED });
    // Its latest receipt: the last query before the answer (the checks of the disputed mark were queries too).
    expect(timestampDate(notice.receivedAt!).getTime()).toBeGreaterThanOrEqual(csrcReceivedAt.getTime());
    expect((await fed.client("csrc").listCorrectionNotices({ afterSequence: csrc.lastSequence })).notices).toEqual([]);
    expect((await fed.client("nfra").listCorrectionNotices({})).notices.map((n) => n.recordId)).toEqual([RECORD]);
    // safe received it 91 days ago; pbccrc (the filer) never received it; the owner is not its own recipient.
    for (const agency of ["safe", "pbccrc", "sh-credit"]) expect((await fed.client(agency).listCorrectionNotices({})).notices).toEqual([]);

    const events = (await auditEvents(fed)).filter((e) => e.type === AuditEventType.OBJECTION);
    const resolve = events.find((e) => e.requestId === "answer-resolve-1")!;
    expect(resolve.attributes).toMatchObject({ action: "RESOLVE", resolution: "CORRECTED", filed_by: "pbccrc", correction_notices: "csrc,nfra" });
    expect(resolve.attributes["statement_sha256"]).toMatch(/^[0-9a-f]{64}$/);
    expect(events.some((e) => e.attributes["action"] === "NOTICES" && e.requester!.agencyId === "csrc" && e.attributes["notice_ids"] === notice.noticeId)).toBe(true);
    // The statement is sealed at rest, and never in the audit.
    expect(readFileSync(fed.gateway.config.objections.stateFile, "utf8")).not.toContain("paid on 2025-09-30");
    expect(JSON.stringify(events, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("paid on 2025-09-30");
  });

  it("Art. 25: an upheld record (MARK_REMOVED) and a deleted one: the mark is cleared; only the deletion is noticed to recipients", async () => {
    const file = async () =>
      (await fed.client("pbccrc").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds: "wrong amount", subjectRequest: subjectRequest("pbccrc") })).objection!.objectionId;
    const csrcBefore = (await fed.client("csrc").listCorrectionNotices({})).lastSequence;
    const upheld = await file();
    await fed.client("sh-credit").resolveObjection({ objectionId: upheld, resolution: ObjectionResolution.MARK_REMOVED, statement: "the amount is as the judgment states" });
    expect((await released("csrc")).disputed).toBe(false);
    expect((await fed.client("csrc").listCorrectionNotices({ afterSequence: csrcBefore })).notices).toEqual([]);
    const deleted = await file();
    await fed.client("sh-credit").resolveObjection({ objectionId: deleted, resolution: ObjectionResolution.RECORD_DELETED, statement: "listed in error; the record is deleted" });
    expect((await fed.client("csrc").listCorrectionNotices({ afterSequence: csrcBefore })).notices.map((n) => n.resolution)).toEqual([ObjectionResolution.RECORD_DELETED]);
    const answers = (await fed.client("pbccrc").listObjectionAnswers({})).answers.map((a) => [a.objection!.objectionId, a.objection!.resolution]);
    expect(answers.slice(1)).toEqual([
      [upheld, ObjectionResolution.MARK_REMOVED],
      [deleted, ObjectionResolution.RECORD_DELETED],
    ]);
  });

  it("answers and notices survive a restart: a gateway on the same state and key ring serves them, the statement opened", async () => {
    await fed.gateway.auditSink().flush();
    const base = loadGatewayConfig(fed.configFile);
    const dir = join(fed.dir, "answers-restarted");
    mkdirSync(dir, { recursive: true });
    const chainState = join(dir, "chain-state.json");
    const file = join(dir, "audit.log");
    copyFileSync(base.audit.chainState, chainState);
    copyFileSync(base.audit.file, file);
    const stateFile = join(dir, "objections.json");
    copyFileSync(base.objections.stateFile, stateFile);
    const config = { ...base, listen: "127.0.0.1:0", audit: { ...base.audit, file, chainState }, objections: { ...base.objections, stateFile }, lists: { ...base.lists, file: join(dir, "lists.log") }, observability: undefined };
    let restarted: RunningGateway | undefined;
    const clients: ReturnType<typeof createExchangeClient>[] = [];
    try {
      restarted = await startGateway(config, await buildGatewayParts(config));
      const client = (agency: string) => {
        const member = fed.pki.agencies[agency]!;
        const c = createExchangeClient({ address: restarted!.address, trustDomain: DEMO_TRUST_DOMAIN, certFile: member.client.cert, keyFile: member.client.key, caFile: fed.pki.caBundle });
        clients.push(c);
        return c;
      };
      const answers = await client("pbccrc").listObjectionAnswers({});
      expect(answers.answers[0]).toMatchObject({ statement: STATEMENT, objection: { objectionId } });
      expect((await client("csrc").listCorrectionNotices({})).notices.map((n) => n.resolution)).toEqual([ObjectionResolution.CORRECTED, ObjectionResolution.RECORD_DELETED]);
      expect((await client("safe").listCorrectionNotices({})).notices).toEqual([]);
    } finally {
      clients.forEach((c) => c.close());
      await restarted?.stop(1_000);
    }
  });
});

describe("credex objections answers / notices (CLI)", () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
    const { command } = await import("../src/cli/commands/objections.js");
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      return { code: await command.run(argv), out: chunks.join("") };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
  }

  it("the filer reads its answers and a recipient its notices from a position; a non-owner's record-deleted is refused with the reason", async () => {
    const answers = await cli("answers", "--dir", fed.dir, "--as", "pbccrc");
    expect(answers.code).toBe(0);
    expect(answers.out).toContain(`record ${RECORD} (owner sh-credit)  CORRECTED`);
    expect(answers.out).toContain(STATEMENT);
    const position = /position (\d+) \(pass --after/.exec(answers.out)![1]!;
    expect(await cli("answers", "--dir", fed.dir, "--as", "pbccrc", "--after", position)).toEqual({ code: 0, out: `no new answers\nposition ${position} (pass --after ${position} next time)\n` });
    expect((await cli("answers", "--dir", fed.dir, "--as", "csrc")).out).toMatch(/^no new answers\n/);

    const notices = JSON.parse((await cli("notices", "--dir", fed.dir, "--as", "csrc", "--json")).out) as { notices: Array<{ recordId: string; resolution: string }>; lastSequence: string };
    expect(notices.notices.map((n) => [n.recordId, n.resolution])).toEqual([
      [RECORD, "OBJECTION_RESOLUTION_CORRECTED"],
      [RECORD, "OBJECTION_RESOLUTION_RECORD_DELETED"],
    ]);
    expect((await cli("notices", "--dir", fed.dir, "--as", "pbccrc")).out).toMatch(/^no new notices\n/);

    const { objection } = await fed.client("pbccrc").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds: "again", subjectRequest: subjectRequest("pbccrc") });
    const refused = await cli("resolve", "--dir", fed.dir, "--as", "csrc", "--id", objection!.objectionId, "--resolution", "record-deleted");
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("OBJECTION_NOT_OWNER");
    expect(await cli("resolve", "--dir", fed.dir, "--as", "sh-credit", "--id", objection!.objectionId, "--resolution", "record-deleted")).toEqual({ code: 0, out: `resolved ${objection!.objectionId}: RECORD_DELETED\n` });
    await expect(cli("answers", "--dir", fed.dir, "--as", "pbccrc", "--after", "12x")).rejects.toThrow("--after must be a position");
  });
});
