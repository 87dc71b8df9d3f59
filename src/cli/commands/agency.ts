import { parseCommandArgs, readCertificateOption, requireOption, UsageError, type CliCommand } from "../command.js";
import { loadDataset } from "../../agency/dataset.js";
import { startReferenceAgency } from "../../agency/reference-agency.js";
import { loadProviderCeiling } from "../../config/provider-ceiling-file.js";
import { ConfigError } from "../../config/config-reader.js";

export const command: CliCommand = {
  name: "agency",
  summary: "run a reference agency (a CreditProvider serving a dataset)",
  help: `credex agency serve --agency <id> --data <file> --cert <pem> --key <pem> --ca <pem>
                   --ceiling <file> [--crl <pem>]… [--listen 127.0.0.1:0] [--trust-domain credex.example]

Serves CreditProvider over mTLS from a dataset file (protobuf JSON of
credex.v1.FetchResponse: {"records": [...]}). Only the gateway may call it:
its client certificate must carry exactly spiffe://<trust-domain>/gateway,
be issued for client authentication, and not be revoked by a --crl file
(checked on every call; the handshake completes so the refusal carries a reason). The files are re-read when
they change; a set with a stale or unsigned CRL is refused and the previous
one kept. Refusals are logged as JSON lines on stderr.

  --ceiling   the agency's own ceiling (YAML or JSON): the highest level it
              releases per category, for every requester and per requesting
              agency, whatever the gateway asks; a category not listed is
              never released:
                categories: { forex_violation: 3, forex_registration: 2 }
                requesters: { csrc: { forex_violation: 1 } }
  --crl       a CRL file (repeatable): give the root's and the issuing CA's

Prints the address it listens on.

example (with the files of \`credex demo --keep --dir /tmp/fed\`):
  credex agency serve --agency safe --data /tmp/fed/data/safe.json \\
    --cert /tmp/fed/pki/agencies/safe-server.crt --key /tmp/fed/pki/agencies/safe-server.key \\
    --ca /tmp/fed/pki/ca-bundle.pem --crl /tmp/fed/pki/root-crl.pem --crl /tmp/fed/pki/crl.pem \\
    --ceiling safe-ceiling.yaml --listen 127.0.0.1:7701
`,
  async run(argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        agency: { type: "string" },
        data: { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        ca: { type: "string" },
        crl: { type: "string", multiple: true },
        ceiling: { type: "string" },
        listen: { type: "string" },
        "trust-domain": { type: "string" },
      },
      true,
    );
    if (!args) return 0;
    if (args.positionals[0] !== "serve") throw new UsageError(`expected "serve", got ${args.positionals[0] ? `"${args.positionals[0]}"` : "nothing"}`);
    const agencyId = requireOption(args.values.agency, "agency");
    const records = loadDataset(requireOption(args.values.data, "data"));
    let ceiling;
    try {
      ceiling = loadProviderCeiling(requireOption(args.values.ceiling, "ceiling"));
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(`invalid ceiling: ${err.message}`);
      throw err;
    }
    const crl = args.values.crl ?? [];
    readCertificateOption("cert", requireOption(args.values.cert, "cert"));
    readCertificateOption("ca", requireOption(args.values.ca, "ca"));
    const agency = await startReferenceAgency({
      agencyId,
      trustDomain: args.values["trust-domain"] ?? "credex.example",
      listen: args.values.listen ?? "127.0.0.1:0",
      tls: { cert: requireOption(args.values.cert, "cert"), key: requireOption(args.values.key, "key"), ca: requireOption(args.values.ca, "ca"), ...(crl.length > 0 ? { crl } : {}) },
      records,
      ceiling,
      // Objections (Art. 25) are logged without the subject id or grounds; answer with `credex objections resolve`.
      onObjection: (o) =>
        process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: "agency", agency: agencyId, msg: "objection received", objection: o.objectionId, record: o.recordId, filedBy: o.filedBy })}\n`),
    });
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: "agency", agency: agencyId, address: agency.address, records: records.length })}\n`);
    await new Promise<void>((done) => {
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
    await agency.stop();
    return 0;
  },
};
