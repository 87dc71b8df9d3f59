import { randomBytes } from "node:crypto";
import { MessagesStreamModes, type Message } from "@platformatic/kafka";
import { fetchTopicOffsets, offsetsAt } from "./kafka-admin.js";
import { createKafkaAdmin, createKafkaConsumer, kafkaFailureExplained, type KafkaTlsFiles } from "./kafka-client.js";

/** One Kafka record as read, without the client's types. */
export interface KafkaRecordRead {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch (producer or log-append time). */
  readonly timestamp: number;
}

export interface ReadKafkaTopicOptions {
  readonly brokers: string;
  /** Kafka over TLS with a client certificate; absent: plaintext. */
  readonly tls?: KafkaTlsFiles | undefined;
  readonly topic: string;
  /** Start at the first record at or after this time (default: the beginning). */
  readonly from?: Date;
  /** Keep reading new records until this signal aborts (tail -f), instead of stopping at the end. */
  readonly follow?: AbortSignal;
  /** Read at most the last n records of each partition. */
  readonly tailPerPartition?: number;
  /** Per partition (index = partition id), start no earlier than this offset. */
  readonly startOffsets?: readonly bigint[];
  readonly onRecord: (record: KafkaRecordRead) => void | Promise<void>;
  /** Called now and then with records read and the total to read. */
  readonly onProgress?: (read: number, total: number) => void;
  /** Fail when nothing arrives for this long (default 30 s). */
  readonly idleTimeoutMs?: number;
}

export interface ReadKafkaTopicResult {
  readonly records: number;
  readonly partitions: number;
}

/** A record as the client delivers it (bytes), in the shape the readers hand on. */
export function recordRead(topic: string, m: Message): KafkaRecordRead {
  const headers: Record<string, string> = {};
  for (const [k, v] of m.headers) if (k) headers[k.toString("utf8")] = v ? v.toString("utf8") : "";
  return {
    topic,
    partition: m.partition,
    offset: m.offset.toString(),
    key: m.key ? m.key.toString("utf8") : undefined,
    value: m.value ?? Buffer.alloc(0),
    headers,
    timestamp: Number(m.timestamp),
  };
}

/**
 * Reads every partition of a topic from a start point up to its high
 * watermark at the time of the call, then stops (a bounded scan, for the
 * officers' tools). Uses a throwaway consumer group, deleted afterwards, and
 * commits no offsets: the start offsets are given to the consumer, not looked up.
 */
export async function readKafkaTopic(opts: ReadKafkaTopicOptions): Promise<ReadKafkaTopicResult> {
  return readTopic(opts).catch(async (err: unknown) => Promise.reject(await kafkaFailureExplained(opts, err)));
}

async function readTopic(opts: ReadKafkaTopicOptions): Promise<ReadKafkaTopicResult> {
  const admin = createKafkaAdmin({ brokers: opts.brokers, tls: opts.tls, clientId: "credex-audit-reader" });
  try {
    if (!(await admin.listTopics()).includes(opts.topic)) throw new Error(`Kafka topic ${opts.topic} does not exist at ${opts.brokers}`);
    const offsets = await fetchTopicOffsets(admin, opts.topic);
    const starts = new Map<number, bigint>(offsets.map((o) => [o.partition, o.low]));
    if (opts.from) {
      for (const [p, s] of await offsetsAt(admin, opts.topic, offsets.map((o) => o.partition), BigInt(opts.from.getTime()))) {
        // -1: no record at or after the time; the read starts at the end of that partition.
        const at = s >= 0n ? s : (offsets.find((o) => o.partition === p)?.high ?? 0n);
        if (at > (starts.get(p) ?? 0n)) starts.set(p, at);
      }
    }
    if (opts.startOffsets) {
      for (const [p, start] of starts) {
        const at = opts.startOffsets[p];
        if (at !== undefined && at > start) starts.set(p, at);
      }
    }
    const FOREVER = 2n ** 63n;
    const ends = new Map<number, bigint>(offsets.map((o) => [o.partition, opts.follow ? FOREVER : o.high]));
    if (opts.tailPerPartition !== undefined) {
      for (const o of offsets) {
        const tailStart = o.high - BigInt(opts.tailPerPartition);
        if (tailStart > (starts.get(o.partition) as bigint)) starts.set(o.partition, tailStart);
      }
    }
    const pending = new Set([...ends].filter(([p, high]) => (starts.get(p) ?? 0n) < high).map(([p]) => p));
    const total = opts.follow ? 0 : [...pending].reduce((n, p) => n + Number((ends.get(p) as bigint) - (starts.get(p) as bigint)), 0);
    opts.onProgress?.(0, total);
    if (pending.size === 0) return { records: 0, partitions: offsets.length };

    const groupId = `credex-audit-reader-${randomBytes(6).toString("hex")}`;
    const consumer = createKafkaConsumer({ brokers: opts.brokers, tls: opts.tls, clientId: "credex-audit-reader", groupId, maxWaitTimeMs: 200 });
    let read = 0;
    let idle: NodeJS.Timeout | undefined;
    try {
      const stream = await consumer.consume({
        topics: [opts.topic],
        mode: MessagesStreamModes.MANUAL,
        offsets: [...starts].map(([partition, offset]) => ({ topic: opts.topic, partition, offset })),
      });
      const idleMs = opts.idleTimeoutMs ?? 30_000;
      const arm = () => {
        clearTimeout(idle);
        if (opts.follow) return;
        idle = setTimeout(() => stream.destroy(new Error(`no record from ${opts.topic} for ${idleMs} ms (${read}/${total} read)`)), idleMs);
      };
      const stop = () => void stream.close().catch(() => undefined);
      if (opts.follow?.aborted) stop();
      opts.follow?.addEventListener("abort", stop, { once: true });
      arm();
      try {
        for await (const message of stream as AsyncIterable<Message>) {
          const { partition, offset } = message;
          if (!pending.has(partition) || offset < (starts.get(partition) as bigint)) continue;
          const end = ends.get(partition) as bigint;
          if (offset < end) {
            await opts.onRecord(recordRead(opts.topic, message));
            read++;
            if (read % 1000 === 0) opts.onProgress?.(read, total);
            arm();
          }
          if (offset >= end - 1n) {
            pending.delete(partition);
            if (pending.size === 0) break;
          }
        }
      } finally {
        opts.follow?.removeEventListener("abort", stop);
        await stream.close().catch(() => undefined);
      }
      opts.onProgress?.(read, total);
    } finally {
      clearTimeout(idle);
      await consumer.close(true).catch(() => undefined);
      await admin.deleteGroups({ groups: [groupId] }).catch(() => undefined);
    }
    return { records: read, partitions: offsets.length };
  } finally {
    await admin.close().catch(() => undefined);
  }
}
