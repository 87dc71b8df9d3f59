import type { Admin } from "kafkajs";
import { createKafkaClient, type KafkaLogLevel } from "./kafka-client.js";

export interface WaitForKafkaOptions {
  /** Stops waiting early, e.g. when the broker process has exited. */
  readonly signal?: AbortSignal;
  /** Pause between two probes. */
  readonly intervalMs?: number;
  readonly logLevel?: KafkaLogLevel;
}

/** What a reachable cluster reported. */
export interface KafkaClusterInfo {
  readonly clusterId: string;
  readonly controller: number | null;
  readonly brokers: string[];
}

/**
 * One readiness probe: connects and asks for the cluster metadata
 * (DescribeCluster falls back to Metadata in kafkajs). Rejects when the broker
 * does not answer within `timeoutMs`.
 */
export async function describeKafkaCluster(brokers: string, timeoutMs: number, logLevel?: KafkaLogLevel): Promise<KafkaClusterInfo> {
  const admin = createKafkaClient({
    brokers,
    clientId: "credex-probe",
    logLevel: logLevel ?? "nothing",
    connectionTimeoutMs: Math.min(timeoutMs, 3_000),
    requestTimeoutMs: timeoutMs,
    retries: 0,
  }).admin();
  try {
    await admin.connect();
    const c = await admin.describeCluster();
    return { clusterId: c.clusterId, controller: c.controller, brokers: c.brokers.map((b) => `${b.host}:${b.port}`) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Polls `describeKafkaCluster` until the cluster answers or `timeoutMs` has
 * passed; the rejection carries the last probe error as its cause.
 */
export async function waitForKafka(brokers: string, timeoutMs: number, options: WaitForKafkaOptions = {}): Promise<KafkaClusterInfo> {
  const deadline = Date.now() + timeoutMs;
  const interval = options.intervalMs ?? 500;
  let lastError: unknown;
  for (;;) {
    if (options.signal?.aborted) {
      throw new Error(`stopped waiting for Kafka at ${brokers}: ${String(options.signal.reason ?? "aborted")}`, { cause: lastError });
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      return await describeKafkaCluster(brokers, Math.max(1_000, Math.min(left, 5_000)), options.logLevel);
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`Kafka at ${brokers} was not ready within ${timeoutMs} ms (last error: ${why})`, { cause: lastError });
}

export interface KafkaTopicSpec {
  readonly topic: string;
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** Topic-level configs, e.g. {"min.insync.replicas": "1"}. */
  readonly configs?: Readonly<Record<string, string>>;
}

/** Bound on the wait for a topic's partition leaders (a fresh topic, or a broker that just restarted). */
export const TOPIC_LEADERS_TIMEOUT_MS = 30_000;

/**
 * What a broker answers for a topic it has not applied yet, or a partition whose leader is
 * being elected. In KRaft the controller acknowledges CreateTopics once the record is
 * committed; the broker applies it from the metadata log a moment later, and until then its
 * Metadata answer is UNKNOWN_TOPIC_OR_PARTITION (KIP-500/KIP-631). The same holds after a
 * restart, while the broker catches up on the metadata log.
 */
const NOT_YET = new Set(["UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE", "NOT_LEADER_OR_FOLLOWER", "NOT_LEADER_FOR_PARTITION", "REPLICA_NOT_AVAILABLE"]);

/**
 * Waits until every partition of `topics` has a leader, so a producer can write and offsets
 * can be read at once. kafkajs's own `createTopics({waitForLeaders: true})` retries only
 * LEADER_NOT_AVAILABLE and fails on UNKNOWN_TOPIC_OR_PARTITION, which KRaft answers for a
 * moment after a create; this retries both, and fails only after `timeoutMs`, with the last
 * answer as the cause.
 */
export async function waitForTopicLeaders(admin: Admin, topics: readonly string[], timeoutMs = TOPIC_LEADERS_TIMEOUT_MS): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const md = await admin.fetchTopicMetadata({ topics: [...topics] });
      const leaderless = md.topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0)).map((t) => t.name);
      if (leaderless.length === 0 && md.topics.length === topics.length) return;
      last = new Error(`no leader yet for ${leaderless.join(", ") || "some topics"}`);
    } catch (err) {
      // kafkajs wraps the last error once its own retries are spent.
      const e = err as { type?: string; cause?: { type?: string } };
      if (!NOT_YET.has(e.type ?? e.cause?.type ?? "")) throw err;
      last = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const why = last instanceof Error ? last.message : String(last);
  throw new Error(`Kafka topics ${topics.join(", ")} had no leader within ${timeoutMs} ms (last answer: ${why})`, { cause: last });
}

/**
 * Creates the topics that do not exist yet and waits for their leaders, so a
 * producer can write at once (the dev broker has auto.create.topics.enable=false).
 * Resolves to the names it created.
 */
export async function createKafkaTopics(brokers: string, topics: readonly KafkaTopicSpec[], logLevel?: KafkaLogLevel): Promise<string[]> {
  const admin = createKafkaClient({ brokers, clientId: "credex-admin", logLevel: logLevel ?? "nothing" }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        // kafkajs's wait fails on UNKNOWN_TOPIC_OR_PARTITION: see waitForTopicLeaders.
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions ?? 1,
          replicationFactor: t.replicationFactor ?? 1,
          configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    // Existing topics too: after a broker restart their leaders may still be elected.
    await waitForTopicLeaders(admin, topics.map((t) => t.topic));
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
