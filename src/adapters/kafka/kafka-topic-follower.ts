import { randomUUID } from "node:crypto";
import { MessagesStreamModes, type Consumer, type Message, type MessagesStream } from "@platformatic/kafka";
import { createKafkaConsumer, type KafkaTlsFiles } from "./kafka-client.js";

export interface FollowTopicOptions {
  readonly brokers: string;
  /** Kafka over TLS with a client certificate; absent: plaintext. */
  readonly tls?: KafkaTlsFiles | undefined;
  readonly clientId: string;
  /** Each consumer joins a fresh group named `<groupPrefix>-<uuid>`, alone: it reads every partition. */
  readonly groupPrefix: string;
  readonly topic: string;
  /** Per partition, the offset to start at; a partition not named starts at 0. */
  readonly from: ReadonlyMap<number, bigint>;
  /** Records of one partition, in offset order; the next batch waits until this one resolved. */
  readonly onBatch: (partition: number, messages: readonly Message[]) => void | Promise<void>;
  /** A consumer that fails (or whose onBatch throws) is replaced from where delivery stood, at most this many times (default: without end). */
  readonly maxRestarts?: number;
  /** Called once when the restarts are spent, with the last error. */
  readonly onGiveUp?: (err: unknown) => void;
  readonly maxWaitTimeMs?: number;
}

export interface TopicFollower {
  close(): Promise<void>;
}

/**
 * Follows every partition of a topic from given offsets, with no committed offsets: the position
 * is where delivery stands (advanced only after onBatch resolved), kept here across failures. A
 * consumer that fails is replaced by a new one, in a new group, that starts exactly there, so no
 * record is skipped and none is delivered twice. Rejects when the first consumer cannot start.
 */
export async function followTopic(opts: FollowTopicOptions): Promise<TopicFollower> {
  const position = new Map(opts.from);
  const maxRestarts = opts.maxRestarts ?? Infinity;
  let stopped = false;
  let restarts = 0;
  let current: { consumer: Consumer; stream?: MessagesStream<Buffer, Buffer, Buffer, Buffer> } | undefined;

  const scheduleRestart = (err: unknown) => {
    if (stopped) return;
    if (++restarts > maxRestarts) {
      opts.onGiveUp?.(err);
      return;
    }
    setTimeout(() => void start().catch(scheduleRestart), Math.min(5_000, 200 * restarts));
  };
  const fail = (consumer: Consumer, err: unknown) => {
    if (stopped || current?.consumer !== consumer) return;
    current = undefined;
    void consumer.close(true).catch(() => undefined);
    scheduleRestart(err);
  };

  const start = async (): Promise<void> => {
    if (stopped) return;
    const consumer = createKafkaConsumer({ brokers: opts.brokers, tls: opts.tls, clientId: opts.clientId, groupId: `${opts.groupPrefix}-${randomUUID()}`, ...(opts.maxWaitTimeMs !== undefined && { maxWaitTimeMs: opts.maxWaitTimeMs }) });
    current = { consumer };
    try {
      const md = await consumer.metadata({ topics: [opts.topic], forceUpdate: true });
      const count = md.topics.get(opts.topic)?.partitionsCount ?? 0;
      if (count === 0) throw new Error(`Kafka topic ${opts.topic} has no partitions`);
      const offsets = Array.from({ length: count }, (_, partition) => ({ topic: opts.topic, partition, offset: position.get(partition) ?? 0n }));
      const stream = await consumer.consume({ topics: [opts.topic], mode: MessagesStreamModes.MANUAL, offsets });
      if (stopped || current?.consumer !== consumer) {
        await stream.close().catch(() => undefined);
        await consumer.close(true).catch(() => undefined);
        return;
      }
      current.stream = stream;
      // Records arriving together are handed on together, per partition (one onBatch each).
      let buffered = new Map<number, Message[]>();
      let flushing = false;
      const flush = async () => {
        stream.pause();
        try {
          while (buffered.size > 0 && !stopped && current?.consumer === consumer) {
            const batch = buffered;
            buffered = new Map();
            for (const [partition, messages] of batch) {
              const fresh = messages.filter((m) => m.offset >= (position.get(partition) ?? 0n));
              if (fresh.length === 0) continue;
              await opts.onBatch(partition, fresh);
              position.set(partition, fresh[fresh.length - 1]!.offset + 1n);
            }
          }
        } finally {
          flushing = false;
          if (!stopped && current?.consumer === consumer) stream.resume();
        }
      };
      stream.on("data", (m: Message) => {
        if (stopped || current?.consumer !== consumer) return;
        const list = buffered.get(m.partition);
        if (list) list.push(m);
        else buffered.set(m.partition, [m]);
        if (flushing) return;
        flushing = true;
        setImmediate(() => void flush().catch((err: unknown) => fail(consumer, err)));
      });
      stream.on("error", (err) => fail(consumer, err));
    } catch (err) {
      if (current?.consumer === consumer) current = undefined;
      await consumer.close(true).catch(() => undefined);
      throw err;
    }
  };

  await start();
  return {
    async close() {
      if (stopped) return;
      stopped = true;
      const c = current;
      current = undefined;
      await c?.stream?.close().catch(() => undefined);
      await c?.consumer.close(true).catch(() => undefined);
    },
  };
}
