import { readFileSync, writeFileSync } from "node:fs";
import type { AuditEntryHandler } from "../../adapters/audit/audit-source.js";
import { AUDIT_CHECKPOINT_TOPIC, AUDIT_TOPIC } from "../../adapters/kafka/audit-topics.js";
import { generateKeyRing, loadKeyRing, rotateKeyRing, serializeKeyRing, type KeyRing } from "../../core/audit/key-ring.js";
import { decodeSealedRecord, openSealedRecord } from "../../core/audit/seal.js";
import { anchorCertificates } from "../../core/audit/checkpoint.js";
import { createChainVerifier, type ChainBreak, type ChainVerifierOptions } from "../../core/audit/verify-chain.js";
import { CrlError, revocationLookupFromCrls, type RevocationLookup } from "../../adapters/pki/crl-reader.js";
import { verifyResultPathOf, writeVerifyResult } from "../../adapters/audit/verify-result-file.js";
import { createProgress, type ProgressReporter } from "../progress.js";
import { parseCommandArgs, readCertificateOption, requireOption, UsageError, type CliCommand } from "../command.js";
import { KAFKA_TLS_HELP, KAFKA_TLS_OPTIONS, kafkaTlsFromFlags } from "../kafka-tls-flags.js";
import { createAuditEventFilter, parseTime } from "../audit/audit-event-filter.js";
import {
  auditEventCsvHeader,
  auditEventCsvRow,
  auditEventJsonLine,
  auditEventTableHeader,
  auditEventTableRow,
  type OpenedAuditEvent,
} from "../audit/audit-event-format.js";

const HELP = `usage: credex audit <tail|verify|export|keyring> [options]

The security officers' tools for the audit stream (sealed, hash-chained
AuditEvents), read from a local audit file or from Kafka.

  tail     decrypt and list events, filtered (table, or JSON lines with --jsonl);
           --follow keeps printing new ones
  verify   check every chain: gaps, reordering, duplicates, bad hashes, records
           that fail to decrypt, checkpoint signatures, and that signed
           checkpoints cover every record: a chain with no checkpoint, records
           after the last signed one (an unsigned tail), records a checkpoint
           names that are missing or differ, and an announced new chain
           (gateway start --new-audit-chain) fail, with the range affected;
           prints a summary and the first break per chain with its position;
           exit 0 only if all verifies
  export   decrypted events as JSON lines or CSV, for investigations
  keyring  new --out <file> | rotate --key-ring <file> --key-id <id>

source (one of):
  --file <path>                 a file audit log (file sink or spool)
  --brokers <host:port,...>     Kafka (default: $KAFKA_BROKERS)
  --topic <name>                audit topic (default credex.audit.v1)
  --checkpoint-topic <name>     checkpoint topic (default credex.audit-checkpoints.v1)
${KAFKA_TLS_HELP}

options:
  --key-ring <file>     the officer's key ring (needed by tail, export, --subject;
                        verify also checks that every record decrypts when given)
  --cert <pem file>     (verify, repeatable) certificates allowed to sign checkpoints;
                        without --cert or --ca, signatures are not checked and no
                        checkpoint vouches for any record (verify fails)
  --ca <pem file>       (verify, repeatable) also accept a checkpoint signed by the certificate
                        it carries, if that names spiffe://<trust-domain>/gateway and leads to
                        one of these CAs (checkpoints from before and after a rotation)
  --trust-domain <td>   (verify, with --ca) default credex.example
  --crl <pem file>      (verify, with --ca, repeatable) CRLs of those CAs: a checkpoint whose
                        certificate was revoked before it was made is refused, and any checkpoint
                        of a compromised key (keyCompromise, cACompromise, no reason)
  --partial             (verify) the range need not start at sequence 1 (implied by --from)
  --instance <id>       (verify) only this gateway instance's chain and checkpoints (a topic
                        shared by several gateways, or by demo runs with their own key rings)
  --allow-unsigned-tail (verify) WEAKER: for the log of a gateway still writing it, records
                        after the last signed checkpoint (all of a chain's, when it has none
                        yet) are reported as UNVERIFIED instead of failing. They are not
                        vouched for: a key-ring holder can seal and chain such records.
  --result <file>       (verify) where to record the result for the posture check
                        (default: last-verify.json beside --file; with --brokers only when given)
  --from <time> --to <time>   ISO 8601 time range (event received_at)
  --agency <id> --decision allow|deny|none --purpose <name> --category <name>
  --subject <raw id> [--subject-type legal_person|natural_person|other_org]
                        (the pseudonym is computed with the key ring; the raw id is never printed)
  --jsonl               (tail) JSON lines instead of a table
  --last <n>            (tail) only the last n matching events
  --follow, -f          (tail) keep printing new events as they arrive (Ctrl-C ends)
  --format jsonl|csv    (export, default jsonl)
  --out <file>          (export, keyring new) write there instead of stdout

examples:
  credex audit verify --file .credex/audit.log --key-ring keys.json --cert certs/gateway.pem
  credex audit verify --brokers 127.0.0.1:9092 --key-ring keys.json --cert certs/gateway.pem
  credex audit verify --brokers 127.0.0.1:9092 --key-ring keys.json --cert certs/gateway.pem --instance gw-1
  credex audit verify --file .credex/audit.log --cert certs/gateway.pem --allow-unsigned-tail   # a running gateway's log
  credex audit verify --brokers 127.0.0.1:9092 --key-ring keys.json --ca certs/ca.pem --trust-domain credex.example --crl certs/crl.pem
  credex audit tail --brokers 127.0.0.1:9092 --key-ring keys.json --agency pbc-crc --decision deny
  credex audit tail --file .credex/audit.log --key-ring keys.json --subject 91310110666007217T --jsonl
  credex audit tail -f --brokers 127.0.0.1:9092 --key-ring keys.json --decision deny
  credex audit verify --brokers kafka-bootstrap:9093 --kafka-ca cluster-ca.crt --kafka-cert user.crt --kafka-key user.key --key-ring keys.json --cert certs/gateway.pem
  credex audit export --file .credex/audit.log --key-ring keys.json --format csv --from 2026-11-01T00:00:00Z --out cases.csv
  credex audit keyring new --out keys.json && credex audit keyring rotate --key-ring keys.json --key-id k2
`;

const OPTIONS = {
  file: { type: "string" },
  brokers: { type: "string" },
  ...KAFKA_TLS_OPTIONS,
  topic: { type: "string" },
  "checkpoint-topic": { type: "string" },
  "key-ring": { type: "string" },
  cert: { type: "string", multiple: true },
  ca: { type: "string", multiple: true },
  "trust-domain": { type: "string" },
  crl: { type: "string", multiple: true },
  instance: { type: "string" },
  partial: { type: "boolean" },
  "allow-unsigned-tail": { type: "boolean" },
  result: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  agency: { type: "string" },
  decision: { type: "string" },
  purpose: { type: "string" },
  category: { type: "string" },
  subject: { type: "string" },
  "subject-type": { type: "string" },
  jsonl: { type: "boolean" },
  follow: { type: "boolean", short: "f" },
  last: { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  "key-id": { type: "string" },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K] extends { type: "boolean" } ? boolean : string };

const out = (s: string) => process.stdout.write(s);

/** `credex audit export | head` closes the pipe early: that is the reader's choice, not an error. */
const err = (s: string) => process.stderr.write(s);

/** Scans the chosen source; the Kafka client is loaded only for a Kafka source. */
async function scanSource(
  v: Values,
  from: Date | undefined,
  withCheckpoints: boolean,
  onEntry: AuditEntryHandler,
  progress?: ProgressReporter,
  follow?: AbortSignal,
): Promise<void> {
  const brokers = v.brokers ?? (v.file === undefined ? process.env["KAFKA_BROKERS"] : undefined);
  if (v.file !== undefined && v.brokers !== undefined) throw new UsageError("give either --file or --brokers, not both");
  const tls = kafkaTlsFromFlags(v);
  if (tls && v.file !== undefined) throw new UsageError("--kafka-ca, --kafka-cert and --kafka-key go with --brokers, not --file");
  if (v.file !== undefined) {
    const { followAuditFile, scanAuditFile } = await import("../../adapters/audit/audit-source.js");
    if (follow) return followAuditFile(v.file, onEntry, follow);
    let n = 0;
    await scanAuditFile(v.file, async (e) => {
      n++;
      if (progress && n % 10_000 === 0) progress(n, 0, `${v.file as string}: records`);
      await onEntry(e);
    });
    if (progress && n >= 10_000) progress(n, n, `${v.file}: records`);
    return;
  }
  if (brokers === undefined || brokers === "") throw new UsageError("a source is required: --file <path> or --brokers <host:port> (or $KAFKA_BROKERS)");
  const { scanKafkaAudit } = await import("../../adapters/kafka/kafka-audit-source.js");
  await scanKafkaAudit(
    {
      brokers,
      tls,
      ...(v.topic !== undefined && { topic: v.topic }),
      checkpointTopic: withCheckpoints ? (v["checkpoint-topic"] ?? AUDIT_CHECKPOINT_TOPIC) : null,
      ...(from && { from }),
      ...(follow && { follow }),
      ...(progress && { onProgress: progress }),
    },
    onEntry,
  );
}

function describeBreak(b: ChainBreak): string {
  return `${b.kind}${b.sequence !== undefined ? ` at sequence ${b.sequence}` : ""}: ${b.position}: ${b.detail}`;
}

/** Who may sign checkpoints: --cert pins certificates; --ca (with --trust-domain, --crl) trusts those a checkpoint carries. */
function checkpointSignersOf(v: Values): Pick<ChainVerifierOptions, "certificates" | "signerAnchors"> {
  const certs = (v.cert ?? []).map((f) => readCertificateOption("cert", f));
  if (v["trust-domain"] !== undefined && !v.ca) throw new UsageError("--trust-domain only applies with --ca");
  const caBundles = (v.ca ?? []).map((f) => readCertificateOption("ca", f));
  if (v.crl && !v.ca) throw new UsageError("--crl only applies with --ca");
  let revocation: RevocationLookup | undefined;
  if (v.crl) {
    try {
      revocation = revocationLookupFromCrls(v.crl.map((f) => ({ pem: readFileSync(f, "utf8"), source: f })), anchorCertificates(caBundles), new Date());
    } catch (err) {
      if (err instanceof CrlError) throw new UsageError(err.message);
      throw err;
    }
  }
  const signerAnchors = v.ca ? { ca: caBundles, trustDomain: v["trust-domain"] ?? "credex.example", ...(revocation && { revocation }) } : undefined;
  return { certificates: certs, ...(signerAnchors && { signerAnchors }) };
}

async function verify(v: Values): Promise<number> {
  const ring = v["key-ring"] ? await loadKeyRing(v["key-ring"]) : undefined;
  const from = parseTime(v.from, "from");
  const signers = checkpointSignersOf(v);
  const verifier = createChainVerifier({
    ...(ring && { keyRing: ring }),
    ...signers,
    requireGenesis: !(v.partial || from),
    ...(v.instance !== undefined && { instance: v.instance }),
    allowUnsignedTail: v["allow-unsigned-tail"] === true,
  });
  await scanSource(v, from, true, (e) => {
    if (e.kind === "record") verifier.addRecord(e.bytes, e.position, e.stream);
    else if (e.kind === "checkpoint") verifier.addCheckpoint(e.bytes, e.position);
    else verifier.addMalformed(e.position, e.detail);
  }, createProgress("verify: scanning"));
  const r = verifier.finish();
  out(`records ${r.records}, checkpoints ${r.checkpoints}${r.checkpointsUnchecked ? ` (${r.checkpointsUnchecked} signatures not checked: no --cert or --ca)` : ""}, ${ring ? `decrypted ${r.decrypted}` : "not decrypted (no --key-ring)"}, chains ${r.chains.length}\n`);
  for (const c of r.chains) {
    const range = c.records ? `sequences ${c.firstSequence}..${c.lastSequence}` : "no records";
    out(`chain ${c.instance}: ${range}, ${c.records} records, ${c.checkpoints} checkpoints: ${c.breaks === 0 ? "OK" : `BROKEN (${c.breaks} breaks)`}\n`);
    if (c.firstBreak) out(`  first break: ${describeBreak(c.firstBreak)}\n`);
    if (c.unverified) out(`  UNVERIFIED (--allow-unsigned-tail): sequences ${c.unverified.from}..${c.unverified.to} from ${c.unverified.position} on are not covered by a signed checkpoint\n`);
  }
  for (const b of r.orphanBreaks.slice(0, 20)) out(`unreadable: ${describeBreak(b)}\n`);
  if (r.orphanBreaks.length > 20) out(`unreadable: ${r.orphanBreaks.length - 20} more\n`);
  const unverified = r.unverifiedRecords > 0 ? `, ${r.unverifiedRecords} records UNVERIFIED (not covered by a signed checkpoint)` : "";
  out(r.ok ? `verify: OK${unverified}\n` : `verify: FAILED (${r.totalBreaks} breaks${unverified})\n`);
  // The audit-chain-verified posture control (GB/T 22239-2019 8.1.4.3 c) reads this record.
  const resultFile = v.result ?? (v.file !== undefined ? verifyResultPathOf(v.file) : undefined);
  if (resultFile !== undefined) {
    try {
      await writeVerifyResult(resultFile, r, v.file ?? `kafka ${v.topic ?? AUDIT_TOPIC}`);
      err(`credex audit: result recorded in ${resultFile}\n`);
    } catch (err) {
      process.stderr.write(`credex audit: could not record the result in ${resultFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    }
  }
  return r.ok ? 0 : 1;
}

/** Decrypts and filters events; returns how many could not be opened. */
async function openEvents(v: Values, ring: KeyRing, onEvent: (o: OpenedAuditEvent) => void, follow?: AbortSignal): Promise<number> {
  const filter = createAuditEventFilter(
    { agency: v.agency, decision: v.decision, purpose: v.purpose, category: v.category, subject: v.subject, subjectType: v["subject-type"], from: v.from, to: v.to },
    ring.pseudonymKey,
  );
  let failed = 0;
  await scanSource(v, filter.from, false, (e) => {
    if (e.kind !== "record") return;
    try {
      const record = decodeSealedRecord(e.bytes);
      const event = openSealedRecord(record, ring);
      if (filter.matches(event)) onEvent({ event, position: e.position, instance: record.gatewayInstance, sequence: record.sequence, keyId: record.keyId });
    } catch (x) {
      failed++;
      err(`credex audit: ${e.position}: cannot be opened: ${(x as Error).message}\n`);
    }
  }, follow ? undefined : createProgress("audit: reading"), follow);
  return failed;
}

const byTime = (a: OpenedAuditEvent, b: OpenedAuditEvent) => {
  const ta = a.event.receivedAt ? Number(a.event.receivedAt.seconds) * 1e3 + a.event.receivedAt.nanos / 1e6 : 0;
  const tb = b.event.receivedAt ? Number(b.event.receivedAt.seconds) * 1e3 + b.event.receivedAt.nanos / 1e6 : 0;
  return ta - tb || a.instance.localeCompare(b.instance) || (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0);
};

async function tail(v: Values): Promise<number> {
  const ring = await loadKeyRing(requireOption(v["key-ring"], "key-ring"));
  const last = v.last === undefined ? undefined : Number(v.last);
  if (last !== undefined && (!Number.isInteger(last) || last < 1)) throw new UsageError("--last must be a positive integer");
  if (v.follow) return followTail(v, ring);
  const events: OpenedAuditEvent[] = [];
  // Kafka partitions are read one after another: collect, then order by time.
  const failed = await openEvents(v, ring, (o) => {
    events.push(o);
    if (last !== undefined && v.file !== undefined && events.length > last) events.shift();
  });
  events.sort(byTime);
  const shown = last === undefined ? events : events.slice(-last);
  if (!v.jsonl) out(auditEventTableHeader());
  for (const o of shown) out(v.jsonl ? auditEventJsonLine(o) : auditEventTableRow(o));
  if (failed > 0) err(`credex audit: ${failed} records could not be opened (run credex audit verify)\n`);
  return failed > 0 ? 1 : 0;
}

/** tail --follow: prints matching events as they arrive, until Ctrl-C. */
async function followTail(v: Values, ring: KeyRing): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (!v.jsonl) out(auditEventTableHeader());
    const failed = await openEvents(v, ring, (o) => out(v.jsonl ? auditEventJsonLine(o) : auditEventTableRow(o)), stop.signal);
    return failed > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function exportEvents(v: Values): Promise<number> {
  const ring = await loadKeyRing(requireOption(v["key-ring"], "key-ring"));
  const format = v.format ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") throw new UsageError(`--format must be jsonl or csv, not "${format}"`);
  const chunks: string[] = format === "csv" ? [auditEventCsvHeader()] : [];
  const write = v.out === undefined ? out : (s: string) => void chunks.push(s);
  if (v.out === undefined && format === "csv") out(chunks.pop() as string);
  const failed = await openEvents(v, ring, (o) => write(format === "csv" ? auditEventCsvRow(o) : auditEventJsonLine(o)));
  if (v.out !== undefined) writeFileSync(v.out, chunks.join(""), { mode: 0o600 });
  if (failed > 0) err(`credex audit: ${failed} records could not be opened (run credex audit verify)\n`);
  return failed > 0 ? 1 : 0;
}

async function keyring(v: Values, action: string | undefined): Promise<number> {
  if (action === "new") {
    const text = serializeKeyRing(generateKeyRing(v["key-id"] ?? "k1"));
    if (v.out === undefined) out(text);
    else writeFileSync(v.out, text, { mode: 0o600, flag: "wx" });
    return 0;
  }
  if (action === "rotate") {
    const path = requireOption(v["key-ring"], "key-ring");
    const rotated = rotateKeyRing(await loadKeyRing(path), requireOption(v["key-id"], "key-id"));
    writeFileSync(path, serializeKeyRing(rotated), { mode: 0o600 });
    out(`active key is now ${rotated.activeKeyId}; kept: ${rotated.keyIds.join(", ")}\n`);
    return 0;
  }
  throw new UsageError(`keyring needs an action: new or rotate${action ? ` (not "${action}")` : ""}`);
}

export const command: CliCommand = {
  name: "audit",
  summary: "read, verify and export the audit stream (security officers)",
  help: HELP,
  async run(argv) {
    const parsed = parseCommandArgs(this, argv, OPTIONS, true);
    if (parsed === null) return 0;
    const [sub, ...rest] = parsed.positionals;
    const v = parsed.values as Values;
    if (sub === "keyring") {
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
      return keyring(v, rest[0]);
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    switch (sub) {
      case "verify":
        return verify(v);
      case "tail":
        return tail(v);
      case "export":
        return exportEvents(v);
      case undefined:
        throw new UsageError("a subcommand is required: tail, verify, export or keyring");
      default:
        throw new UsageError(`unknown subcommand "${sub}" (expected tail, verify, export or keyring)`);
    }
  },
};
