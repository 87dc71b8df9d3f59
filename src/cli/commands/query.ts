import { readFileSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgencyStatus, QueryResponseSchema } from "../../gen/credex/v1/exchange_pb.js";
import { Level, Purpose } from "../../gen/credex/v1/types_pb.js";
import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";
import { signConsent } from "../../client/consent.js";
import { PURPOSES } from "../../core/catalogue.js";
import { AGENCY_CONNECTION_HELP, AGENCY_CONNECTION_OPTIONS, agencyConnection, reportRefusal, subjectTypeOf } from "../federation-client.js";


export const command: CliCommand = {
  name: "query",
  summary: "run one CreditExchange query as an agency",
  help: `credex query (--dir <dir> | --gateway <host:port> --cert <pem> --key <pem> --ca <pem>) --as <agency>
             --subject <id> --categories <a,b,…> --purpose <PURPOSE>
             [--subject-type legal|natural|org] [--consent [--names-sensitive]]
             [--operator <staff id>] [--exemption <id>] [--json]

Runs one query against a gateway as <agency>: the gateway of a demo federation, or any
gateway with the agency's own certificate.

${AGENCY_CONNECTION_HELP}

  --subject-type   legal (USCC, default), natural (resident id) or org (USCC)
  --purpose        one of ${PURPOSES.join(", ")}
  --consent        attach a consent attestation signed with the agency's key,
                   valid one day, covering the subject, purpose and categories
                   (the agency attests it holds the subject's consent, Art. 13)
  --names-sensitive  the consent names the sensitive categories (Art. 14.2)
  --operator       the human operator at the agency who asks (Art. 22; required
                   for natural persons); the audit keeps only a keyed pseudonym
  --exemption      a statutory exemption from consent in the gateway's
                   policies/exemptions.yaml (e.g. court_enforcement)
  --json           print the response (or the error) as JSON

exit codes: 0 answered, 1 refused (the gRPC status and ErrorInfo reason are printed), 2 usage

examples:
  credex query --dir /tmp/fed --as pbccrc --subject 91310110666007217T \\
      --categories administrative_penalty,securities_violation --purpose LOAN_APPROVAL
  credex query --dir /tmp/fed --as pbccrc --subject 11010519491231002X --subject-type natural \\
      --categories income --purpose LOAN_APPROVAL --consent --names-sensitive --operator teller-0042 --json
  credex query --gateway 127.0.0.1:7443 --as pbccrc --cert gw/pki/issued/pbccrc.crt \\
      --key gw/pki/issued/pbccrc.key --ca gw/pki/ca-bundle.pem --crl gw/pki/root-crl.pem \\
      --crl gw/pki/crl.pem --subject 91310110666007217T --categories administrative_penalty \\
      --purpose LOAN_APPROVAL
`,
  async run(argv) {
    const args = parseCommandArgs(this, argv, {
      ...AGENCY_CONNECTION_OPTIONS,
      subject: { type: "string" },
      "subject-type": { type: "string" },
      categories: { type: "string" },
      purpose: { type: "string" },
      consent: { type: "boolean" },
      "names-sensitive": { type: "boolean" },
      operator: { type: "string" },
      exemption: { type: "string" },
      json: { type: "boolean" },
    });
    if (!args) return 0;
    const subjectId = requireOption(args.values.subject, "subject");
    const categories = requireOption(args.values.categories, "categories").split(",").map((c) => c.trim()).filter(Boolean);
    const purposeName = requireOption(args.values.purpose, "purpose").toUpperCase();
    if (!(PURPOSES as readonly string[]).includes(purposeName)) throw new UsageError(`unknown purpose "${purposeName}" (one of ${PURPOSES.join(", ")})`);
    const purpose = Purpose[purposeName as keyof typeof Purpose];
    const subjectType = subjectTypeOf(args.values["subject-type"]);
    const { client, agencyId, keyFile } = agencyConnection(args.values);
    const now = Date.now();
    const consent = args.values.consent
      ? signConsent(
          {
            consentId: `cli-${now}`,
            subject: { type: subjectType, id: subjectId },
            purpose,
            categories,
            grantedAt: timestampFromDate(new Date(now - 60_000)),
            expiresAt: timestampFromDate(new Date(now + 86_400_000)),
            namesSensitiveCategories: args.values["names-sensitive"] ?? false,
            requesterAgency: agencyId,
          },
          readFileSync(keyFile),
        )
      : undefined;
    try {
      const response = await client.query({
        subject: { type: subjectType, id: subjectId },
        categories,
        purpose,
        consent,
        operator: args.values.operator ?? "",
        statutoryExemption: args.values.exemption ?? "",
      });
      if (args.values.json) {
        process.stdout.write(`${JSON.stringify(toJson(QueryResponseSchema, response), null, 2)}\n`);
        return 0;
      }
      process.stdout.write(`exchange ${response.exchangeId} (policy ${response.policyRevision.slice(0, 12)})\n`);
      for (const result of response.results) {
        const withheld = result.withheld.map((w) => `${w.reason}: ${w.records} records, ${w.fields} fields`).join("; ");
        process.stdout.write(`\n${result.agencyId}: ${AgencyStatus[result.status]}${result.detail ? ` (${result.detail})` : ""}${withheld ? ` — withheld ${withheld}` : ""}\n`);
        for (const record of result.records) {
          process.stdout.write(`  ${record.recordId}  ${record.category}  level ${Level[record.level]}${record.disputed ? "  DISPUTED" : ""}\n`);
          for (const field of record.fields) process.stdout.write(`      ${field.name}: ${field.value}\n`);
        }
      }
      return 0;
    } catch (err) {
      return reportRefusal(err, args.values.json);
    } finally {
      client.close();
    }
  },
};
