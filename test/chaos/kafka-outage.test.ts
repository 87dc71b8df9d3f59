/**
 * Chaos: the Kafka audit sink under a gateway carrying load, with its own
 * broker (a real process) stopped, paused (SIGSTOP: a broker that stops
 * answering, the slowest Kafka there is) and restarted, and a spool bounded
 * small enough to fill. After each: every answered exchange is in Kafka
 * exactly once, the chain verifies, refusals while the spool is full are
 * UNAVAILABLE AUDIT_SPOOL_FULL (fail closed), and the gateway serves again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SealedAuditRecordSchema } from "../../src/gen/credex/v1/audit_pb.js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { createKafkaAuditSink, type KafkaAuditSink } from "../../src/adapters/kafka/kafka-audit-sink.js";
import { scanKafkaAudit } from "../../src/adapters/kafka/kafka-audit-source.js";
import { createKafkaControlChannel } from "../../src/adapters/kafka/kafka-control-channel.js";
import { errorInfoOf } from "../../src/adapters/grpc/rich-status.js";
import { generateKeyRing } from "../../src/core/audit/key-ring.js";
import { openSealedRecord } from "../../src/core/audit/seal.js";
import { createChainVerifier } from "../../src/core/audit/verify-chain.js";
import { startKafkaBroker, stopKafkaBroker, type KafkaBroker } from "../../src/dev/kafka-broker.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { startTestFederation } from "../support/federation.js";
import { expectStillServing, sharedClient } from "../support/adversarial.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
const ring = generateKeyRing("k1");
const SPOOL_MAX_RECORDS = 40;
let kdir: string;
let broker: KafkaBroker;
let sink: KafkaAuditSink;
let fed: TestFederation;
const topic = `audit.chaos-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  kdir = mkdtempSync(join(tmpdir(), "credex-chaos-kafka-"));
  broker = await startKafkaBroker({ dataDir: kdir });
  sink = await createKafkaAuditSink({
    brokers: broker.brokers,
    keyRing: ring,
    suite: "AES-256-GCM",
    instance: "gw-chaos-kafka",
    chainStatePath: join(kdir, "chain.json"),
    spoolPath: join(kdir, "audit.spool"),
    spoolMaxRecords: SPOOL_MAX_RECORDS,
    topic,
    checkpointTopic: `${topic}.cp`,
    drainRetryMs: 200,
    requestTimeoutMs: 1_000,
  });
  fed = await startTestFederation({ parts: { auditSink: sink } });
}, 180_000);
afterAll(async () => {
  await fed?.cleanup().catch(() => undefined);
  await stopKafkaBroker(kdir).catch(() => undefined);
  rmSync(kdir, { recursive: true, force: true });
});

type Outcome = { ok: true; exchangeId: string } | { ok: false; code: number; reason: string };

/** Queries from several workers until `until()` holds; returns every outcome. */
async function load(until: () => boolean, outcomes: Outcome[], workers = 4): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (!until()) {
        const client = sharedClient(fed, w % 2 === 0 ? "pbccrc" : "csrc");
        try {
          const r = await client.query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION }, { timeoutMs: 15_000 });
          outcomes.push({ ok: true, exchangeId: r.exchangeId });
        } catch (err) {
          outcomes.push({ ok: false, code: (err as { code: number }).code, reason: errorInfoOf(err as never)?.reason ?? "" });
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }),
  );
}

const answered = (outcomes: Outcome[]) => outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok).map((o) => o.exchangeId);

describe("chaos: Kafka audit sink under gateway load", () => {
  it("broker stopped under load → answers spooled until the spool is full, then UNAVAILABLE AUDIT_SPOOL_FULL; restarted → drained; answered ⇒ in Kafka exactly once; chain verifies", async () => {
    const outcomes: Outcome[] = [];
    await load(() => answered(outcomes).length >= 30, outcomes);
    expect(outcomes.every((o) => o.ok)).toBe(true);

    await stopKafkaBroker(kdir);
    const stoppedAt = outcomes.length;
    await load(() => outcomes.slice(stoppedAt).filter((o) => !o.ok).length >= 10, outcomes);
    const duringOutage = outcomes.slice(stoppedAt);
    const refused = duringOutage.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    for (const r of refused) expect(r).toEqual({ ok: false, code: status.UNAVAILABLE, reason: "AUDIT_SPOOL_FULL" });
    // The spool took what it could hold: answers continued during the outage, up to its bound.
    expect(answered(duringOutage).length).toBeGreaterThan(0);
    expect(answered(duringOutage).length).toBeLessThanOrEqual(SPOOL_MAX_RECORDS);
    expect(sink.stats()).toMatchObject({ kafkaReachable: false, spoolDepth: SPOOL_MAX_RECORDS });

    broker = await startKafkaBroker({ dataDir: kdir });
    const restartedAt = Date.now();
    await vi.waitFor(() => expect(sink.stats()).toMatchObject({ kafkaReachable: true, spoolDepth: 0 }), { timeout: 90_000, interval: 100 });
    const drainMs = Date.now() - restartedAt;
    await expectStillServing(fed);
    const after = outcomes.length;
    await load(() => answered(outcomes.slice(after)).length >= 20, outcomes);
    console.info(`Kafka stopped: ${answered(duringOutage).length} answered from the spool, ${refused.length} refused AUDIT_SPOOL_FULL; spool drained ${drainMs} ms after the broker was back`);
    await expectAllInKafka(answered(outcomes));
  }, 240_000);

  it("broker paused (SIGSTOP, 4 s) under load → produce times out to the spool, drained on SIGCONT; answered ⇒ in Kafka exactly once; chain verifies", async () => {
    const outcomes: Outcome[] = [];
    await load(() => answered(outcomes).length >= 20, outcomes);
    process.kill(broker.pid, "SIGSTOP");
    let resumed = false;
    try {
      const pausedAt = Date.now();
      await load(() => Date.now() - pausedAt > 4_000, outcomes, 2);
    } finally {
      process.kill(broker.pid, "SIGCONT");
      resumed = true;
    }
    expect(resumed).toBe(true);
    for (const o of outcomes) if (!o.ok) expect([`${status.UNAVAILABLE}:AUDIT_SPOOL_FULL`, `${status.UNAVAILABLE}:AUDIT_UNAVAILABLE`]).toContain(`${o.code}:${o.reason}`);
    await vi.waitFor(() => expect(sink.stats()).toMatchObject({ kafkaReachable: true, spoolDepth: 0 }), { timeout: 90_000, interval: 100 });
    const after = outcomes.length;
    await load(() => answered(outcomes.slice(after)).length >= 10, outcomes);
    console.info(`Kafka paused: ${answered(outcomes).length} answered, ${outcomes.filter((o) => !o.ok).length} refused, stats ${JSON.stringify(sink.stats(), (_k, v) => (typeof v === "bigint" ? String(v) : v))}`);
    await expectAllInKafka(answered(outcomes));
  }, 240_000);
});

describe("chaos: the control channel across a broker restart", () => {
  // A revocation published after the broker came back must reach a gateway that subscribed before
  // (it must not need a restart to learn of it), and no item may arrive twice (a replayed bundle
  // would be taken for a ROLLBACK).
  it("a subscriber of the control topic receives what is published after the broker restarted, each record once", async () => {
    const channel = createKafkaControlChannel({ brokers: broker.brokers, topic: `credex.control.chaos-${Math.random().toString(36).slice(2, 8)}` });
    const received: string[] = [];
    try {
      await channel.publish({ key: "revocation/BEFORE", value: new Uint8Array([1]) });
      const subscription = await channel.subscribe((r) => void received.push(r.key));
      expect(received).toEqual(["revocation/BEFORE"]);
      await stopKafkaBroker(kdir);
      // Long enough for the consumer to fail and be replaced more than once.
      await new Promise((r) => setTimeout(r, 5_000));
      broker = await startKafkaBroker({ dataDir: kdir });
      await vi.waitFor(() => channel.publish({ key: "revocation/AFTER", value: new Uint8Array([2]) }), { timeout: 60_000, interval: 1_000 });
      await vi.waitFor(() => expect(received).toContain("revocation/AFTER"), { timeout: 60_000, interval: 100 });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(received).toEqual(["revocation/BEFORE", "revocation/AFTER"]);
      await subscription.close();
    } finally {
      await channel.close().catch(() => undefined);
    }
  }, 180_000);
});

/** Reads the whole topic: chain verifies, and each answered exchange id is there exactly once. */
async function expectAllInKafka(answeredIds: string[]): Promise<void> {
  await sink.flush();
  // A running sink without a checkpoint signer: the chain's structure, its records reported as unverified.
  const verifier = createChainVerifier({ keyRing: ring, allowUnsignedTail: true });
  const counts = new Map<string, number>();
  await scanKafkaAudit({ brokers: broker.brokers, topic, checkpointTopic: `${topic}.cp` }, (e) => {
    if (e.kind === "record") {
      verifier.addRecord(e.bytes, e.position, e.stream);
      const event = openSealedRecord(fromBinary(SealedAuditRecordSchema, e.bytes), ring);
      counts.set(event.exchangeId, (counts.get(event.exchangeId) ?? 0) + 1);
    } else if (e.kind === "checkpoint") verifier.addCheckpoint(e.bytes, e.position);
  });
  const report = verifier.finish();
  expect(report.orphanBreaks).toEqual([]);
  expect(report.chains.map((c) => c.breaks)).toEqual([0]);
  expect(report.ok).toBe(true);
  expect(answeredIds.filter((id) => counts.get(id) !== 1)).toEqual([]);
  expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
}
