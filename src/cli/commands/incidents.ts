import { readFileSync } from "node:fs";
import { join } from "node:path";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { parseCommandArgs, readCertificateOption, requireOption, UsageError, type CliCommand } from "../command.js";
import { createAdminClient, type AdminClient } from "../../client/admin-client.js";
import { errorInfoOf } from "../../adapters/grpc/rich-status.js";
import { readIncidentsFile } from "../../adapters/incidents/file-incident-store.js";
import { readIncidentsTopic, INCIDENTS_TOPIC } from "../../adapters/kafka/incident-topic.js";
import { incidentFromMessage } from "../../core/incidents/incident-message.js";
import { matchesFilter } from "../../core/incidents/incident-store.js";
import { INCIDENT_STATES, type Incident, type IncidentState } from "../../core/incidents/incident.js";
import { loadGatewayConfig } from "../../config/gateway-config.js";
import { KAFKA_TLS_OPTIONS, kafkaTlsFromFlags } from "../kafka-tls-flags.js";
import type { FederationManifest } from "../../demo/federation.js";

const HELP = `credex incidents list|show|ack|resolve — security incidents of a gateway

usage:
  credex incidents list [<source>] [--state <state>] [--detector <name>] [--json]
  credex incidents show <id> [<source>] [--json]
  credex incidents ack <id> <admin source> [--note <text>]
  credex incidents resolve <id> <admin source> [--note <text>]

sources (list and show read any one; ack and resolve need the admin API):
  --dir <dir>        a federation of \`credex demo --keep --dir <dir>\`: list/show read
                     its incidents file; ack/resolve call its admin API with the
                     security officer certificate listed in <dir>/federation.json
  --config <file>    a gateway config: its incidents.file
  --file <path>      an incidents file (JSON Lines, one snapshot per line)
  --kafka <brokers>  the incidents topic (--topic, default ${INCIDENTS_TOPIC}); over TLS with
                     --kafka-ca <pem> --kafka-cert <pem> --kafka-key <pem>
  --admin <host:port> --cert <pem> --key <pem> --ca <pem> [--trust-domain <td>] [--totp <code>]
                     the gateway's GatewayAdmin listener with an administrator
                     certificate (spiffe://<td>/admin/<role>/<name>); reading needs
                     the security or audit role, ack/resolve the security role;
                     --totp: the current code of the certificate's enrolled second
                     factor (credex admin totp enroll)

  --state     open, acknowledged, contained, resolved or unresolved
  --detector  e.g. subject-enumeration, denial-burst, certificate-abuse
  --note      recorded on the incident's timeline and in the audit
  --json      print JSON (the incident snapshots)

exit codes: 0 done, 1 refused or not found, 2 usage

examples:
  credex demo --keep --dir /tmp/fed
  credex incidents list --dir /tmp/fed
  credex incidents list --dir /tmp/fed --state unresolved --json
  credex incidents show inc-3f2a… --dir /tmp/fed
  credex incidents ack inc-3f2a… --dir /tmp/fed --note "looking into it"
  credex incidents resolve inc-3f2a… --admin 127.0.0.1:7443 --cert alice.crt --key alice.key \\
      --ca ca-bundle.pem --trust-domain credex.example --note "false positive: batch job"
  credex incidents list --kafka 127.0.0.1:9092
`;

const OPTIONS = {
  dir: { type: "string" },
  config: { type: "string" },
  file: { type: "string" },
  kafka: { type: "string" },
  ...KAFKA_TLS_OPTIONS,
  topic: { type: "string" },
  admin: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  ca: { type: "string" },
  "trust-domain": { type: "string" },
  totp: { type: "string" },
  state: { type: "string" },
  detector: { type: "string" },
  note: { type: "string" },
  json: { type: "boolean" },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string };

export const command: CliCommand = {
  name: "incidents",
  summary: "list, show, acknowledge and resolve security incidents",
  help: HELP,
  async run(argv) {
    const args = parseCommandArgs(this, argv, OPTIONS, true);
    if (!args) return 0;
    const [verb, id, ...extra] = args.positionals;
    const v = args.values as Values;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const state = v.state;
    if (state !== undefined && state !== "unresolved" && !(INCIDENT_STATES as readonly string[]).includes(state)) {
      throw new UsageError(`--state must be one of: ${INCIDENT_STATES.join(", ")}, unresolved`);
    }
    try {
      switch (verb) {
        case "list": {
          if (id !== undefined) throw new UsageError(`list takes no id (got "${id}")`);
          const incidents = (await readIncidents(v)).filter((i) => matchesFilter(i, { state: state as IncidentState | "unresolved" | undefined, detector: v.detector }));
          process.stdout.write(v.json ? `${JSON.stringify(incidents, null, 2)}\n` : formatList(incidents));
          return 0;
        }
        case "show": {
          const wanted = requireId(id);
          const found = (await readIncidents(v, wanted)).find((i) => i.id === wanted);
          if (!found) {
            process.stderr.write(`credex incidents: no incident "${wanted}"\n`);
            return 1;
          }
          process.stdout.write(v.json ? `${JSON.stringify(found, null, 2)}\n` : formatIncident(found));
          return 0;
        }
        case "ack":
        case "resolve": {
          const wanted = requireId(id);
          const client = adminClientOf(v);
          if (!client) throw new UsageError(`${verb} needs the admin API: --dir of a running demo federation, or --admin with --cert, --key and --ca`);
          try {
            const response = await client.call(verb === "ack" ? "acknowledgeIncident" : "resolveIncident", { id: wanted, note: v.note ?? "" });
            const incident = incidentFromMessage(response.incident!);
            process.stdout.write(v.json ? `${JSON.stringify(incident, null, 2)}\n` : `${incident.id} is now ${incident.state}\n`);
            return 0;
          } finally {
            client.close();
          }
        }
        default:
          throw new UsageError(verb === undefined ? "which one: list, show, ack or resolve?" : `unknown subcommand "${verb}" (list, show, ack, resolve)`);
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const e = err as ServiceError;
      if (typeof e.code === "number" && e.details !== undefined) {
        process.stderr.write(`credex incidents: ${GrpcStatus[e.code] ?? e.code} ${errorInfoOf(e)?.reason ?? ""}: ${e.details}\n`);
        return 1;
      }
      // An unreadable file, an unknown topic, an unreachable broker: a message, not a stack trace.
      process.stderr.write(`credex incidents: ${(err as Error).message}\n`);
      return 1;
    }
  },
};

function requireId(id: string | undefined): string {
  if (id === undefined || id === "") throw new UsageError("which incident? give its id");
  return id;
}

function manifestOf(dir: string): FederationManifest {
  try {
    return JSON.parse(readFileSync(join(dir, "federation.json"), "utf8")) as FederationManifest;
  } catch (err) {
    throw new UsageError(`cannot read ${join(dir, "federation.json")}: ${(err as Error).message} (start one with: credex demo --keep --dir ${dir})`);
  }
}

function adminClientOf(v: Values): AdminClient | undefined {
  if (v.admin !== undefined) {
    readCertificateOption("cert", requireOption(v.cert, "cert"));
    readCertificateOption("ca", requireOption(v.ca, "ca"));
    return createAdminClient({
      address: v.admin,
      trustDomain: v["trust-domain"] ?? "credex.example",
      certFile: requireOption(v.cert, "cert"),
      keyFile: requireOption(v.key, "key"),
      caFile: requireOption(v.ca, "ca"),
      totpCode: v.totp,
    });
  }
  if (v.dir !== undefined) {
    const m = manifestOf(v.dir);
    const officer = m.admins?.find((a) => a.role === "security");
    if (!m.admin || !officer) throw new UsageError(`${join(v.dir, "federation.json")} lists no admin API or security officer certificate`);
    return createAdminClient({ address: m.admin, trustDomain: m.trustDomain, certFile: officer.cert, keyFile: officer.key, caFile: m.ca, totpCode: v.totp, totpSecretFile: officer.totpSecret });
  }
  return undefined;
}

async function readIncidents(v: Values, id?: string): Promise<Incident[]> {
  const sources = [v.dir, v.config, v.file, v.kafka, v.admin].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new UsageError("give exactly one source: --dir, --config, --file, --kafka or --admin");
  const tls = kafkaTlsFromFlags(v);
  if (tls && v.kafka === undefined) throw new UsageError("--kafka-ca, --kafka-cert and --kafka-key go with --kafka");
  if (v.file !== undefined) return readIncidentsFile(v.file);
  if (v.config !== undefined) return readIncidentsFile(loadGatewayConfig(v.config).incidents.file);
  if (v.kafka !== undefined) return readIncidentsTopic({ brokers: v.kafka, tls, ...(v.topic ? { topic: v.topic } : {}) });
  if (v.dir !== undefined) {
    const m = manifestOf(v.dir);
    return readIncidentsFile(m.incidents ?? join(v.dir, "incidents", "incidents.jsonl"));
  }
  const client = adminClientOf(v)!;
  try {
    if (id !== undefined) return [incidentFromMessage((await client.call("getIncident", { id })).incident!)];
    return (await client.call("listIncidents", { state: v.state ?? "", detector: v.detector ?? "" })).incidents.map(incidentFromMessage);
  } finally {
    client.close();
  }
}

export function formatList(incidents: readonly Incident[]): string {
  if (incidents.length === 0) return "no incidents\n";
  const rows = [["ID", "STATE", "LEVEL", "CATEGORY", "DETECTOR", "KEY", "EVIDENCE", "OPENED", "REPORT BY"]];
  for (const i of incidents) {
    rows.push([i.id, i.state, i.level, i.category, i.detector, i.key, String(i.evidence.count), i.openedAt, i.reportBy ?? "-"]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return `${rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n")}\n`;
}

export function formatIncident(i: Incident): string {
  const lines = [
    `incident ${i.id}`,
    `  ${i.summary}`,
    `  state ${i.state} · level ${i.level} · category ${i.category} · detector ${i.detector} · key ${i.key}${i.agency ? ` · agency ${i.agency}` : ""}`,
    `  opened ${i.openedAt} on ${i.gatewayInstance}; updated ${i.updatedAt}${i.reportBy ? `; report to the authority by ${i.reportBy}` : ""}`,
    `  evidence: ${i.evidence.count} observations; exchanges ${i.evidence.exchangeIds.slice(-5).join(", ")}${i.evidence.exchangeIds.length > 5 ? ` (last 5 of ${i.evidence.exchangeIds.length})` : ""}`,
    ...(i.evidence.pseudonyms.length ? [`  subject pseudonyms: ${i.evidence.pseudonyms.length} (e.g. ${i.evidence.pseudonyms.slice(0, 3).join(", ")})`] : []),
    ...Object.entries(i.evidence.attributes).map(([k, val]) => `  ${k}: ${val}`),
    "  timeline:",
    ...i.timeline.map((t) => `    ${t.at}  ${t.kind.padEnd(9)} ${t.actor}: ${t.text}`),
  ];
  return `${lines.join("\n")}\n`;
}
