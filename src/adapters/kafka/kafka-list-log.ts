import { createHash, randomUUID } from "node:crypto";
import type { Consumer } from "kafkajs";
import { advance, type ListLog, type LogBatch, type LogMessage, type LogPosition, type LogReader, type LogRecord } from "../../core/lists/list-log.js";
import { createKafkaClient, type KafkaLogLevel } from "./kafka-client.js";
import { createKafkaTopics } from "./kafka-admin.js";

/** A reader whose consumer keeps crashing gives up after this many restarts (the subscription then ends with an error). */
const MAX_READER_RESTARTS = 10;

export interface KafkaListLogOptions {
  readonly brokers: string;
  /** credex.lists.v1 by default. */
  readonly topic: string;
  /** Partitions when the gateway creates the topic. */
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly clientId?: string;
  readonly logLevel?: KafkaLogLevel;
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
  await createKafkaTopics(
    options.brokers,
    [{ topic, partitions: options.partitions, replicationFactor: options.replicationFactor ?? 1, configs: { "cleanup.policy": "compact", "min.insync.replicas": "1" } }],
    options.logLevel,
  );
  const kafka = createKafkaClient({ brokers: options.brokers, clientId: options.clientId ?? "credex-lists", logLevel: options.logLevel ?? "nothing" });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  try {
    await producer.connect();
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw err;
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitionCount = metadata.topics[0]?.partitions.length ?? 0;
  if (partitionCount === 0) throw new Error(`Kafka topic ${topic} has no partitions`);
  const readers = new Set<LogReader>();

  const partitionOf = (key: string) => createHash("sha256").update(key).digest().readUInt32BE(0) % partitionCount;

  return {
    name: topic,
    async append(messages: readonly LogMessage[]) {
      const partitions = messages.map((m) => partitionOf(m.key));
      const result = await producer.send({
        topic,
        acks: -1,
        messages: messages.map((m, i) => ({ key: m.key, value: Buffer.from(m.value), partition: partitions[i]! })),
      });
      const base = new Map<number, bigint>();
      for (const r of result) base.set(r.partition, BigInt(r.baseOffset ?? "0"));
      // Within one produce request a partition's messages are appended in order from its base offset.
      const seen = new Map<number, bigint>();
      return partitions.map((partition) => {
        const n = seen.get(partition) ?? 0n;
        seen.set(partition, n + 1n);
        return { partition, offset: base.get(partition)! + n };
      });
    },
    async endPosition(): Promise<LogPosition> {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    },
    async read(from: LogPosition, onBatch: (batch: LogBatch) => Promise<void>): Promise<LogReader> {
      // Where this reader is: advanced only after onBatch resolved, so a restart resumes exactly there.
      const position = new Map(from);
      let stopped = false;
      let current: Consumer | undefined;
      let failed: (err: unknown) => void = () => undefined;
      let finished: () => void = () => undefined;
      const done = new Promise<void>((resolve, reject) => {
        finished = resolve;
        failed = reject;
      });
      done.catch(() => undefined);
      let restarts = 0;

      const startConsumer = async (): Promise<void> => {
        if (stopped) return;
        // kafkajs would restart a crashed consumer itself but forget our seeks (a fresh broker's
        // coordinator is "loading" for a while): we restart it ourselves from `position`.
        const consumer = kafka.consumer({ groupId: `credex-lists-reader-${randomUUID()}`, maxWaitTimeInMs: 100, retry: { retries: 5, restartOnFailure: async () => false } });
        current = consumer;
        let crashed = false;
        consumer.on(consumer.events.CRASH, (event) => {
          crashed = true;
          if (stopped || current !== consumer) return;
          void consumer.disconnect().catch(() => undefined);
          if (++restarts > MAX_READER_RESTARTS) {
            failed(event.payload.error);
            return;
          }
          setTimeout(() => void startConsumer().catch(failed), Math.min(5_000, 200 * restarts));
        });
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            if (stopped || current !== consumer) return;
            const records: LogRecord[] = batch.messages.map((m) => ({
              partition: batch.partition,
              offset: BigInt(m.offset),
              key: m.key?.toString("utf8") ?? "",
              value: m.value ? new Uint8Array(m.value) : new Uint8Array(),
            }));
            if (records.length > 0) {
              await onBatch({ partition: batch.partition, records });
              advance(position, records[records.length - 1]!);
            }
            for (const m of batch.messages) resolveOffset(m.offset);
            await heartbeat();
          },
        });
        if (stopped) {
          await consumer.disconnect().catch(() => undefined);
          return;
        }
        // A fetch that started before these seeks took effect is harmless: readers skip offsets below their position.
        // A consumer that crashed while joining has no group to seek in: its restart seeks instead.
        try {
          if (current === consumer) for (const [partition, offset] of position) consumer.seek({ topic, partition, offset: offset.toString() });
        } catch (err) {
          if (!crashed) throw err;
        }
      };

      const reader: LogReader = {
        done,
        async close() {
          if (stopped) return;
          stopped = true;
          readers.delete(reader);
          await current?.disconnect().catch(() => undefined);
          finished();
        },
      };
      readers.add(reader);
      try {
        await startConsumer();
      } catch (err) {
        await reader.close();
        throw err;
      }
      return reader;
    },
    async close() {
      await Promise.all([...readers].map((r) => r.close()));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
