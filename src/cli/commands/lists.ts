import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ListEntryKind, ListEntrySchema, SubscribePhase, WithdrawalReason, type ListEntry, type SubscribeListsResponse } from "../../gen/credex/v1/lists_pb.js";
import { Level, SubjectType } from "../../gen/credex/v1/types_pb.js";
import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";
import { federationClient, reportRefusal, subjectTypeOf } from "../federation-client.js";

const REASONS = ["CREDIT_REPAIR", "EXPIRED", "CORRECTION", "OTHER"] as const;

export const command: CliCommand = {
  name: "lists",
  summary: "publish, watch and show joint reward and punishment lists",
  help: `credex lists publish --dir <dir> --as <agency> --list <id> --subject <id> [--subject-type legal|natural|org]
                     (--measure <text> --legal-basis <text> [--from <ISO date>] [--to <ISO date>] [--level 1-4]
                      | --withdraw --reason ${REASONS.join("|")})
credex lists watch   --dir <dir> --as <agency> [--list <id,…>] [--cursor <c> | --cursor-file <file>] [--count <n>] [--json]
credex lists show    --dir <dir> --as <agency> [--list <id,…>] [--json]

Joint reward and punishment lists (Planning Outline §4(1)) over the gateway of a
federation started with \`credex demo --keep --dir <dir>\`, as <agency> (its
certificate from <dir>/federation.json). Which lists exist and who owns them:
policies/lists.yaml; who may receive them: policies/policy.csv (action subscribe).

  publish   publish one entry, or (--withdraw) take a subject off a list
  watch     stream entries as they are published. Without a cursor it starts with
            the current state of the lists (SNAPSHOT), then follows them live.
            --cursor-file is read at start (if it exists) and rewritten after
            every message, so a watch stopped and started again resumes exactly
            where it stopped: nothing missed, nothing repeated.
            --count stops after that many entries (at the first resumable point
            after them: the snapshot is never cut short).
  show      print the current state of the lists and exit

--json prints JSON: watch one object per line ({phase, entry}); show one array of the
current entries ([] when the lists are empty), so a script can always parse it.

exit codes: 0 ok, 1 refused (gRPC status and ErrorInfo reason printed), 2 usage

examples:
  credex lists publish --dir /tmp/fed --as sh-credit --list dishonest_debtors \\
      --subject 91230184MA1BUFLT44 --measure "restriction on high consumption" \\
      --legal-basis "(2025)黑01执123号" --to 2029-01-01
  credex lists watch --dir /tmp/fed --as pbccrc --list dishonest_debtors --cursor-file /tmp/pbccrc.cursor
  credex lists publish --dir /tmp/fed --as sh-credit --list dishonest_debtors \\
      --subject 91230184MA1BUFLT44 --withdraw --reason CREDIT_REPAIR
  credex lists show --dir /tmp/fed --as csrc --json
`,
  async run(argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        dir: { type: "string" },
        as: { type: "string" },
        list: { type: "string" },
        subject: { type: "string" },
        "subject-type": { type: "string" },
        measure: { type: "string" },
        "legal-basis": { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        level: { type: "string" },
        withdraw: { type: "boolean" },
        reason: { type: "string" },
        cursor: { type: "string" },
        "cursor-file": { type: "string" },
        count: { type: "string" },
        json: { type: "boolean" },
      },
      true,
    );
    if (!args) return 0;
    const [verb, ...extra] = args.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const v = args.values;
    const client = federationClient(requireOption(v.dir, "dir"), requireOption(v.as, "as"));
    const lists = v.list ? v.list.split(",").map((s) => s.trim()).filter(Boolean) : [];
    try {
      switch (verb) {
        case "publish": {
          const listId = lists.length === 1 ? lists[0]! : (() => { throw new UsageError("publish needs exactly one --list"); })();
          const subject = { type: subjectTypeOf(v["subject-type"]), id: requireOption(v.subject, "subject") };
          const entry = v.withdraw
            ? { listId, subject, kind: ListEntryKind.WITHDRAWAL, withdrawalReason: reasonOf(requireOption(v.reason, "reason")) }
            : {
                listId,
                subject,
                kind: ListEntryKind.ENTRY,
                measure: requireOption(v.measure, "measure"),
                legalBasis: requireOption(v["legal-basis"], "legal-basis"),
                effectiveFrom: v.from ? timestampFromDate(dateOf(v.from, "from")) : undefined,
                effectiveTo: v.to ? timestampFromDate(dateOf(v.to, "to")) : undefined,
                level: v.level ? levelOf(v.level) : Level.UNSPECIFIED,
              };
          const response = await client.publishListEntries({ entries: [entry] });
          process.stdout.write(v.json ? `${JSON.stringify({ entryIds: response.entryIds })}\n` : `published ${response.entryIds.join(", ")}\n`);
          return 0;
        }
        case "watch":
        case "show":
          return await watch(client, lists, verb === "show", v);
        default:
          throw new UsageError(verb === undefined ? "missing subcommand: publish, watch or show" : `unknown subcommand "${verb}" (publish, watch or show)`);
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      return reportRefusal(err, v.json);
    } finally {
      client.close();
    }
  },
};

async function watch(
  client: ReturnType<typeof federationClient>,
  lists: string[],
  showOnly: boolean,
  v: { cursor?: string | undefined; "cursor-file"?: string | undefined; count?: string | undefined; json?: boolean | undefined },
): Promise<number> {
  const cursorFile = v["cursor-file"];
  let cursor = v.cursor ?? "";
  if (cursorFile && !v.cursor) {
    try {
      cursor = readFileSync(cursorFile, "utf8").trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  if (showOnly && cursor !== "") throw new UsageError("show prints the current state: no cursor");
  const limit = v.count !== undefined ? Number(v.count) : Infinity;
  if (!(limit > 0)) throw new UsageError("--count must be a positive number");
  let received = 0;
  let stopping = false;
  // show --json prints one array at the end: an empty state is `[]`, not silence.
  const snapshot: unknown[] | undefined = showOnly && v.json ? [] : undefined;
  const subscription = client.subscribeLists({ listIds: lists, cursor }, (message: SubscribeListsResponse) => {
    if (stopping) return;
    for (const entry of message.entries) {
      if (snapshot) {
        snapshot.push(toJson(ListEntrySchema, entry));
        continue;
      }
      process.stdout.write(v.json ? `${JSON.stringify({ phase: SubscribePhase[message.phase], entry: toJson(ListEntrySchema, entry) })}\n` : `${formatEntry(message.phase, entry)}\n`);
    }
    received += message.entries.length;
    // The cursor is saved after the entries are printed: a crash in between repeats, never loses.
    if (message.cursor !== "" && cursorFile) {
      writeFileSync(`${cursorFile}.tmp`, `${message.cursor}\n`);
      renameSync(`${cursorFile}.tmp`, cursorFile);
    }
    if (message.phase === SubscribePhase.SNAPSHOT_COMPLETE && !v.json) process.stderr.write(`— current state complete (${received} entries); ${showOnly ? "done" : "following live"}\n`);
    // --count stops only where a cursor was saved: a snapshot cut short could not be resumed.
    if ((showOnly && message.phase === SubscribePhase.SNAPSHOT_COMPLETE) || (received >= limit && message.cursor !== "")) {
      stopping = true;
      subscription.cancel();
    }
  });
  const stop = () => {
    stopping = true;
    subscription.cancel();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await subscription.ended;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  if (snapshot) process.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
  return 0;
}

function formatEntry(phase: SubscribePhase, e: ListEntry): string {
  const subject = `${SubjectType[e.subject?.type ?? 0]}:${e.subject?.id ?? ""}`;
  const when = e.effectiveTo ? ` until ${timestampDate(e.effectiveTo).toISOString().slice(0, 10)}` : "";
  const what = e.kind === ListEntryKind.WITHDRAWAL ? `WITHDRAWN (${WithdrawalReason[e.withdrawalReason]})` : `${e.measure} — ${e.legalBasis}${when}`;
  return `[${SubscribePhase[phase].toLowerCase()}] ${e.listId}  ${subject}  ${what}  (by ${e.ownerAgency}, level ${e.level}, ${e.entryId})`;
}

function reasonOf(name: string): WithdrawalReason {
  const upper = name.toUpperCase().replaceAll("-", "_");
  if (!(REASONS as readonly string[]).includes(upper)) throw new UsageError(`--reason must be one of ${REASONS.join(", ")}`);
  return WithdrawalReason[upper as (typeof REASONS)[number]];
}

function levelOf(text: string): Level {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 4) throw new UsageError("--level must be 1, 2, 3 or 4");
  return n as Level;
}

function dateOf(text: string, name: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} is not a date (ISO 8601, e.g. 2029-01-01)`);
  return d;
}
