import type { Admin } from "@platformatic/kafka";
import type { ControlChannel } from "../../core/control/control-channel.js";
import { LONGEST_CERTIFICATE_VALIDITY_MS } from "../../core/control/revocation-item.js";
import { createKafkaAdmin, createKafkaProducer, type KafkaProducer, type KafkaTlsFiles } from "./kafka-client.js";
import { createKafkaTopics, describeTopicConfigs, fetchTopicOffsets } from "./kafka-admin.js";
import { followTopic, type TopicFollower } from "./kafka-topic-follower.js";

export interface KafkaControlChannelOptions {
  /** Comma-separated host:port list. */
  readonly brokers: string;
  /** Kafka over TLS with a client certificate; absent: plaintext. */
  readonly tls?: KafkaTlsFiles | undefined;
  readonly topic: string;
  readonly clientId?: string;
  /** Bound on the replay at subscribe (default 30 s). */
  readonly replayTimeoutMs?: number;
  /**
   * What to do at subscribe when the topic's config can drop a revocation
   * (controlTopicProblems): "refuse" throws (production), a function is told
   * (development: the gateway logs it). Default: nothing.
   */
  readonly onUnsafeTopic?: "refuse" | ((problems: string) => void);
}

/**
 * Topic config of the control topic: compacted, so the latest record of each
 * key (`<type>/<id>`) is kept and a replica that starts reads the current
 * state from offset 0; tombstones are kept a day.
 */
export const CONTROL_TOPIC_CONFIGS: Readonly<Record<string, string>> = Object.freeze({
  "cleanup.policy": "compact",
  // Compaction keeps the latest record per key: a tombstone or a forged record under a revocation's key
  // would erase the revocation at the next clean. No record is compacted before it is this old, so a
  // revocation stays until the certificate it revokes has expired.
  "min.compaction.lag.ms": String(LONGEST_CERTIFICATE_VALIDITY_MS),
  // That age is measured by the broker's clock: a producer cannot date its records back.
  "message.timestamp.type": "LogAppendTime",
  "delete.retention.ms": String(24 * 3600 * 1000),
  // A policy bundle of 100k lines is ≈1 MB gzip'd, 1.3 MB in its envelope: above the 1 MB broker default.
  "max.message.bytes": String(16 * 1024 * 1024),
});

const CHECKED_CONFIGS = ["cleanup.policy", "min.compaction.lag.ms", "message.timestamp.type", "retention.ms"];

/** Why a topic's config can drop a control item before its time ("" when it cannot): a topic created before this config, or by hand. */
export function controlTopicProblems(config: Readonly<Record<string, string | undefined>>): string {
  const problems: string[] = [];
  const policy = config["cleanup.policy"] ?? "";
  const retention = Number(config["retention.ms"] ?? "-1");
  if (policy.includes("delete") && retention !== -1 && retention < LONGEST_CERTIFICATE_VALIDITY_MS) {
    problems.push(`cleanup.policy ${policy} deletes records after retention.ms ${retention}`);
  }
  if (policy.includes("compact") && Number(config["min.compaction.lag.ms"] ?? "0") < LONGEST_CERTIFICATE_VALIDITY_MS) {
    problems.push(`min.compaction.lag.ms ${config["min.compaction.lag.ms"] ?? "0"} lets compaction drop a revocation under a later record or tombstone before the certificate expires`);
  }
  if (config["message.timestamp.type"] !== "LogAppendTime") problems.push(`message.timestamp.type ${config["message.timestamp.type"] ?? "CreateTime"} lets producers date records back`);
  return problems.join("; ");
}

async function checkTopic(admin: Admin, topic: string): Promise<string> {
  const config = (await describeTopicConfigs(admin, [topic], CHECKED_CONFIGS)).get(topic) ?? {};
  const problems = controlTopicProblems(config);
  if (problems === "") return "";
  const fix = Object.entries(CONTROL_TOPIC_CONFIGS).filter(([name]) => CHECKED_CONFIGS.includes(name) && name !== "cleanup.policy");
  return `control topic ${topic}: ${problems} (fix: kafka-configs --alter --entity-type topics --entity-name ${topic} --add-config ${fix.map(([n, v]) => `${n}=${v}`).join(",")})`;
}

/**
 * The control channel on Kafka (credex.control.v1). Each subscriber joins
 * its own, fresh consumer group, so every gateway replica reads every record
 * from the beginning (groups share partitions; replicas must not). One
 * partition keeps items in publication order.
 */
export function createKafkaControlChannel(options: KafkaControlChannelOptions): ControlChannel {
  const clientId = options.clientId ?? "credex-control";
  let producer: KafkaProducer | undefined;
  let topicReady: Promise<unknown> | undefined;
  const followers = new Set<TopicFollower>();
  const replayTimeoutMs = options.replayTimeoutMs ?? 30_000;
  const ensureTopic = () => (topicReady ??= createKafkaTopics(options.brokers, [{ topic: options.topic, partitions: 1, configs: CONTROL_TOPIC_CONFIGS }], options.tls));
  const stop = async (follower: TopicFollower) => {
    followers.delete(follower);
    await follower.close();
  };

  return {
    description: `kafka ${options.topic} @ ${options.brokers}`,
    async publish(record) {
      await ensureTopic();
      producer ??= createKafkaProducer({ brokers: options.brokers, tls: options.tls, clientId, idempotent: true });
      await producer.send({ messages: [{ topic: options.topic, key: record.key, value: Buffer.from(record.value) }] });
    },
    async subscribe(onRecord) {
      await ensureTopic();
      const admin = createKafkaAdmin({ brokers: options.brokers, tls: options.tls, clientId });
      // The end of the log now: the replay is complete once every partition reached it.
      const ends = new Map<number, bigint>();
      let unsafe = "";
      try {
        if (options.onUnsafeTopic) unsafe = await checkTopic(admin, options.topic);
        for (const p of await fetchTopicOffsets(admin, options.topic)) ends.set(p.partition, p.high);
      } finally {
        await admin.close();
      }
      if (unsafe !== "") {
        if (options.onUnsafeTopic === "refuse") throw new Error(`refusing the control channel: ${unsafe}`);
        options.onUnsafeTopic?.(unsafe);
      }
      const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
      let caughtUp!: () => void;
      const replayed = new Promise<void>((resolve) => (caughtUp = resolve));
      if (pending.size === 0) caughtUp();

      // Every record from offset 0, by a reader of its own that commits nothing; a failed reader is
      // replaced from where delivery stood, so each record is delivered once and the consumer never
      // takes history for a replay (a bundle's ROLLBACK).
      const delivered = new Map<number, bigint>();
      const follower = await followTopic({
        brokers: options.brokers,
        tls: options.tls,
        clientId,
        groupPrefix: "credex-control",
        topic: options.topic,
        from: new Map(),
        maxWaitTimeMs: 100,
        onBatch: (partition, messages) => {
          for (const message of messages) {
            // A batch retried after onRecord threw is not delivered twice up to where it threw.
            if (message.offset <= (delivered.get(partition) ?? -1n)) continue;
            delivered.set(partition, message.offset);
            onRecord({ key: message.key?.toString("utf8") ?? "", value: message.value ?? Buffer.alloc(0) });
          }
          const last = messages[messages.length - 1]!.offset;
          if (pending.has(partition) && last + 1n >= ends.get(partition)!) {
            pending.delete(partition);
            if (pending.size === 0) caughtUp();
          }
        },
      });
      followers.add(follower);
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
        await stop(follower).catch(() => undefined);
        throw err;
      } finally {
        clearTimeout(timer);
      }
      return {
        async close() {
          await stop(follower);
        },
      };
    },
    async close() {
      await Promise.all([...followers].map(stop));
      await producer?.close();
      producer = undefined;
    },
  };
}
