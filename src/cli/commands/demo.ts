import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseCommandArgs, type CliCommand } from "../command.js";
import { startFederation } from "../../demo/federation.js";
import { SPECIAL_ACCESS_STEPS } from "../../demo/special-access-steps.js";
import { SUBJECT_QUERY_STEPS } from "../../demo/subject-queries-steps.js";
import { HARVESTING_STEP } from "../../demo/harvesting-step.js";
import { postureOfFederationDir } from "./posture.js";
import { formatPostureMarkdown } from "../../core/posture/format-posture.js";
import { FOUNDATION_STEPS, formatDemoTable, type DemoExchange, type DemoStep } from "../../demo/demo-script.js";
import { LIST_AND_OBJECTION_STEPS } from "../../demo/lists-demo-steps.js";
import { NEGATIVE_INFORMATION_STEP } from "../../demo/negative-information-step.js";
import { MEMBER_TYPE_STEPS } from "../../demo/member-types-steps.js";
import { DISCLOSURE_STEPS } from "../../demo/disclosure-demo-steps.js";
import { serveDisclosure } from "../../site/serve-disclosure.js";

/** Every scripted step of the demo, in order. Features add their steps here. */
const DEMO_STEPS: readonly DemoStep[] = [...FOUNDATION_STEPS, ...SPECIAL_ACCESS_STEPS, ...SUBJECT_QUERY_STEPS, ...LIST_AND_OBJECTION_STEPS, ...MEMBER_TYPE_STEPS, ...DISCLOSURE_STEPS, HARVESTING_STEP, NEGATIVE_INFORMATION_STEP];

export const command: CliCommand = {
  name: "demo",
  summary: "bring up a demo federation (gateway + nine agencies) and run real exchanges",
  help: `credex demo [--dir <dir>] [--keep] [--kafka]

Generates a development PKI, starts nine reference agencies, one of each member
type (banking credit reference, securities, insurance, foreign exchange, a
regional public-credit platform, tax, market supervision, a court and a credit
bureau) and the gateway on 127.0.0.1, runs a scripted set of exchanges over
mTLS and prints what happened. Exits 0 when every exchange ended as scripted.

  --dir <dir>   where to put certificates, datasets, config and the audit log
                (default ./.credex/demo, recreated on each run)
  --keep        keep the federation running after the script (Ctrl-C stops it)
                and write <dir>/federation.json for your own tools
  --kafka       audit to Kafka (acks=all): the broker in $KAFKA_BROKERS, or a
                local one started with \`credex kafka start\` semantics. Without it,
                and without KAFKA_BROKERS, the audit goes to a sealed local file.

With KAFKA_BROKERS set, the joint reward and punishment lists travel on the
Kafka topic credex.lists.v1; without it, on an embedded log in <dir>/lists.

examples:
  credex demo
  credex demo --keep --dir /tmp/fed
  credex query --dir /tmp/fed --as pbccrc --subject 91310110666007217T \\
      --categories administrative_penalty --purpose SUPERVISION
`,
  async run(argv) {
    const args = parseCommandArgs(this, argv, { dir: { type: "string" }, keep: { type: "boolean" }, kafka: { type: "boolean" } });
    if (!args) return 0;
    const dir = resolve(args.values.dir ?? join(".credex", "demo"));
    if (!args.values.dir) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });

    process.stdout.write(`credex demo: starting a federation in ${dir} …\n`);
    const started = performance.now();
    const kafkaBrokers = await demoKafka(args.values.kafka ?? false);
    // With Kafka, the audit and the list log both use it; without, the sealed audit file and the embedded list log.
    // The demo's administrators have an enrolled second factor (GB/T 22239-2019 8.1.4.1 d), as in production.
    const federation = await startFederation({
      dir,
      adminTotp: true,
      ...(kafkaBrokers ? { kafkaBrokers, gatewayConfig: { lists: { kafka: { brokers: kafkaBrokers.split(",") } } } } : {}),
    });
    process.stdout.write(`gateway ${federation.gateway.address} (TLS 1.3, client certificates required); agencies: ${[...federation.agencies.keys()].join(", ")}; ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n\n`);

    // The public disclosure site: its own listener, reading the disclosure feed (never the query path).
    const site = await serveDisclosure({ config: federation.gateway.config, log: federation.gateway.disclosure.log, listen: "127.0.0.1:0" });
    process.stdout.write(`public disclosure site (双公示): ${site.url}\n\n`);

    const rows: DemoExchange[] = [];
    let posture = "";
    try {
      for (const step of DEMO_STEPS) rows.push(...(await step.run(federation)));
      // Checked while the gateway still runs, so the TLS versions it offers are probed too.
      posture = formatPostureMarkdown(await postureOfFederationDir(dir));
    } finally {
      if (!args.values.keep) {
        await site.close();
        await federation.stop();
      }
    }
    process.stdout.write(`${formatDemoTable(rows)}\n\n`);
    const failed = rows.filter((r) => !r.asExpected);
    process.stdout.write(`audit log (sealed, hash-chained): ${federation.manifest.auditLog}\n`);
    // The topic may hold earlier demo runs' chains, sealed under their own key rings: this run's only.
    const source = kafkaBrokers ? `--brokers ${kafkaBrokers} --instance ${federation.gateway.config.instance}` : `--file ${federation.manifest.auditLog}`;
    // A gateway still running has records its next checkpoint will sign: verifying it live needs the weaker flag.
    process.stdout.write(`verify it:  credex audit verify ${source} --key-ring ${federation.manifest.keyRing} --cert ${federation.pki.gateway.cert}\n`);
    if (args.values.keep) process.stdout.write("            (while the gateway runs, add --allow-unsigned-tail: what it wrote since its last checkpoint is not signed yet)\n");
    process.stdout.write(failed.length === 0 ? `all ${rows.length} exchanges ended as scripted\n` : `${failed.length} of ${rows.length} exchanges did NOT end as scripted\n`);
    if (args.values.keep && federation.manifest.metrics) process.stdout.write(`metrics (Prometheus): ${federation.manifest.metrics}\n`);
    process.stdout.write(`public disclosure site: ${site.url}${args.values.keep ? "" : " (stopped with the demo; --keep leaves it running)"}\n`);
    process.stdout.write(`\n${posture}`);

    if (args.values.keep) {
      // The script stops an agency and contains an incident on purpose; a federation kept for
      // trying things by hand gets the agency back and is told what the script left open.
      for (const id of federation.stoppedAgencies()) {
        await federation.restartAgency(id);
        process.stdout.write(`\n${id}, stopped by the script, is running again at ${federation.agencies.get(id)!.address}\n`);
      }
      const open = federation.incidents?.manager.list({ state: "unresolved" }) ?? [];
      for (const i of open) {
        process.stdout.write(`left ${i.state} by the script: incident ${i.id} (${i.detector}, ${i.key}); close it with: credex incidents resolve ${i.id} --dir ${dir} --note "demo"\n`);
      }
      process.stdout.write(`\nfederation kept running; ${join(dir, "federation.json")} lists the gateway, CA and agency certificates. Ctrl-C stops it.\n`);
      await new Promise<void>((done) => {
        process.once("SIGINT", done);
        process.once("SIGTERM", done);
      });
      await site.close();
      await federation.stop();
    }
    return failed.length === 0 ? 0 : 1;
  },
};

/** Kafka for the demo: KAFKA_BROKERS when set; with --kafka and none set, the local dev broker. */
async function demoKafka(asked: boolean): Promise<string | undefined> {
  const fromEnv = process.env["KAFKA_BROKERS"];
  if (fromEnv) return fromEnv;
  if (!asked) return undefined;
  const { startKafkaBroker } = await import("../../dev/kafka-broker.js");
  process.stdout.write("starting a local Kafka broker (first run downloads it from Maven Central) …\n");
  const broker = await startKafkaBroker({});
  process.stdout.write(`Kafka at ${broker.brokers} (left running for \`credex audit\`; stop it with \`credex kafka stop\`)\n`);
  return broker.brokers;
}
