import { randomBytes } from "node:crypto";
import { createKafkaClient, type KafkaLogLevel } from "./kafka-client.js";

/** One Kafka record as read, without kafkajs types. */
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
  readonly logLevel?: KafkaLogLevel;
}

export interface ReadKafkaTopicResult {
  readonly records: number;
  readonly partitions: number;
}

/**
 * Reads every partition of a topic from a start point up to its high
 * watermark at the time of the call, then stops (a bounded scan, for the
 * officers' tools). Uses a throwaway consumer group, deleted afterwards, and
 * commits no offsets.
 */
export async function readKafkaTopic(opts: ReadKafkaTopicOptions): Promise<ReadKafkaTopicResult> {
  const kafka = createKafkaClient({ brokers: opts.brokers, clientId: "credex-audit-reader", logLevel: opts.logLevel ?? "nothing" });
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(opts.topic)) throw new Error(`Kafka topic ${opts.topic} does not exist at ${opts.brokers}`);
    const offsets = await admin.fetchTopicOffsets(opts.topic);
    const starts = new Map<number, bigint>(offsets.map((o) => [o.partition, BigInt(o.low)]));
    if (opts.from) {
      for (const o of await admin.fetchTopicOffsetsByTimestamp(opts.topic, opts.from.getTime())) {
        const s = BigInt(o.offset);
        if (s >= 0n) starts.set(o.partition, s > (starts.get(o.partition) ?? 0n) ? s : (starts.get(o.partition) ?? 0n));
      }
    }
    if (opts.startOffsets) {
      for (const [p, start] of starts) {
        const at = opts.startOffsets[p];
        if (at !== undefined && at > start) starts.set(p, at);
      }
    }
    const FOREVER = 2n ** 63n;
    const ends = new Map<number, bigint>(offsets.map((o) => [o.partition, opts.follow ? FOREVER : BigInt(o.high)]));
    if (opts.tailPerPartition !== undefined) {
      for (const [p, high] of ends) {
        const h = high === FOREVER ? BigInt(offsets.find((o) => o.partition === p)?.high ?? "0") : high;
        const tailStart = h - BigInt(opts.tailPerPartition);
        if (tailStart > (starts.get(p) as bigint)) starts.set(p, tailStart);
      }
    }
    const pending = new Set([...ends].filter(([p, high]) => (starts.get(p) ?? 0n) < high).map(([p]) => p));
    const total = opts.follow ? 0 : [...pending].reduce((n, p) => n + Number((ends.get(p) as bigint) - (starts.get(p) as bigint)), 0);
    opts.onProgress?.(0, total);
    if (pending.size === 0) return { records: 0, partitions: offsets.length };

    const groupId = `credex-audit-reader-${randomBytes(6).toString("hex")}`;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    let read = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
      // A fresh group starts at the beginning; later starts (--from) are sought once the group is joined.
      const low = new Map(offsets.map((o) => [o.partition, BigInt(o.low)]));
      const toSeek = [...pending].filter((p) => (starts.get(p) as bigint) > (low.get(p) as bigint));
      if (toSeek.length > 0) {
        consumer.on(consumer.events.GROUP_JOIN, () => {
          for (const p of toSeek) consumer.seek({ topic: opts.topic, partition: p, offset: String(starts.get(p)) });
        });
      }
      await new Promise<void>((resolve, reject) => {
        let idle: NodeJS.Timeout | undefined;
        if (opts.follow) {
          if (opts.follow.aborted) resolve();
          opts.follow.addEventListener("abort", () => resolve(), { once: true });
        }
        const arm = () => {
          clearTimeout(idle);
          if (opts.follow) return;
          idle = setTimeout(() => reject(new Error(`no record from ${opts.topic} for ${opts.idleTimeoutMs ?? 30_000} ms (${read}/${total} read)`)), opts.idleTimeoutMs ?? 30_000);
        };
        arm();
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              if (!pending.has(partition)) return;
              const offset = BigInt(message.offset);
              const end = ends.get(partition) as bigint;
              if (offset < (starts.get(partition) as bigint)) return;
              if (offset < end) {
                const headers: Record<string, string> = {};
                for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString("utf8") : String(v);
                await opts.onRecord({
                  topic: opts.topic,
                  partition,
                  offset: message.offset,
                  key: message.key?.toString("utf8"),
                  value: message.value ?? Buffer.alloc(0),
                  headers,
                  timestamp: Number(message.timestamp),
                });
                read++;
                if (read % 1000 === 0) opts.onProgress?.(read, total);
                arm();
              }
              if (offset >= end - 1n) {
                pending.delete(partition);
                if (pending.size === 0) {
                  clearTimeout(idle);
                  resolve();
                }
              }
            },
          })
          .catch(reject);
      });
      opts.onProgress?.(read, total);
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return { records: read, partitions: offsets.length };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
