import { readFileSync } from "node:fs";
import type { ServiceError } from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { ListEntryKind, SubscribePhase, WithdrawalReason, type ListEntry } from "../gen/credex/v1/lists_pb.js";
import { ObjectionResolution } from "../gen/credex/v1/objections_pb.js";
import { Purpose, SubjectRequestKind } from "../gen/credex/v1/types_pb.js";
import { signSubjectRequest } from "../client/subject-request.js";
import { errorInfoOf } from "../adapters/grpc/rich-status.js";
import type { ListSubscription } from "../client/exchange-client.js";
import { demoQuery, type DemoExchange, type DemoStep } from "./demo-script.js";
import type { Federation } from "./federation.js";
import { DEMO_SUBJECTS } from "./synthetic-data.js";

const debtor = DEMO_SUBJECTS.logisticsFirm;
const WAIT_MS = 10_000;

/** A demo subscriber: collects live entries and lets the script wait for one. */
function watch(federation: Federation, agency: string, listIds: string[]) {
  const entries: ListEntry[] = [];
  let ready!: () => void;
  const snapshotDone = new Promise<void>((resolve) => (ready = resolve));
  const subscription: ListSubscription = federation.client(agency).subscribeLists({ listIds }, (m) => {
    if (m.phase === SubscribePhase.SNAPSHOT_COMPLETE) ready();
    if (m.phase === SubscribePhase.LIVE) entries.push(...m.entries);
  });
  subscription.ended.catch(() => ready());
  const waitFor = async (match: (e: ListEntry) => boolean) => {
    const deadline = Date.now() + WAIT_MS;
    while (!entries.some(match) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return entries.some(match);
  };
  return { agency, snapshotDone, waitFor, subscription };
}

function row(title: string, requester: string, categories: string[], outcome: string, perAgency: string, started: number, asExpected: boolean, purpose = "ENFORCEMENT"): DemoExchange {
  return { title, requester, purpose, categories, outcome, perAgency, latencyMs: performance.now() - started, asExpected };
}

function reasonOf(err: unknown): string {
  const e = err as ServiceError;
  return `${GrpcStatus[e.code] ?? e.code} ${errorInfoOf(e)?.reason ?? ""}`.trim();
}

/** The firm's written request to object to one record, attested by the agency that collected it. */
function subjectRequest(f: Federation, agency: string, ownerAgency: string, recordId: string) {
  const now = Date.now();
  return signSubjectRequest(
    {
      kind: SubjectRequestKind.OBJECTION,
      requestId: `demo-objection-request-${now}`,
      subject: debtor,
      ownerAgency,
      recordId,
      grantedAt: timestampFromDate(new Date(now - 60_000)),
      expiresAt: timestampFromDate(new Date(now + 30 * 86_400_000)),
      requesterAgency: agency,
    },
    readFileSync(f.pki.agencies[agency]!.client.key),
  );
}

/**
 * Lists and objections in the demo: a joint punishment list entry published,
 * received by two members, withdrawn; an objection filed, seen disputed, a
 * non-owner's answer refused, the owner's answer delivered to the filer only,
 * correction notices to the record's recipients only, the mark cleared.
 */
export const LIST_AND_OBJECTION_STEPS: readonly DemoStep[] = [
  {
    title: "joint punishment list",
    run: async (f) => {
      const rows: DemoExchange[] = [];
      const watchers = [watch(f, "pbccrc", ["dishonest_debtors"]), watch(f, "csrc", ["dishonest_debtors"])];
      await Promise.all(watchers.map((w) => w.snapshotDone));
      const publisher = f.client("sh-credit");
      const lists = ["dishonest_debtors"];

      let started = performance.now();
      const { entryIds } = await publisher.publishListEntries({
        entries: [{ listId: "dishonest_debtors", subject: debtor, kind: ListEntryKind.ENTRY, measure: "restriction on high consumption", legalBasis: "(2025)黑01执123号" }],
      });
      const got = await Promise.all(watchers.map((w) => w.waitFor((e) => e.entryId === entryIds[0])));
      rows.push(row("regional platform publishes a dishonest-debtor entry; two regulators receive it live", "sh-credit", lists, "published",
        watchers.map((w, i) => `${w.agency}:${got[i] ? "received" : "MISSING"}`).join("  "), started, got.every(Boolean)));

      started = performance.now();
      const withdrawal = await publisher.publishListEntries({
        entries: [{ listId: "dishonest_debtors", subject: debtor, kind: ListEntryKind.WITHDRAWAL, withdrawalReason: WithdrawalReason.CREDIT_REPAIR }],
      });
      const gone = await Promise.all(watchers.map((w) => w.waitFor((e) => e.entryId === withdrawal.entryIds[0] && e.kind === ListEntryKind.WITHDRAWAL)));
      rows.push(row("…the debt is paid: the entry is withdrawn (credit repair)", "sh-credit", lists, "withdrawn",
        watchers.map((w, i) => `${w.agency}:${gone[i] ? "withdrawal received" : "MISSING"}`).join("  "), started, gone.every(Boolean)));
      watchers.forEach((w) => w.subscription.cancel());

      started = performance.now();
      const denied = f.client("sh-credit").subscribeLists({ listIds: ["financial_fraud_watch"] }, () => undefined);
      const outcome = await denied.ended.then(() => "stream ended", reasonOf);
      rows.push(row("regional platform asks for the financial fraud watch list", "sh-credit", ["financial_fraud_watch"], outcome, "", started, outcome.endsWith("LIST_NOT_PERMITTED")));
      return rows;
    },
  },
  {
    title: "objection (Art. 25)",
    run: async (f) => {
      const rows: DemoExchange[] = [];
      const query = { subject: debtor, categories: ["dishonest_debtor"], purpose: Purpose.SUPERVISION };
      const disputed = (want: boolean) => (r: Awaited<ReturnType<ReturnType<Federation["client"]>["query"]>>) =>
        r.results.some((x) => x.agencyId === "sh-credit" && x.records.some((rec) => rec.recordId === "sh-D-0005" && rec.disputed === want));

      let started = performance.now();
      let objectionId = "";
      let outcome: string;
      // No standing: csrc never received the record and holds no request of the firm. The answer is that of a record that does not exist.
      outcome = await f
        .client("csrc")
        .fileObjection({ recordId: "sh-D-0005", ownerAgency: "sh-credit", subject: debtor, grounds: "disputing at will" })
        .then(() => "filed", reasonOf);
      rows.push(row("an agency with no standing objects to the firm's record: answered as for a record that does not exist", "csrc", ["dishonest_debtor"], outcome, "", started,
        outcome === "NOT_FOUND RECORD_NOT_FOUND", "SUBJECT_REQUEST"));

      started = performance.now();
      try {
        const { objection } = await f.client("pbccrc").fileObjection({
          recordId: "sh-D-0005",
          ownerAgency: "sh-credit",
          subject: debtor,
          grounds: "the judgment debt was paid in full",
          subjectRequest: subjectRequest(f, "pbccrc", "sh-credit", "sh-D-0005"),
        });
        objectionId = objection!.objectionId;
        outcome = `filed, answer due in ${f.gateway.members.objections.daysLeft(objection!)} days`;
      } catch (err) {
        outcome = reasonOf(err);
      }
      rows.push(row("bank files an objection with the firm's signed request naming the record; routed to the record's owner", "pbccrc", ["dishonest_debtor"], outcome,
        `sh-credit:${f.agencies.get("sh-credit")!.objections.some((o) => o.objectionId === objectionId) ? "received" : "MISSING"}`, started, objectionId !== "", "SUBJECT_REQUEST"));
      rows.push(await demoQuery(f, "…the record is now released marked disputed", "pbccrc", query, "OK", disputed(true)));
      // csrc receives the record too: the audit of this exchange makes it a recipient to notify of a correction.
      rows.push(await demoQuery(f, "…a securities regulator receives it as well (marked disputed)", "csrc", query, "OK", disputed(true)));

      started = performance.now();
      outcome = await f
        .client("csrc")
        .resolveObjection({ objectionId, resolution: ObjectionResolution.MARK_REMOVED, statement: "nothing wrong here" })
        .then(() => "resolved", reasonOf);
      rows.push(row("an agency that does not own the record tries to answer the objection", "csrc", ["dishonest_debtor"], outcome, "", started, outcome === "PERMISSION_DENIED OBJECTION_NOT_OWNER", "SUBJECT_REQUEST"));

      started = performance.now();
      try {
        const { objection } = await f.client("sh-credit").resolveObjection({ objectionId, resolution: ObjectionResolution.CORRECTED, statement: "court confirmed payment; the record now shows the debt fulfilled" });
        outcome = `resolved ${ObjectionResolution[objection!.resolution]}`;
      } catch (err) {
        outcome = reasonOf(err);
      }
      rows.push(row("the owner answers: record corrected", "sh-credit", ["dishonest_debtor"], outcome, "", started, outcome === "resolved CORRECTED", "SUBJECT_REQUEST"));

      // Art. 25: the answer reaches the agency that filed the objection, and only it.
      started = performance.now();
      const answersOf = async (agency: string) => (await f.client(agency).listObjectionAnswers({})).answers.filter((a) => a.objection?.objectionId === objectionId);
      const [filer, other] = await Promise.all([answersOf("pbccrc"), answersOf("csrc")]).catch((err: unknown) => [[], [], reasonOf(err)] as const);
      const answer = filer[0];
      outcome = answer ? `${ObjectionResolution[answer.objection!.resolution]}: "${answer.statement}"` : "no answer";
      rows.push(row("the bank polls for the answer to its objection; another agency polls too", "pbccrc", ["dishonest_debtor"], outcome,
        `pbccrc:${filer.length} answer  csrc:${other.length} answers`, started, answer?.objection?.resolution === ObjectionResolution.CORRECTED && other.length === 0, "SUBJECT_REQUEST"));

      // PIPL Art. 46: agencies the audit shows received the record in the last 90 days are told of the correction; others are not.
      started = performance.now();
      const noticed = await Promise.all(
        ["pbccrc", "csrc", "nfra"].map(async (agency) => {
          const { notices } = await f.client(agency).listCorrectionNotices({});
          return [agency, notices.filter((n) => n.ownerAgency === "sh-credit" && n.recordId === "sh-D-0005").length] as const;
        }),
      ).catch((err: unknown) => reasonOf(err));
      const got = typeof noticed === "string" ? {} : Object.fromEntries(noticed);
      rows.push(row("correction notices: to the agencies that received the record (bank, securities regulator), not to one that never did", "csrc", ["dishonest_debtor"],
        typeof noticed === "string" ? noticed : "delivered", typeof noticed === "string" ? "" : noticed.map(([a, n]) => `${a}:${n ? "notice" : "none"}`).join("  "), started,
        got["pbccrc"] === 1 && got["csrc"] === 1 && got["nfra"] === 0, "SUBJECT_REQUEST"));
      rows.push(await demoQuery(f, "…the disputed mark is cleared", "pbccrc", query, "OK", disputed(false)));
      return rows;
    },
  },
];
