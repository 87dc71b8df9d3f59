import { randomUUID } from "node:crypto";
import type { Consumer, Producer } from "kafkajs";
import type { ControlChannel } from "../../core/control/control-channel.js";
import { createKafkaClient } from "./kafka-client.js";
import { createKafkaTopics } from "./kafka-admin.js";

export interface KafkaControlChannelOptions {
  /** Comma-separated host:port list. */
  readonly brokers: string;
  readonly topic: string;
  readonly clientId?: string;
  /** Bound on the replay at subscribe (default 30 s). */
  readonly replayTimeoutMs?: number;
}

/**
 * Topic config of the control topic: compacted, so the latest record of each
 * key (`<type>/<id>`) is kept for ever and a replica that starts reads the
 * current state from offset 0; tombstones are kept a day.
 */
export const CONTROL_TOPIC_CONFIGS: Readonly<Record<string, string>> = Object.freeze({
  "cleanup.policy": "compact",
  "min.compaction.lag.ms": "0",
  "delete.retention.ms": String(24 * 3600 * 1000),
  // A policy bundle of 100k lines is ≈1 MB gzip'd, 1.3 MB in its envelope: above the 1 MB broker default.
  "max.message.bytes": String(16 * 1024 * 1024),
});

/**
 * The control channel on Kafka (credex.control.v1). Each subscriber joins
 * its own, fresh consumer group, so every gateway replica reads every record
 * from the beginning (groups share partitions; replicas must not). One
 * partition keeps items in publication order.
 */
export function createKafkaControlChannel(options: KafkaControlChannelOptions): ControlChannel {
  const kafka = createKafkaClient({ brokers: options.brokers, clientId: options.clientId ?? "credex-control" });
  let producer: Producer | undefined;
  let topicReady: Promise<unknown> | undefined;
  const consumers = new Set<Consumer>();
  const replayTimeoutMs = options.replayTimeoutMs ?? 30_000;
  const ensureTopic = () => (topicReady ??= createKafkaTopics(options.brokers, [{ topic: options.topic, partitions: 1, configs: CONTROL_TOPIC_CONFIGS }]));

  return {
    description: `kafka ${options.topic} @ ${options.brokers}`,
    async publish(record) {
      await ensureTopic();
      if (!producer) {
        producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
      }
      await producer.send({ topic: options.topic, acks: -1, messages: [{ key: record.key, value: Buffer.from(record.value) }] });
    },
    async subscribe(onRecord) {
      await ensureTopic();
      const admin = kafka.admin();
      await admin.connect();
      // The end of the log now: the replay is complete once every partition reached it.
      const ends = new Map<number, bigint>();
      try {
        for (const p of await admin.fetchTopicOffsets(options.topic)) ends.set(p.partition, BigInt(p.high));
      } finally {
        await admin.disconnect();
      }
      const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
      let caughtUp!: () => void;
      const replayed = new Promise<void>((resolve) => (caughtUp = resolve));
      if (pending.size === 0) caughtUp();

      const consumer = kafka.consumer({ groupId: `credex-control-${randomUUID()}`, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 100 });
      consumers.add(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: options.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          onRecord({ key: message.key?.toString("utf8") ?? "", value: message.value ?? Buffer.alloc(0) });
          if (pending.has(partition) && BigInt(message.offset) + 1n >= ends.get(partition)!) {
            pending.delete(partition);
            if (pending.size === 0) caughtUp();
          }
        },
      });
      // A replica must not serve on a partial revocation state: give up (and fail the start) rather than wait for ever.
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          replayed,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`the control topic ${options.topic} was not replayed within ${replayTimeoutMs} ms`)), replayTimeoutMs);
          }),
        ]);
      } catch (err) {
        consumers.delete(consumer);
        await consumer.disconnect().catch(() => undefined);
        throw err;
      } finally {
        clearTimeout(timer);
      }
      return {
        async close() {
          consumers.delete(consumer);
          await consumer.disconnect();
        },
      };
    },
    async close() {
      await Promise.all([...consumers].map((c) => c.disconnect()));
      consumers.clear();
      await producer?.disconnect();
      producer = undefined;
    },
  };
}
