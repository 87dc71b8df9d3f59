import { readFileSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ListSubjectQueriesResponseSchema, type ListSubjectQueriesResponse } from "../../gen/credex/v1/subject_queries_pb.js";
import { Purpose, SubjectRequestKind } from "../../gen/credex/v1/types_pb.js";
import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";
import { signSubjectRequest } from "../../client/subject-request.js";
import { federationClient, readFederationAgency, reportRefusal, subjectTypeOf } from "../federation-client.js";

export const command: CliCommand = {
  name: "subject-queries",
  summary: "list the queries made about a subject, on the subject's request (Art. 22; PIPL Art. 45)",
  help: `credex subject-queries --dir <dir> --as <agency> --subject <id> [--subject-type legal|natural|org]
                       [--since <ISO date>] [--json]

Asks the gateway of a federation started with \`credex demo --keep --dir <dir>\`
which agencies queried the subject, when, for which purpose and which
categories. <agency> attests with its certificate key that the subject asked it
to (a signed subject request, valid one day); the gateway reads the answer from
its audit and opens only the subject's records.

  --since    only queries at or after this time (default: the last 365 days)
  --json     print the answer (or the error) as JSON

exit codes: 0 answered, 1 refused (the gRPC status and ErrorInfo reason are printed), 2 usage

example:
  credex subject-queries --dir /tmp/fed --as nfra --subject 11010519491231002X --subject-type natural
`,
  async run(argv) {
    const args = parseCommandArgs(this, argv, {
      dir: { type: "string" },
      as: { type: "string" },
      subject: { type: "string" },
      "subject-type": { type: "string" },
      since: { type: "string" },
      json: { type: "boolean" },
    });
    if (!args) return 0;
    const v = args.values;
    const dir = requireOption(v.dir, "dir");
    const agencyId = requireOption(v.as, "as");
    const subject = { type: subjectTypeOf(v["subject-type"]), id: requireOption(v.subject, "subject") };
    const since = v.since === undefined ? undefined : new Date(v.since);
    if (since && !Number.isFinite(since.getTime())) throw new UsageError(`--since "${v.since}" is not a date (use ISO 8601, e.g. 2026-01-01)`);
    const { agency } = readFederationAgency(dir, agencyId);
    const now = Date.now();
    const subjectRequest = signSubjectRequest(
      {
        kind: SubjectRequestKind.QUERY_HISTORY,
        requestId: `cli-${now}`,
        subject,
        grantedAt: timestampFromDate(new Date(now - 60_000)),
        expiresAt: timestampFromDate(new Date(now + 86_400_000)),
        requesterAgency: agencyId,
      },
      readFileSync(agency.key),
    );
    const client = federationClient(dir, agencyId);
    try {
      const response = await client.listSubjectQueries({ subject, subjectRequest, ...(since && { since: timestampFromDate(since) }) });
      process.stdout.write(v.json ? `${JSON.stringify(toJson(ListSubjectQueriesResponseSchema, response), null, 2)}\n` : formatSubjectQueries(response));
      return 0;
    } catch (err) {
      return reportRefusal(err, v.json);
    } finally {
      client.close();
    }
  },
};

export function formatSubjectQueries(response: ListSubjectQueriesResponse): string {
  if (response.queries.length === 0) return "no queries about this subject in the window\n";
  const lines = response.queries.map((q) => {
    const when = q.queriedAt ? timestampDate(q.queriedAt).toISOString() : "?";
    const basis = q.statutoryExemption ? `  without consent: ${q.statutoryExemption}` : "";
    return `${when}  ${q.agencyId.padEnd(10)}  ${(Purpose[q.purpose] ?? String(q.purpose)).padEnd(22)}  ${q.answered ? "answered" : "refused "}  [${q.categories.join(", ")}]${basis}`;
  });
  if (response.truncated) lines.push("(more queries matched; the most recent are shown)");
  return `${lines.join("\n")}\n`;
}
