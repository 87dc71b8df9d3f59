import { createHash } from "node:crypto";
import type { ListLog, LogBatch, LogMessage, LogPosition, LogReader, LogRecord } from "../../core/lists/list-log.js";
import { createKafkaAdmin, createKafkaProducer, type KafkaTlsFiles } from "./kafka-client.js";
import { createKafkaTopics, fetchTopicOffsets } from "./kafka-admin.js";
import { followTopic } from "./kafka-topic-follower.js";

/** A reader whose consumer keeps crashing gives up after this many restarts (the subscription then ends with an error). */
const MAX_READER_RESTARTS = 10;

export interface KafkaListLogOptions {
  readonly brokers: string;
  /** Kafka over TLS with a client certificate; absent: plaintext. */
  readonly tls?: KafkaTlsFiles | undefined;
  /** credex.lists.v1 by default. */
  readonly topic: string;
  /** Partitions when the gateway creates the topic. */
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly clientId?: string;
}

/**
 * The list log on Kafka. The topic is created at start if missing, compacted
 * (the latest record per list + subject is the list's state, as a late
 * subscriber's snapshot reads it). Messages are placed on partitions by a
 * hash of their key, chosen here so each append knows its offsets.
 * Producer: idempotent, acks=all (TOOLCHAIN.md). Each reader is a consumer in
 * a group of its own that commits nothing: the subscriber's cursor is the
 * only position there is.
 */
export async function openKafkaListLog(options: KafkaListLogOptions): Promise<ListLog> {
  const { topic } = options;
  await createKafkaTopics(options.brokers, [
    { topic, partitions: options.partitions, replicationFactor: options.replicationFactor ?? 1, configs: { "cleanup.policy": "compact", "min.insync.replicas": "1" } },
  ], options.tls);
  const clientId = options.clientId ?? "credex-lists";
  const admin = createKafkaAdmin({ brokers: options.brokers, tls: options.tls, clientId });
  const producer = createKafkaProducer({ brokers: options.brokers, tls: options.tls, clientId, idempotent: true });
  let partitionCount: number;
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    partitionCount = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (partitionCount === 0) throw new Error(`Kafka topic ${topic} has no partitions`);
  } catch (err) {
    await admin.close().catch(() => undefined);
    await producer.close().catch(() => undefined);
    throw err;
  }
  const readers = new Set<LogReader>();

  const partitionOf = (key: string) => createHash("sha256").update(key).digest().readUInt32BE(0) % partitionCount;

  return {
    name: topic,
    async append(messages: readonly LogMessage[]) {
      const partitions = messages.map((m) => partitionOf(m.key));
      const result = await producer.send({ messages: messages.map((m, i) => ({ topic, key: m.key, value: Buffer.from(m.value), partition: partitions[i]! })) });
      const base = new Map<number, bigint>();
      for (const r of result.offsets ?? []) if (r.topic === topic) base.set(r.partition, r.offset);
      // Within one produce request a partition's messages are appended in order from its base offset.
      const seen = new Map<number, bigint>();
      return partitions.map((partition) => {
        const n = seen.get(partition) ?? 0n;
        seen.set(partition, n + 1n);
        return { partition, offset: base.get(partition)! + n };
      });
    },
    async endPosition(): Promise<LogPosition> {
      return new Map((await fetchTopicOffsets(admin, topic)).map((o) => [o.partition, o.high]));
    },
    async read(from: LogPosition, onBatch: (batch: LogBatch) => Promise<void>): Promise<LogReader> {
      let stopped = false;
      let failed: (err: unknown) => void = () => undefined;
      let finished: () => void = () => undefined;
      const done = new Promise<void>((resolve, reject) => {
        finished = resolve;
        failed = reject;
      });
      done.catch(() => undefined);
      // Where this reader is advances only after onBatch resolved, so a restarted consumer (a fresh
      // broker's coordinator is "loading" for a while) resumes exactly there.
      const follower = await followTopic({
        brokers: options.brokers,
        tls: options.tls,
        clientId,
        groupPrefix: "credex-lists-reader",
        topic,
        from,
        maxWaitTimeMs: 100,
        maxRestarts: MAX_READER_RESTARTS,
        onGiveUp: (err) => failed(err),
        onBatch: async (partition, messages) => {
          if (stopped) return;
          const records: LogRecord[] = messages.map((m) => ({
            partition,
            offset: m.offset,
            key: m.key?.toString("utf8") ?? "",
            value: m.value ? new Uint8Array(m.value) : new Uint8Array(),
          }));
          await onBatch({ partition, records });
        },
      });
      const reader: LogReader = {
        done,
        async close() {
          if (stopped) return;
          stopped = true;
          readers.delete(reader);
          await follower.close();
          finished();
        },
      };
      readers.add(reader);
      return reader;
    },
    async close() {
      await Promise.all([...readers].map((r) => r.close()));
      await producer.close().catch(() => undefined);
      await admin.close().catch(() => undefined);
    },
  };
}
