import { readFileSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { SubjectRequestKind } from "../../gen/credex/v1/types_pb.js";
import { signSubjectRequest } from "../../client/subject-request.js";
import {
  CorrectionNoticeSchema,
  ObjectionAnswerSchema,
  ObjectionResolution,
  ObjectionSchema,
  ObjectionStatus,
  type CorrectionNotice,
  type Objection,
  type ObjectionAnswer,
} from "../../gen/credex/v1/objections_pb.js";
import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";
import { daysLeftUntil } from "../../core/objections/objection-registry.js";
import { federationClient, readFederationAgency, reportRefusal, subjectTypeOf } from "../federation-client.js";

const RESOLUTIONS: Record<string, ObjectionResolution> = {
  corrected: ObjectionResolution.CORRECTED,
  "mark-removed": ObjectionResolution.MARK_REMOVED,
  "both-statements-kept": ObjectionResolution.BOTH_STATEMENTS_KEPT,
  "record-deleted": ObjectionResolution.RECORD_DELETED,
};

const VERBS = ["list", "file", "resolve", "answers", "notices"] as const;

export const command: CliCommand = {
  name: "objections",
  summary: "file, list and resolve objections to credit records; read answers and correction notices (Art. 25)",
  help: `credex objections list    --dir <dir> --as <agency> [--all] [--json]
credex objections file    --dir <dir> --as <agency> --owner <agency> --record <record id>
                          --subject <id> [--subject-type legal|natural|org] --grounds <text>
                          [--subject-request]
credex objections resolve --dir <dir> --as <agency> --id <objection id>
                          --resolution corrected|mark-removed|both-statements-kept|record-deleted
                          [--statement <text>]
credex objections answers --dir <dir> --as <agency> [--after <position>] [--json]
credex objections notices --dir <dir> --as <agency> [--after <position>] [--json]

Objections (Credit Investigation Regulation Art. 25): an agency files one on a
credit subject's behalf; the gateway hands it to the agency that owns the record
(CreditProvider.ReceiveObjection) and from then on releases the record marked
disputed; the owner answers within 20 days. Against the gateway of a federation
started with \`credex demo --keep --dir <dir>\`, as <agency>.

  list      open objections the agency filed or must answer, with days left
            (--all: answered ones too). Negative days: overdue (an incident).
  file      file an objection; prints its id and due date. Standing: the agency
            received the record in an exchange, or --subject-request attaches the
            subject's request naming the record, signed with the agency's key (the
            agency attests it holds it). Without either the answer is that of a
            record that does not exist (NOT_FOUND RECORD_NOT_FOUND).
  resolve   the owner's answer: corrected (mark cleared), mark-removed (upheld:
            record stands, mark cleared), both-statements-kept (mark stays),
            record-deleted (mark cleared); --statement is the written answer the
            filing agency receives. Only the record's owner may answer.
  answers   the owners' answers to objections this agency filed, after a position
            (prints the position to pass as --after next time)
  notices   correction notices: records this agency received in the last 90 days
            (as the audit shows) that their owner corrected or deleted

exit codes: 0 ok, 1 refused (gRPC status and ErrorInfo reason printed), 2 usage

examples:
  credex objections file --dir /tmp/fed --as pbccrc --owner sh-credit --record sh-D-0005 \\
      --subject 91230184MA1BUFLT44 --grounds "the judgment debt was paid in full" --subject-request
  credex objections list --dir /tmp/fed --as sh-credit
  credex objections resolve --dir /tmp/fed --as sh-credit --id <objection id> --resolution corrected
`,
  async run(argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        dir: { type: "string" },
        as: { type: "string" },
        all: { type: "boolean" },
        json: { type: "boolean" },
        owner: { type: "string" },
        record: { type: "string" },
        subject: { type: "string" },
        "subject-type": { type: "string" },
        grounds: { type: "string" },
        "subject-request": { type: "boolean" },
        id: { type: "string" },
        resolution: { type: "string" },
        statement: { type: "string" },
        after: { type: "string" },
      },
      true,
    );
    if (!args) return 0;
    const [verb, ...extra] = args.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const v = args.values;
    if (!VERBS.includes(verb as (typeof VERBS)[number])) {
      throw new UsageError(verb === undefined ? `missing subcommand: ${VERBS.join(", ")}` : `unknown subcommand "${verb}" (${VERBS.join(", ")})`);
    }
    if (v.after !== undefined && !/^\d{1,19}$/.test(v.after)) throw new UsageError(`--after must be a position printed by an earlier call (digits), not "${v.after}"`);
    const afterSequence = BigInt(v.after ?? "0");
    const client = federationClient(requireOption(v.dir, "dir"), requireOption(v.as, "as"));
    try {
      if (verb === "answers") {
        const { answers, lastSequence } = await client.listObjectionAnswers({ afterSequence });
        process.stdout.write(v.json ? `${JSON.stringify({ answers: answers.map((a) => toJson(ObjectionAnswerSchema, a)), lastSequence: lastSequence.toString() }, null, 2)}\n` : formatAnswers(answers, lastSequence));
        return 0;
      }
      if (verb === "notices") {
        const { notices, lastSequence } = await client.listCorrectionNotices({ afterSequence });
        process.stdout.write(v.json ? `${JSON.stringify({ notices: notices.map((n) => toJson(CorrectionNoticeSchema, n)), lastSequence: lastSequence.toString() }, null, 2)}\n` : formatNotices(notices, lastSequence));
        return 0;
      }
      if (verb === "list") {
        const { objections } = await client.listObjections({ includeResolved: v.all ?? false });
        if (v.json) process.stdout.write(`${JSON.stringify(objections.map((o) => ({ ...(toJson(ObjectionSchema, o) as object), daysLeft: daysLeft(o) })), null, 2)}\n`);
        else process.stdout.write(formatObjections(objections));
        return 0;
      }
      if (verb === "file") {
        const ownerAgency = requireOption(v.owner, "owner");
        const recordId = requireOption(v.record, "record");
        const subject = { type: subjectTypeOf(v["subject-type"]), id: requireOption(v.subject, "subject") };
        const now = Date.now();
        const subjectRequest = v["subject-request"]
          ? signSubjectRequest(
              {
                kind: SubjectRequestKind.OBJECTION,
                requestId: `cli-${now}`,
                subject,
                ownerAgency,
                recordId,
                grantedAt: timestampFromDate(new Date(now - 60_000)),
                expiresAt: timestampFromDate(new Date(now + 86_400_000)),
                requesterAgency: v.as!,
              },
              readFileSync(readFederationAgency(v.dir!, v.as!).agency.key),
            )
          : undefined;
        const { objection } = await client.fileObjection({ ownerAgency, recordId, subject, grounds: requireOption(v.grounds, "grounds"), subjectRequest });
        process.stdout.write(v.json ? `${JSON.stringify(toJson(ObjectionSchema, objection!))}\n` : `filed ${objection!.objectionId}: ${objection!.ownerAgency} answers by ${timestampDate(objection!.dueAt!).toISOString()} (${daysLeft(objection!)} days)\n`);
        return 0;
      }
      const resolution = RESOLUTIONS[requireOption(v.resolution, "resolution")];
      if (resolution === undefined) throw new UsageError(`--resolution must be one of ${Object.keys(RESOLUTIONS).join(", ")}`);
      const { objection } = await client.resolveObjection({ objectionId: requireOption(v.id, "id"), resolution, statement: v.statement ?? "" });
      process.stdout.write(v.json ? `${JSON.stringify(toJson(ObjectionSchema, objection!))}\n` : `resolved ${objection!.objectionId}: ${ObjectionResolution[objection!.resolution]}\n`);
      return 0;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      return reportRefusal(err, v.json);
    } finally {
      client.close();
    }
  },
};

/** Days left before the answer is due; negative once overdue. */
export function daysLeft(o: Objection, now: Date = new Date()): number {
  return daysLeftUntil(timestampDate(o.dueAt!), now);
}

export function formatObjections(objections: readonly Objection[], now: Date = new Date()): string {
  if (objections.length === 0) return "no objections\n";
  const rows = objections.map((o) => {
    const left = daysLeft(o, now);
    const state = o.status === ObjectionStatus.OPEN ? (left < 0 ? `OVERDUE by ${-left} days` : `${left} days left`) : `resolved: ${ObjectionResolution[o.resolution]}`;
    return `${o.objectionId}  record ${o.recordId} (owner ${o.ownerAgency}, filed by ${o.filedBy}, ${timestampDate(o.filedAt!).toISOString().slice(0, 10)})  ${state}`;
  });
  return `${rows.join("\n")}\n`;
}

export function formatAnswers(answers: readonly ObjectionAnswer[], lastSequence: bigint): string {
  const rows = answers.map((a) => {
    const o = a.objection!;
    return `${o.objectionId}  record ${o.recordId} (owner ${o.ownerAgency})  ${ObjectionResolution[o.resolution]} ${timestampDate(o.resolvedAt!).toISOString()}${a.statement === "" ? "" : `\n    ${a.statement}`}`;
  });
  return `${rows.length === 0 ? "no new answers" : rows.join("\n")}\nposition ${lastSequence} (pass --after ${lastSequence} next time)\n`;
}

export function formatNotices(notices: readonly CorrectionNotice[], lastSequence: bigint): string {
  const rows = notices.map(
    (n) => `${n.noticeId}  record ${n.recordId} (owner ${n.ownerAgency}) ${ObjectionResolution[n.resolution]} ${timestampDate(n.issuedAt!).toISOString()}; received ${timestampDate(n.receivedAt!).toISOString()}`,
  );
  return `${rows.length === 0 ? "no new notices" : rows.join("\n")}\nposition ${lastSequence} (pass --after ${lastSequence} next time)\n`;
}
