import { writeFile } from "node:fs/promises";
import { parseCommandArgs, UsageError, type CliCommand } from "../command.js";

const HELP = `usage: credex bench [options]

Measures, in one run on 127.0.0.1 over real mTLS, what the gateway's security
costs: direct calls to a reference provider, a bare grpc-js pass-through proxy
(mTLS both sides, nothing else), the same proxy decoding and re-encoding each
message (what reading the content costs, before any check), the gateway
unaudited (no-op sink, bench only),
the gateway with the file audit sink and, with --kafka, with the Kafka sink
(acks=all, group commit); then an N-agency fan-out, a run at half of the
gateway's maximum throughput, and one call at a time unaudited and audited.
Prints each figure and the ratios; absolute
figures drift between runs, ratios within one run hold.

options:
  --quick                 short runs (whole run about two minutes)
  --json <file>           write every figure and the ratios as JSON
  --concurrency <n>       calls in flight (default 64)
  --payload <bytes>       bytes per record (default 1024)
  --fanout <n>            agencies in the fan-out scenario, 2..8 (default 8)
  --duration <s>          measured seconds per scenario (default 10; quick 3)
  --warmup <s>            warm-up seconds per scenario (default 2; quick 1)
  --rounds <n>            rounds of the saturating scenarios and of the latency
                          pairs (half load, one in flight, each step of the
                          rate curve), order rotated each round, median kept
                          (default 3; quick 2)
  --loadgen <where>       process | worker | inline (default process: the load
                          generator gets its own process and event loop)
  --providers <where>     process | inline (default process: the reference
                          providers run in their own process, so the gateway's
                          process, its CPU and RSS, hold only the gateway)
  --kafka                 add the Kafka audit scenarios: brokers from
                          $KAFKA_BROKERS, else a local broker is started (and
                          stopped again) as by \`credex kafka start\`
  --curve <name>          a scaling curve instead: policy | fanout | payload |
                          concurrency | scale-out | rate (scale-out needs
                          --kafka; with --providers process, the default, each
                          replica runs in a process of its own; rate runs the
                          gateway unaudited and audited at each offered rate,
                          open loop, and reports the median the audit adds)
  --steps <a,b,...>       steps of the curve (defaults: policy 1000,10000,100000;
                          fanout 1,2,4,8; payload 1024..262144; concurrency
                          1,10,100,1000; scale-out 1,2,3; rate (calls/s)
                          100,200,300,450,600)

examples:
  npm run bench -- --quick --json out.json
  credex bench --kafka --json bench.json
  credex bench --curve concurrency --duration 5
  KAFKA_BROKERS=127.0.0.1:9092 credex bench --curve scale-out --kafka
  KAFKA_BROKERS=127.0.0.1:9092 credex bench --curve rate --kafka --steps 100,300,600
`;

export const command: CliCommand = {
  name: "bench",
  summary: "benchmark the gateway against direct calls and a bare proxy (throughput, latency, ratios)",
  help: HELP,
  async run(argv) {
    const parsed = parseCommandArgs(this, argv, {
      quick: { type: "boolean" },
      json: { type: "string" },
      concurrency: { type: "string" },
      payload: { type: "string" },
      fanout: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      rounds: { type: "string" },
      loadgen: { type: "string" },
      providers: { type: "string" },
      kafka: { type: "boolean" },
      curve: { type: "string" },
      steps: { type: "string" },
    });
    if (parsed === null) return 0;
    const v = parsed.values;
    // Loaded here so that `credex --help` does not pay for the bench's imports.
    const { runBench, CURVE_NAMES } = await import("../../bench/bench-run.js");
    const { LOAD_GENERATOR_PLACEMENTS } = await import("../../bench/load-runner.js");
    const quick = v.quick === true;
    const int = (name: string, value: string | undefined, fallback: number, min: number, max: number) => {
      if (value === undefined) return fallback;
      const n = Number(value);
      if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}`);
      return n;
    };
    const loadgen = (v.loadgen ?? "process") as (typeof LOAD_GENERATOR_PLACEMENTS)[number];
    if (!LOAD_GENERATOR_PLACEMENTS.includes(loadgen)) throw new UsageError(`--loadgen must be one of ${LOAD_GENERATOR_PLACEMENTS.join(", ")}`);
    const providers = (v.providers ?? "process") as "process" | "inline";
    if (providers !== "process" && providers !== "inline") throw new UsageError("--providers must be process or inline");
    const curve = v.curve as (typeof CURVE_NAMES)[number] | undefined;
    if (curve !== undefined && !CURVE_NAMES.includes(curve)) throw new UsageError(`--curve must be one of ${CURVE_NAMES.join(", ")}`);
    const steps = v.steps?.split(",").map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--steps: "${s}" is not a positive integer`);
      return n;
    });
    if (steps && curve === undefined) throw new UsageError("--steps needs --curve");

    const log = (line: string) => process.stdout.write(`${line}\n`);
    let brokers = process.env["KAFKA_BROKERS"] || undefined;
    let stopBroker: (() => Promise<unknown>) | undefined;
    if (v.kafka && brokers === undefined) {
      const broker = await import("../../dev/kafka-broker.js");
      const wasRunning = broker.kafkaBrokerStatus().running;
      brokers = (await broker.startKafkaBroker({ log: (line) => process.stderr.write(`credex bench: ${line}\n`) })).brokers;
      // Stop only a broker this run started.
      if (!wasRunning) stopBroker = () => broker.stopKafkaBroker();
    }
    try {
      const report = await runBench({
        concurrency: int("concurrency", v.concurrency, 64, 1, 10_000),
        payloadBytes: int("payload", v.payload, 1024, 128, 16 * 1024 * 1024),
        fanout: int("fanout", v.fanout, 8, 2, 8),
        durationMs: int("duration", v.duration, quick ? 3 : 10, 0.5, 3_600) * 1000,
        warmupMs: int("warmup", v.warmup, quick ? 1 : 2, 0, 600) * 1000,
        rounds: int("rounds", v.rounds, quick ? 2 : 3, 1, 20),
        loadgen,
        providers,
        ...(v.kafka ? { kafkaBrokers: brokers! } : {}),
        ...(curve ? { curve } : {}),
        ...(steps ? { steps } : {}),
        log,
      });
      log("");
      log(`ratios (one run, ${report.machine.cpus} cores, load average ${report.machine.loadavg.map((l) => l.toFixed(1)).join(" ")}, node ${report.machine.node}${report.machine.nodeFlags.length ? ` ${report.machine.nodeFlags.join(" ")}` : ""}, load generator: ${report.options.loadgen}, providers: ${report.options.providers}):`);
      for (const [name, value] of Object.entries(report.ratios)) log(`  ${name.padEnd(40)} ${value}`);
      if (report.targets.length > 0) {
        log("targets:");
        for (const t of report.targets) log(`  ${t.met ? "met   " : "MISSED"}  ${t.name}: ${t.measured} (target ${t.target})`);
      }
      const failed = [...report.scenarios, ...(report.curve?.points.flatMap((p) => p.scenarios) ?? [])].filter((s) => s.errors > 0 || s.calls === 0);
      const incomplete = report.curve?.points.filter((p) => p.audit && !p.audit.complete) ?? [];
      if (v.json) {
        await writeFile(v.json, `${JSON.stringify(report, null, 2)}\n`);
        log(`wrote ${v.json}`);
      }
      for (const s of failed) process.stderr.write(`credex bench: ${s.name}: ${s.errors} failed calls ${JSON.stringify(s.errorSamples)}\n`);
      for (const p of incomplete) process.stderr.write(`credex bench: audit incomplete at step ${p.step}: ${JSON.stringify(p.audit)}\n`);
      return failed.length > 0 || incomplete.length > 0 ? 1 : 0;
    } finally {
      await stopBroker?.();
    }
  },
};
