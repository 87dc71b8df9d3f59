import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, DecisionEffect, type AuditEvent } from "../gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../gen/credex/v1/types_pb.js";
import type { AuditSink } from "../core/audit-sink.js";
import { createAuditChain, genesisHead } from "../core/audit/audit-chain.js";
import { createGroupCommitter } from "../core/audit/group-commit.js";
import { generateKeyRing, type KeyRing } from "../core/audit/key-ring.js";
import { sealSuiteFromName, type SealSuiteName } from "../core/audit/seal.js";
import { createFileAuditSink } from "../adapters/audit/file-audit-sink.js";

export interface SinkBenchResult {
  readonly sink: string;
  readonly concurrency: number;
  readonly appends: number;
  readonly seconds: number;
  readonly appendsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export function event(i: number): AuditEvent {
  const now = new Date();
  return create(AuditEventSchema, {
    schemaVersion: 1,
    exchangeId: `bench-${i}`,
    traceId: `t-${i}`,
    gatewayInstance: "bench",
    type: AuditEventType.EXCHANGE,
    method: "/credex.v1.CreditExchange/Query",
    receivedAt: timestampFromDate(now),
    decidedAt: timestampFromDate(now),
    repliedAt: timestampFromDate(now),
    requester: { agencyId: ["pbc-crc", "csrc", "cbirc", "safe"][i % 4], sector: "banking", certFingerprint: "ab".repeat(32) },
    subjectPseudonym: "f".repeat(64),
    subjectType: SubjectType.LEGAL_PERSON,
    categories: ["penalties", "licences"],
    purpose: Purpose.LOAN_APPROVAL,
    decision: { effect: DecisionEffect.ALLOW, matchedPolicy: "p1", policyRevision: "r1" },
    release: { recordsReleased: 3, fieldsReleased: 12, releasedFieldNames: ["name", "code", "date"] },
    responseDigest: new Uint8Array(32),
    statusCode: 0,
  });
}

/** `concurrency` appenders each append in a loop until `appends` are done; latency per append. */
async function run(name: string, sink: AuditSink, appends: number, concurrency: number): Promise<SinkBenchResult> {
  for (let i = 0; i < 200; i++) await sink.append(event(i));
  const latencies: number[] = [];
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < appends) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        await sink.append(event(i));
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { sink: name, concurrency, appends, seconds, appendsPerSecond: appends / seconds, p50Ms: q(0.5), p99Ms: q(0.99) };
}

const noopSink: AuditSink = {
  append: async () => ({ medium: "none", position: "" }),
  flush: async () => undefined,
  close: async () => undefined,
  describe: () => "no-op",
};

export interface SinkRateResult {
  readonly sink: string;
  readonly round: number;
  readonly rate: number;
  readonly appends: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU of the whole process (all threads: V8's helpers, libuv's pool) per append. */
  readonly cpuUsPerAppend: number;
  /** CPU of the main (JavaScript) thread per append; undefined where /proc cannot be read. */
  readonly mainThreadUsPerAppend: number | undefined;
}

/** utime + stime of the main thread, in microseconds (proc(5): fields 14 and 15, in clock ticks of 10 ms). */
function mainThreadCpuUs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/**
 * Appends at a fixed rate for `seconds` (open loop, as exchanges arrive: an append does not wait
 * for the one before), after a warm-up; latency from each append's start to its acknowledgement.
 * At the rates of the latency targets a group commit carries one or two events, so this shows what
 * a commit costs, which the saturating runs above amortise away.
 */
export async function runAtRate(name: string, sink: AuditSink, rate: number, seconds: number, round: number): Promise<SinkRateResult> {
  for (let i = 0; i < Math.min(300, rate); i++) await sink.append(event(i));
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  const pending: Array<Promise<unknown>> = [];
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  const t0 = performance.now();
  let issued = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
    for (; issued < due; issued++) {
      const started = performance.now();
      pending.push(sink.append(event(issued)).then(() => latencies.push(performance.now() - started)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuUs();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    sink: name,
    round,
    rate,
    appends: total,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    cpuUsPerAppend: (cpu.user + cpu.system) / total,
    mainThreadUsPerAppend: main0 !== undefined && main1 !== undefined ? (main1 - main0) / total : undefined,
  };
}

/**
 * The bare producer the Kafka sink uses (idempotent, acks=all, one request in flight) under the
 * same group commit, sending a fixed record of a sealed event's size with the sink's five
 * headers: what Kafka costs without sealing and without the sink's bookkeeping.
 */
export async function bareProducerSink(brokers: string, topic: string): Promise<AuditSink> {
  const { createKafkaTopics } = await import("../adapters/kafka/kafka-admin.js");
  const { createKafkaProducer } = await import("../adapters/kafka/kafka-client.js");
  await createKafkaTopics(brokers, [{ topic, partitions: 3 }]);
  const producer = createKafkaProducer({ brokers, clientId: "credex-audit-sink-bench", idempotent: true });
  const value = Buffer.alloc(700, 7);
  const headers = { "credex-schema-version": "1", "credex-key-id": "k1", "credex-event-type": "EXCHANGE", "credex-requester-agency": "pbc-crc", "credex-chain-position": "bench/1" };
  const committer = createGroupCommitter<AuditEvent, undefined>(async (events) => {
    await producer.send({ messages: events.map(() => ({ topic, key: "pbc-crc", value, headers })) });
    return events.map(() => undefined);
  });
  return {
    append: async (e) => {
      await committer.submit(e);
      return { medium: "kafka", position: "" };
    },
    flush: () => committer.idle(),
    close: () => producer.close(),
    describe: () => "bare Kafka producer",
  };
}

/** The Kafka sink on topics of its own (a new name per run); loaded only when asked, so the other figures need no Kafka. */
async function benchKafkaSink(brokers: string, ring: KeyRing, suite: SealSuiteName, dir: string) {
  const { createKafkaAuditSink } = await import("../adapters/kafka/kafka-audit-sink.js");
  const tag = Date.now().toString(36);
  return createKafkaAuditSink({
    brokers,
    keyRing: ring,
    suite,
    instance: `bench-kafka-${tag}`,
    chainStatePath: join(dir, "chain.json"),
    spoolPath: join(dir, "spool"),
    topic: `credex.audit.bench.${tag}`,
    checkpointTopic: `credex.audit-checkpoints.bench.${tag}`,
  });
}

/** Each sink at `rate` appends/s, in rounds of rotated order (the machine's speed drifts). */
export async function benchAuditSinksAtRate(opts: {
  brokers?: string;
  rate: number;
  seconds: number;
  rounds: number;
  suite: SealSuiteName;
  /** Each row as soon as it is measured. */
  onResult?: (row: SinkRateResult) => void;
}): Promise<SinkRateResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "credex-audit-bench-"));
  const ring = generateKeyRing();
  const suite = sealSuiteFromName(opts.suite);
  const chain = createAuditChain(genesisHead("bench-seal"), ring, suite);
  const sinks: Array<[string, AuditSink]> = [
    ["no-op", noopSink],
    [`seal only (${opts.suite}, no I/O)`, { ...noopSink, append: async (e) => ({ medium: "none", position: "", sequence: chain.append(e).record.sequence }) }],
    [`file (${opts.suite})`, await createFileAuditSink({ path: join(dir, "audit.log"), keyRing: ring, suite: opts.suite, instance: "bench-file" })],
  ];
  const results: SinkRateResult[] = [];
  try {
    if (opts.brokers) {
      sinks.push(["bare Kafka producer (700 B, 5 headers)", await bareProducerSink(opts.brokers, `credex.audit.bench-bare.${Date.now().toString(36)}`)]);
      sinks.push([`kafka (${opts.suite}, acks=all)`, await benchKafkaSink(opts.brokers, ring, opts.suite, dir)]);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (let k = 0; k < sinks.length; k++) {
        const [name, sink] = sinks[(k + round - 1) % sinks.length]!;
        const row = await runAtRate(name, sink, opts.rate, opts.seconds, round);
        results.push(row);
        opts.onResult?.(row);
      }
    }
  } finally {
    for (const [, sink] of sinks) await sink.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export async function benchAuditSinks(opts: { brokers?: string; appends: number; concurrency: number; suite: SealSuiteName }): Promise<SinkBenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "credex-audit-bench-"));
  const ring = generateKeyRing();
  const results: SinkBenchResult[] = [];
  try {
    // Each sink at the given concurrency (throughput), then with one appender (latency without queueing).
    const serialAppends = Math.max(200, Math.floor(opts.appends / 20));
    results.push(await run("no-op", noopSink, opts.appends, opts.concurrency));
    results.push(await run("no-op", noopSink, serialAppends, 1));
    const file = await createFileAuditSink({ path: join(dir, "audit.log"), keyRing: ring, suite: opts.suite, instance: "bench-file" });
    results.push(await run(`file (${opts.suite}, O_DSYNC write per group)`, file, opts.appends, opts.concurrency));
    results.push(await run(`file (${opts.suite}, O_DSYNC write per group)`, file, serialAppends, 1));
    await file.close();
    if (opts.brokers) {
      const kafka = await benchKafkaSink(opts.brokers, ring, opts.suite, dir);
      results.push(await run(`kafka (${opts.suite}, acks=all, group commit)`, kafka, opts.appends, opts.concurrency));
      results.push(await run(`kafka (${opts.suite}, acks=all, group commit)`, kafka, serialAppends, 1));
      const s = kafka.stats();
      await kafka.close();
      if (s.spooled > 0) throw new Error(`the Kafka run used the spool (${s.spooled} records): figures are not Kafka's`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/**
 * `node dist/bench/audit-sink-bench.js [--brokers host:port] [--appends 20000] [--concurrency 64] [--suite AES-256-GCM]`
 * `node dist/bench/audit-sink-bench.js --rate 600 [--seconds 8] [--rounds 2] [--brokers host:port]`
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: "string" },
      appends: { type: "string" },
      concurrency: { type: "string" },
      suite: { type: "string" },
      rate: { type: "string" },
      seconds: { type: "string" },
      rounds: { type: "string" },
    },
  });
  if (values.rate !== undefined) {
    const rate = Number(values.rate);
    if (!Number.isInteger(rate) || rate < 1) throw new Error(`--rate must be a positive integer (appends per second), not "${values.rate}"`);
    process.stdout.write(`audit sinks at ${rate} appends/s, open loop: node ${process.version} ${process.execArgv.join(" ")}; CPU per append of the process and of its main thread\n`);
    await benchAuditSinksAtRate({
      ...(values.brokers !== undefined && { brokers: values.brokers }),
      rate,
      seconds: Number(values.seconds ?? 8),
      rounds: Number(values.rounds ?? 2),
      suite: (values.suite ?? "AES-256-GCM") as SealSuiteName,
      onResult: (r) => {
        const main = r.mainThreadUsPerAppend === undefined ? "" : `  main thread ${r.mainThreadUsPerAppend.toFixed(0).padStart(5)} µs`;
        process.stdout.write(`round ${r.round}  ${r.sink.padEnd(44)} ${String(r.appends).padStart(6)} appends  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  cpu ${r.cpuUsPerAppend.toFixed(0).padStart(5)} µs${main}\n`);
      },
    });
    return;
  }
  const results = await benchAuditSinks({
    ...(values.brokers !== undefined && { brokers: values.brokers }),
    appends: Number(values.appends ?? 20_000),
    concurrency: Number(values.concurrency ?? 64),
    suite: (values.suite ?? "AES-256-GCM") as SealSuiteName,
  });
  process.stdout.write(`audit sink benchmark: node ${process.version}, one process; each sink with N concurrent appenders, then with 1\n`);
  for (const r of results) {
    const base = results.find((b) => b.sink === "no-op" && b.concurrency === r.concurrency) as SinkBenchResult;
    process.stdout.write(
      `${r.sink.padEnd(44)} c=${String(r.concurrency).padEnd(3)} ${String(r.appends).padStart(6)} appends ${r.appendsPerSecond.toFixed(0).padStart(8)}/s  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  (${(r.appendsPerSecond / base.appendsPerSecond).toFixed(3)}× no-op)\n`,
    );
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`audit-sink-bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
