import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, DecisionEffect, type AuditEvent } from "../gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../gen/credex/v1/types_pb.js";
import type { AuditSink } from "../core/audit-sink.js";
import { generateKeyRing } from "../core/audit/key-ring.js";
import type { SealSuiteName } from "../core/audit/seal.js";
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

function event(i: number): AuditEvent {
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
      // Loaded only when asked, so the file figures need no Kafka.
      const { createKafkaAuditSink } = await import("../adapters/kafka/kafka-audit-sink.js");
      const tag = Date.now().toString(36);
      const kafka = await createKafkaAuditSink({
        brokers: opts.brokers,
        keyRing: ring,
        suite: opts.suite,
        instance: `bench-kafka-${tag}`,
        chainStatePath: join(dir, "chain.json"),
        spoolPath: join(dir, "spool"),
        topic: `credex.audit.bench.${tag}`,
        checkpointTopic: `credex.audit-checkpoints.bench.${tag}`,
      });
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

/** `node dist/bench/audit-sink-bench.js [--brokers host:port] [--appends 20000] [--concurrency 64] [--suite AES-256-GCM]` */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { brokers: { type: "string" }, appends: { type: "string" }, concurrency: { type: "string" }, suite: { type: "string" } },
  });
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
