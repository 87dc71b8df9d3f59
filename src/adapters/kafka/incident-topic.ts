import { randomUUID } from "node:crypto";
import { createKafkaClient } from "./kafka-client.js";
import { createKafkaTopics } from "./kafka-admin.js";
import type { Incident } from "../../core/incidents/incident.js";

/** Default topic of incident snapshots (docs/incidents.md). */
export const INCIDENTS_TOPIC = "credex.incidents.v1";
/** Value format: one JSON incident snapshot (the JSONL file's line), UTF-8; the header names it. */
export const INCIDENT_SCHEMA_HEADER = "credex-schema";
export const INCIDENT_SCHEMA = "credex.incident.v1+json";

export interface IncidentPublisher {
  /** Queues the snapshot; publishing is ordered per incident (key = incident id) and never blocks an exchange. */
  publish(incident: Incident): void;
  /** Waits for what was queued; rejects with the first publishing error, if any. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Snapshots that could not be published (counted, for metrics and tests). */
  failures(): number;
}

/**
 * Publishes incident snapshots to Kafka keyed by incident id, so a compacted
 * topic keeps the latest state of each incident and SIEM/SOC consumers see
 * every change in order. acks=all: an incident report must not be lost to a
 * leader failover.
 */
export async function createKafkaIncidentPublisher(options: { brokers: string; topic?: string; clientId?: string }): Promise<IncidentPublisher> {
  const topic = options.topic ?? INCIDENTS_TOPIC;
  await createKafkaTopics(options.brokers, [{ topic, partitions: 1, configs: { "cleanup.policy": "compact,delete", "retention.ms": String(180 * 86_400_000) } }]);
  const producer = createKafkaClient({ brokers: options.brokers, clientId: options.clientId ?? "credex-incidents" }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let queue: Promise<void> = Promise.resolve();
  let failed = 0;
  let firstError: unknown;
  // Snapshots waiting for the send in flight, by id: only the latest of each is sent (a compacted topic keeps no more).
  const pending = new Map<string, Incident>();
  const sendPending = async () => {
    const batch = [...pending.values()];
    pending.clear();
    if (batch.length === 0) return;
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: batch.map((i) => ({ key: i.id, value: JSON.stringify(i), headers: { [INCIDENT_SCHEMA_HEADER]: INCIDENT_SCHEMA } })),
      });
    } catch (err) {
      failed += batch.length;
      firstError ??= err;
    }
  };
  return {
    publish(incident) {
      const scheduled = pending.size > 0;
      pending.delete(incident.id);
      pending.set(incident.id, incident);
      if (!scheduled) queue = queue.then(sendPending);
    },
    async flush() {
      await queue;
      if (firstError) throw firstError;
    },
    async close() {
      await queue;
      await producer.disconnect();
    },
    failures: () => failed,
  };
}

/**
 * Reads the incidents topic from the beginning up to its current end and
 * returns the latest snapshot of each incident (for `credex incidents
 * list|show --kafka`).
 */
export async function readIncidentsTopic(options: { brokers: string; topic?: string; timeoutMs?: number }): Promise<Incident[]> {
  const topic = options.topic ?? INCIDENTS_TOPIC;
  const kafka = createKafkaClient({ brokers: options.brokers, clientId: "credex-incidents-reader" });
  const admin = kafka.admin();
  await admin.connect();
  let ends: Array<{ partition: number; high: string; low: string }>;
  try {
    // Without this check a missing topic surfaces as the broker's "This server does not host
    // this topic-partition", which names neither the topic nor what to do.
    if (!(await admin.listTopics()).includes(topic)) {
      throw new Error(`topic ${topic} does not exist at ${options.brokers} (a gateway with incidents.kafka creates it when it starts; --topic reads another)`);
    }
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map(ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high) - 1n]));
  const byId = new Map<string, Incident>();
  if (remaining.size === 0) return [];
  const consumer = kafka.consumer({ groupId: `credex-incidents-reader-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} took longer than ${options.timeoutMs ?? 15_000} ms`)), options.timeoutMs ?? 15_000);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            if (message.value) {
              const incident = JSON.parse(message.value.toString("utf8")) as Incident;
              byId.set(incident.id, incident);
            }
            const last = remaining.get(partition);
            if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return [...byId.values()].sort((a, b) => a.openedAt.localeCompare(b.openedAt));
}
