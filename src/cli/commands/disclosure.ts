import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";

const HELP = `usage: credex disclosure serve   --config <gateway.yaml> [--listen 127.0.0.1:<port>]
       credex disclosure publish --dir <dir> --as <agency> --category <id> --subject <id> [--subject-type legal|natural|org]
                                 --name <text> --title <text> --number <text> --decided <YYYY-MM-DD>
                                 --department <text> --legal-basis <text>
       credex disclosure correct --dir <dir> --as <agency> --entry <id> --reason <text> (the publish options)
       credex disclosure withdraw --dir <dir> --as <agency> --category <id> --entry <id> --reason <text>

The public disclosure feed and site (双公示; docs/disclosure.md).

  serve     runs the public disclosure site: a read-only HTTP service showing the
            level-1 entries of the disclosure feed, with search by USCC or name, a
            page per subject, and JSON and Atom feeds. It reads the feed the gateway
            config names (disclosure.kafka, else the embedded file log as it is at
            start), verifies every record against the CA bundle of tls.ca, and loads
            the catalogues of policy.categories and policy.disclosure. It reads no
            private key and never calls the exchange. Loopback only: publish it
            through a reverse proxy.
  publish   publishes one decision (CreditExchange.PublishDisclosures) as <agency>
            of a federation started with \`credex demo --keep --dir <dir>\`; prints
            the entry id and the working days from decision to publication
  correct   replaces the content of one of <agency>'s entries
  withdraw  takes one of <agency>'s entries off the feed early (credit repair)

options:
  --config <file>    the gateway config (serve)
  --listen <addr>    127.0.0.1:<port> (default: disclosure.site.listen, 127.0.0.1:8088)
  --decided <date>   the decision date, read as midnight China Standard Time

exit codes: 0 ok, 1 refused (gRPC status and ErrorInfo reason printed), 2 usage

examples:
  credex disclosure serve --config /tmp/fed/gateway.yaml --listen 127.0.0.1:8088
  credex disclosure publish --dir /tmp/fed --as sh-credit --category administrative_penalty \\
      --subject 91310110666007217T --name "Example Trading Co." --title "Fine of CNY 20,000" \\
      --number "沪市监罚〔2026〕123号" --decided 2026-12-01 \\
      --department "Shanghai Administration for Market Regulation" --legal-basis "Advertising Law Art. 55"
  credex disclosure withdraw --dir /tmp/fed --as sh-credit --category administrative_penalty \\
      --entry <entry id> --reason "obligation fulfilled (credit repair)"
`;

export const command: CliCommand = {
  name: "disclosure",
  summary: "publish to the public disclosure feed, and serve the public disclosure site (read-only, level-1 data)",
  help: HELP,
  async run(argv) {
    const parsed = parseCommandArgs(
      this,
      argv,
      {
        config: { type: "string" },
        listen: { type: "string" },
        dir: { type: "string" },
        as: { type: "string" },
        category: { type: "string" },
        subject: { type: "string" },
        "subject-type": { type: "string" },
        name: { type: "string" },
        title: { type: "string" },
        number: { type: "string" },
        decided: { type: "string" },
        department: { type: "string" },
        "legal-basis": { type: "string" },
        entry: { type: "string" },
        reason: { type: "string" },
      },
      true,
    );
    if (parsed === null) return 0;
    const [action, ...extra] = parsed.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const v = parsed.values;
    switch (action) {
      case "serve":
        return serve(requireOption(v.config, "config"), v.listen);
      case "publish":
      case "correct":
      case "withdraw": {
        const { federationClient, reportRefusal, subjectTypeOf } = await import("../federation-client.js");
        const { DisclosureAction } = await import("../../gen/credex/v1/disclosure_pb.js");
        const { timestampFromDate } = await import("@bufbuild/protobuf/wkt");
        const client = federationClient(requireOption(v.dir, "dir"), requireOption(v.as, "as"));
        const category = requireOption(v.category, "category");
        const entry =
          action === "withdraw"
            ? { action: DisclosureAction.WITHDRAW, category, entryId: requireOption(v.entry, "entry"), reason: requireOption(v.reason, "reason") }
            : {
                action: action === "publish" ? DisclosureAction.PUBLISH : DisclosureAction.CORRECT,
                category,
                subject: { type: subjectTypeOf(v["subject-type"]), id: requireOption(v.subject, "subject") },
                subjectName: requireOption(v.name, "name"),
                title: requireOption(v.title, "title"),
                decisionNumber: requireOption(v.number, "number"),
                decisionDate: timestampFromDate(decisionDate(requireOption(v.decided, "decided"))),
                sourceDepartment: requireOption(v.department, "department"),
                legalBasis: requireOption(v["legal-basis"], "legal-basis"),
                ...(action === "correct" ? { entryId: requireOption(v.entry, "entry"), reason: requireOption(v.reason, "reason") } : {}),
              };
        try {
          const r = await client.publishDisclosures({ entries: [entry] });
          process.stdout.write(action === "withdraw" ? `withdrawn ${r.entryIds[0]}\n` : `${r.entryIds[0]} (${r.lagWorkingDays[0]} working days from decision to publication)\n`);
          return 0;
        } catch (err) {
          return reportRefusal(err, false);
        } finally {
          client.close();
        }
      }
      case undefined:
        throw new UsageError("an action is required: serve, publish, correct or withdraw");
      default:
        throw new UsageError(`unknown action "${action}" (expected serve, publish, correct or withdraw)`);
    }
  },
};

/** YYYY-MM-DD as midnight China Standard Time (decisions are dated in China); a date that does not exist is refused. */
function decisionDate(text: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00+08:00`) : new Date(Number.NaN);
  // 2026-02-30 parses as NaN in V8; the round trip also catches any date normalised to another day.
  if (Number.isNaN(date.getTime()) || new Date(date.getTime() + 8 * 3_600_000).toISOString().slice(0, 10) !== text) {
    throw new UsageError(`--decided must be a date YYYY-MM-DD, not "${text}"`);
  }
  return date;
}

async function serve(configFile: string, listen: string | undefined): Promise<number> {
  if (listen !== undefined && !/^127\.0\.0\.1:\d{1,5}$/.test(listen)) throw new UsageError(`--listen must be 127.0.0.1:<port> (loopback only), not "${listen}"`);
  const { loadGatewayConfig } = await import("../../config/gateway-config.js");
  const { serveDisclosure } = await import("../../site/serve-disclosure.js");
  const { createJsonLogger } = await import("../../adapters/log/json-logger.js");
  const config = loadGatewayConfig(configFile);
  const site = await serveDisclosure({ config, ...(listen ? { listen } : {}), logger: createJsonLogger({ component: "credex-disclosure", level: "info", write: (line) => void process.stderr.write(line) }) });
  process.stdout.write(`disclosure site: ${site.url}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await site.close();
  return 0;
}
