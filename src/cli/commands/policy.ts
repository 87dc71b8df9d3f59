import { join, relative } from "node:path";
import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";
import { KAFKA_TLS_HELP, KAFKA_TLS_OPTIONS, kafkaTlsFromFlags } from "../kafka-tls-flags.js";

const HELP = `usage: credex policy check [dir] [--strict]
       credex policy diff <old-dir> <new-dir> [--agencies <id:SECTOR,...>]
       credex policy apply [dir] (--brokers <host:port,...> [--topic <t>] | --control-file <path>)
                           --signing-key <pem> --signing-cert <pem> [--revision <r>] [--sequence <n>]
                           [--operator <name>]

Operations on the access policy (Casbin model + policy, issue 4). A policy
directory holds model.conf, policy.csv, categories.yaml and tests/*.yaml.

  check   parse model and policy with Casbin, report every error with file and
          line (malformed lines, bad levels, unknown purposes, categories or
          sectors, model edits the gateway cannot compile), rules that can never
          take effect, rules shadowed by others, and run the test cases in
          tests/*.yaml (request -> expected decision or highest level).
          Exit 0 when clean, 1 on any error or failing test (with --strict,
          also on warnings such as shadowed rules).
  diff    every (requester, owner, category, purpose) whose decision differs
          between two policy directories, in words. The registry is the agencies
          of both test registries unless --agencies is given.
          Exit 0 when no decision changes, 1 when some do.
  apply   run check (with the tests) on the directory; if it passes, sign the
          directory as a policy bundle (model, policy, categories, tests,
          revision, sequence, time, operator) and publish it on the control
          topic (credex.control.v1, key policy-bundle/<sequence>). The sequence
          is one above the highest bundle on the channel signed by the signing
          certificate. Every gateway replica verifies the signature, refuses a
          bundle not above every bundle it received (a replayed old one:
          ROLLBACK), compiles it under its registry, runs the tests and swaps
          atomically; a replica that refuses it keeps its policy and reports
          why. A failing check publishes nothing (exit 1).
          The signing certificate must be one the gateways trust for control
          items (a CA certificate of their bundle, e.g. the issuing CA).

options:
  --strict                 check: warnings fail too
  --agencies <list>        diff: registry as id:SECTOR pairs, comma separated
  --brokers <list>         apply: Kafka brokers (default $KAFKA_BROKERS)
  --topic <name>           apply: control topic (default credex.control.v1)
${KAFKA_TLS_HELP}
  --control-file <path>    apply: the file control channel instead of Kafka
  --signing-key <pem>      apply: private key (PEM, unencrypted) of the signing certificate
  --signing-cert <pem>     apply: the signing certificate
  --revision <r>           apply: revision label (default sha256:<16 hex> of the files)
  --sequence <n>           apply: the bundle's sequence (default: one above the highest on the channel);
                           must be above it
  --operator <name>        apply: who applies (default the certificate subject CN)

examples:
  credex policy check
  credex policy check policies --strict
  credex policy diff /tmp/policies-live policies
  credex policy diff old new --agencies pbccrc:BANKING,csrc:SECURITIES
  credex policy apply policies --brokers 127.0.0.1:9092 \
      --signing-key ca/issuing-ca.key --signing-cert ca/issuing-ca.pem --revision 2026-11-26.1
`;

export const command: CliCommand = {
  name: "policy",
  summary: "check a policy directory (errors, dead and shadowed rules, tests), diff two, apply one to every gateway",
  help: HELP,
  async run(argv) {
    const parsed = parseCommandArgs(
      this,
      argv,
      {
        strict: { type: "boolean" },
        agencies: { type: "string" },
        brokers: { type: "string" },
        ...KAFKA_TLS_OPTIONS,
        topic: { type: "string" },
        "control-file": { type: "string" },
        "signing-key": { type: "string" },
        "signing-cert": { type: "string" },
        revision: { type: "string" },
        sequence: { type: "string" },
        operator: { type: "string" },
      },
      true,
    );
    if (parsed === null) return 0;
    const [action, ...args] = parsed.positionals;
    switch (action) {
      case "check": {
        if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
        if (parsed.values.agencies !== undefined) throw new UsageError("--agencies applies to diff only");
        return check(args[0] ?? "policies", parsed.values.strict === true);
      }
      case "diff": {
        if (args.length !== 2) throw new UsageError("diff needs <old-dir> and <new-dir>");
        if (parsed.values.strict !== undefined) throw new UsageError("--strict applies to check only");
        return diff(args[0]!, args[1]!, parsed.values.agencies);
      }
      case "apply": {
        if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
        return apply(args[0] ?? "policies", parsed.values);
      }
      case undefined:
        throw new UsageError("an action is required: check, diff or apply");
      default:
        throw new UsageError(`unknown action "${action}" (expected check, diff or apply)`);
    }
  },
};

interface ApplyValues {
  readonly strict?: boolean | undefined;
  readonly agencies?: string | undefined;
  readonly brokers?: string | undefined;
  readonly "kafka-ca"?: string | undefined;
  readonly "kafka-cert"?: string | undefined;
  readonly "kafka-key"?: string | undefined;
  readonly topic?: string | undefined;
  readonly "control-file"?: string | undefined;
  readonly "signing-key"?: string | undefined;
  readonly "signing-cert"?: string | undefined;
  readonly revision?: string | undefined;
  readonly sequence?: string | undefined;
  readonly operator?: string | undefined;
}

async function apply(dir: string, v: ApplyValues): Promise<number> {
  if (v.agencies !== undefined) throw new UsageError("--agencies applies to diff only");
  const keyFile = requireOption(v["signing-key"], "signing-key");
  const certFile = requireOption(v["signing-cert"], "signing-cert");
  if (v["control-file"] !== undefined && (v.brokers !== undefined || v.topic !== undefined)) throw new UsageError("give either --control-file or --brokers, not both");
  const brokers = v.brokers ?? process.env["KAFKA_BROKERS"];
  if (v["control-file"] === undefined && !brokers) throw new UsageError("apply needs --brokers <host:port,...> (or $KAFKA_BROKERS) or --control-file <file>");
  const tls = kafkaTlsFromFlags(v);
  if (tls && v["control-file"] !== undefined) throw new UsageError("--kafka-ca, --kafka-cert and --kafka-key go with --brokers, not --control-file");
  const { createPrivateKey, X509Certificate } = await import("node:crypto");
  const { readFileSync } = await import("node:fs");
  let certificate: InstanceType<typeof X509Certificate>;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    certificate = new X509Certificate(readFileSync(certFile));
    key = createPrivateKey(readFileSync(keyFile, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot load the signing key or certificate: ${(err as Error).message}`);
  }
  if (!certificate.checkPrivateKey(key)) throw new UsageError("--signing-key does not belong to --signing-cert");
  const wanted = v.sequence === undefined ? undefined : sequenceOption(v.sequence);

  // The same check an operator runs by hand, tests included: a failing bundle never leaves this machine.
  process.stdout.write(`checking ${dir}\n`);
  if ((await check(dir, v.strict === true)) !== 0) {
    process.stderr.write("credex policy apply: the check failed; nothing was published\n");
    return 1;
  }
  const { readPolicyBundle } = await import("../../adapters/casbin/policy-bundle-check.js");
  const { policyBundleItem } = await import("../../core/control/policy-bundle-item.js");
  const { highestPolicySequence } = await import("../../core/control/highest-policy-sequence.js");
  const { signControlItem, encodeControlItem, controlItemKey } = await import("../../core/control/control-item.js");
  const operator = v.operator ?? /CN=([^\n,]+)/.exec(certificate.subject)?.[1] ?? certificate.subject;
  const channel =
    v["control-file"] !== undefined
      ? (await import("../../adapters/control/file-control-channel.js")).createFileControlChannel(v["control-file"])
      : (await import("../../adapters/kafka/kafka-control-channel.js")).createKafkaControlChannel({ brokers: brokers!, tls, topic: v.topic ?? "credex.control.v1", clientId: "credex-policy" });
  let revision: string;
  let sequence: number;
  let size: number;
  try {
    // Replicas refuse a bundle that is not above every bundle they received: number it after the channel's highest.
    const on = await highestPolicySequence(channel, [certificate]);
    if (on.unverified > on.highest) {
      process.stderr.write(`credex policy apply: note: a bundle on ${channel.description} claims sequence ${on.unverified} without a valid signature of this certificate; it is ignored\n`);
    }
    sequence = wanted ?? on.highest + 1;
    if (sequence <= on.highest) throw new UsageError(`--sequence ${sequence} is not above ${on.highest}, the highest bundle on ${channel.description}: every gateway would refuse it`);
    let item;
    try {
      const bundle = readPolicyBundle(dir, { operator, revision: v.revision, sequence });
      revision = bundle.revision;
      item = signControlItem(policyBundleItem(bundle), certificate, key);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    size = item.payload.length;
    await channel.publish({ key: controlItemKey(item), value: encodeControlItem(item) });
  } finally {
    await channel.close();
  }
  process.stdout.write(`published policy bundle ${revision} (sequence ${sequence}, ${size} bytes gzip'd, signed by ${operator}) to ${channel.description}\n`);
  return 0;
}

function sequenceOption(text: string): number {
  const n = Number(text);
  if (!/^[1-9][0-9]*$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`--sequence "${text}" is not a positive integer`);
  return n;
}

async function check(dir: string, strict: boolean): Promise<number> {
  // Loaded here so that `credex --help` does not pay for casbin.
  const { checkPolicyDir } = await import("../../adapters/casbin/check-policy.js");
  const { checkStatutoryExemptionsFile } = await import("../../config/exemptions-file.js");
  const checked = await checkPolicyDir(dir);
  // Statutory exemptions from consent (policies/exemptions.yaml): checked as the gateway loads them.
  const exemptionProblems = checkStatutoryExemptionsFile(dir).map((message) => ({ file: join(dir, "exemptions.yaml"), line: 0, severity: "error" as const, message }));
  const report = { ...checked, findings: [...checked.findings, ...exemptionProblems] };
  const shown = (file: string) => {
    const rel = relative(process.cwd(), file);
    return rel === "" || rel.startsWith("..") ? file : rel;
  };
  for (const f of report.findings) {
    const where = f.line > 0 ? `${shown(f.file)}:${f.line}` : shown(f.file);
    process.stdout.write(`${where}: ${f.severity}: ${f.message}\n`);
  }
  const errors = report.findings.filter((f) => f.severity === "error").length;
  const warnings = report.findings.length - errors;
  process.stdout.write(
    `${report.ruleCount} rules, ${report.testsRun - report.testsFailed}/${report.testsRun} tests passed, ${errors} error(s), ${warnings} warning(s)` +
      `${report.revision ? `; revision ${report.revision.slice(0, 16)}` : ""}\n`,
  );
  return errors > 0 || (strict && warnings > 0) ? 1 : 0;
}

async function diff(oldDir: string, newDir: string, agencyList: string | undefined): Promise<number> {
  const { diffPolicyDirs, describeChange, PolicyDiffError } = await import("../../adapters/casbin/diff-policies.js");
  const agencies = agencyList === undefined ? undefined : parseAgencies(agencyList);
  try {
    const d = await diffPolicyDirs(oldDir, newDir, agencies);
    for (const c of d.changes) process.stdout.write(`${describeChange(c)}\n`);
    process.stdout.write(
      `${d.requestsChanged} of ${d.requestsCompared} requests (one per level) change decision; ` +
        `revision ${d.revisions[0].slice(0, 16)} -> ${d.revisions[1].slice(0, 16)}\n`,
    );
    return d.changes.some((c) => c.before.level !== c.after.level) ? 1 : 0;
  } catch (err) {
    if (err instanceof PolicyDiffError) {
      process.stderr.write(`credex policy diff: cannot compare:\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function parseAgencies(list: string): Array<{ id: string; sector: string }> {
  return list.split(",").map((item) => {
    const [id, sector, extra] = item.split(":");
    if (!id || !sector || extra !== undefined) throw new UsageError(`--agencies: "${item}" is not id:SECTOR`);
    return { id: id.trim(), sector: sector.trim() };
  });
}
