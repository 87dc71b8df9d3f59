import { parseArgs } from "node:util";
import type { AuditEvent } from "../gen/credex/v1/audit_pb.js";
import type { AuditSink } from "../core/audit-sink.js";
import { createGroupCommitter } from "../core/audit/group-commit.js";
import { bareProducerSink, event, runAtRate, type SinkRateResult } from "./audit-sink-bench.js";

/** The driver and the group commit alone (no I/O): what every row below carries besides its client. */
function driverOnlySink(): AuditSink {
  const committer = createGroupCommitter<AuditEvent, undefined>(async (events) => events.map(() => undefined));
  return {
    append: async (e) => {
      await committer.submit(e);
      return { medium: "none", position: "" };
    },
    flush: () => committer.idle(),
    close: async () => undefined,
    describe: () => "group commit, no I/O",
  };
}

export interface SerialResult {
  readonly sink: string;
  readonly round: number;
  readonly appends: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerAppend: number;
}

/**
 * One appender, each append after the last one's acknowledgement: every append is one group
 * commit of one record, so one produce request. CPU per append is then CPU per produce request,
 * whatever the broker's latency (at a fixed rate a slower broker makes bigger commits, and less
 * CPU per append), and the driver adds almost nothing.
 */
async function runSerial(name: string, sink: AuditSink, appends: number, round: number): Promise<SerialResult> {
  for (let i = 0; i < 200; i++) await sink.append(event(i));
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < appends; i++) {
    const started = performance.now();
    await sink.append(event(i));
    latencies.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { sink: name, round, appends, p50Ms: q(0.5), p99Ms: q(0.99), cpuUsPerAppend: (cpu.user + cpu.system) / appends };
}

/**
 * The Kafka client's bare producer (the audit sink's: idempotent, acks=all, under its group
 * commit) next to the driver alone, driven alike against the same broker, in rounds of rotated
 * order (the machine's speed drifts between rounds). BENCHMARKS.md "Kafka client" compared
 * clients so, each one's bare producer a row.
 */
export async function benchKafkaClients(opts: {
  brokers: string;
  rate: number;
  seconds: number;
  rounds: number;
  /** Instead of the fixed rate: this many appends one after the other (runSerial). */
  serial?: number;
  onResult?: (row: SinkRateResult | SerialResult) => void;
}): Promise<Array<SinkRateResult | SerialResult>> {
  const tag = Date.now().toString(36);
  const sinks: Array<[string, AuditSink]> = [
    ["driver only (no I/O)", driverOnlySink()],
    ["@platformatic/kafka 2.12.1", await bareProducerSink(opts.brokers, `credex.bench.client-platformatic.${tag}`)],
  ];
  const results: Array<SinkRateResult | SerialResult> = [];
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      for (let k = 0; k < sinks.length; k++) {
        const [name, sink] = sinks[(k + round - 1) % sinks.length]!;
        const row = opts.serial ? await runSerial(name, sink, opts.serial, round) : await runAtRate(name, sink, opts.rate, opts.seconds, round);
        results.push(row);
        opts.onResult?.(row);
      }
    }
  } finally {
    for (const [, sink] of sinks) await sink.close().catch(() => undefined);
  }
  return results;
}

/** `node dist/bench/kafka-client-bench.js --brokers host:port [--rate 600] [--seconds 8] [--rounds 3]` or `[--serial 2000]` (one append at a time) */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { brokers: { type: "string" }, rate: { type: "string" }, seconds: { type: "string" }, rounds: { type: "string" }, serial: { type: "string" } } });
  const brokers = values.brokers ?? process.env["KAFKA_BROKERS"];
  if (!brokers) throw new Error("--brokers host:port (or KAFKA_BROKERS) is required");
  const rate = Number(values.rate ?? 600);
  if (!Number.isInteger(rate) || rate < 1) throw new Error(`--rate must be a positive integer (appends per second), not "${values.rate}"`);
  const serial = values.serial === undefined ? undefined : Number(values.serial);
  if (serial !== undefined && !(Number.isInteger(serial) && serial > 0)) throw new Error(`--serial must be a positive integer (appends), not "${values.serial}"`);
  const mode = serial ? `${serial} appends one at a time` : `${rate} appends/s open loop`;
  process.stdout.write(`Kafka clients, bare idempotent acks=all producer under group commit, ${mode}: node ${process.version}\n`);
  await benchKafkaClients({
    brokers,
    rate,
    seconds: Number(values.seconds ?? 8),
    rounds: Number(values.rounds ?? 3),
    ...(serial !== undefined && { serial }),
    onResult: (r) => {
      const main = !("mainThreadUsPerAppend" in r) || r.mainThreadUsPerAppend === undefined ? "" : `  main thread ${r.mainThreadUsPerAppend.toFixed(0).padStart(5)} µs`;
      process.stdout.write(`round ${r.round}  ${r.sink.padEnd(28)} ${String(r.appends).padStart(6)} appends  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  cpu ${r.cpuUsPerAppend.toFixed(0).padStart(5)} µs${main}\n`);
    },
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`kafka-client-bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
