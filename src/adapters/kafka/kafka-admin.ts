import { ConfigResourceTypes, ListOffsetTimestamps, type Admin } from "@platformatic/kafka";
import { createKafkaAdmin, explainingKafkaFailure, kafkaErrorCodes, kafkaErrorMessage, kafkaFailureExplained, type KafkaTlsFiles } from "./kafka-client.js";

export interface WaitForKafkaOptions {
  /** Stops waiting early, e.g. when the broker process has exited. */
  readonly signal?: AbortSignal;
  /** Pause between two probes. */
  readonly intervalMs?: number;
  readonly tls?: KafkaTlsFiles | undefined;
}

/** What a reachable cluster reported. */
export interface KafkaClusterInfo {
  readonly clusterId: string;
  readonly controller: number | null;
  readonly brokers: string[];
}

/**
 * One readiness probe: connects and asks for the cluster metadata. Rejects when the broker
 * does not answer within `timeoutMs`.
 */
export async function describeKafkaCluster(brokers: string, timeoutMs: number, tls?: KafkaTlsFiles): Promise<KafkaClusterInfo> {
  return explainingKafkaFailure({ brokers, tls }, () => describeCluster(brokers, timeoutMs, tls));
}

async function describeCluster(brokers: string, timeoutMs: number, tls: KafkaTlsFiles | undefined): Promise<KafkaClusterInfo> {
  const admin = createKafkaAdmin({ brokers, clientId: "credex-probe", connectionTimeoutMs: Math.min(timeoutMs, 3_000), requestTimeoutMs: timeoutMs, retries: 0, tls });
  try {
    const c = await admin.metadata({ topics: [], forceUpdate: true });
    return { clusterId: c.id, controller: c.controllerId >= 0 ? c.controllerId : null, brokers: [...c.brokers.values()].map((b) => `${b.host}:${b.port}`) };
  } finally {
    await admin.close().catch(() => undefined);
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
      return await describeKafkaCluster(brokers, Math.max(1_000, Math.min(left, 5_000)), options.tls);
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
  const why = kafkaErrorMessage(lastError);
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
const NOT_YET = ["UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE", "NOT_LEADER_OR_FOLLOWER", "REPLICA_NOT_AVAILABLE"];

/**
 * Waits until every partition of `topics` has a leader, so a producer can write and offsets
 * can be read at once. Retries the answers of NOT_YET, and fails only after `timeoutMs`,
 * with the last answer as the cause.
 */
export async function waitForTopicLeaders(admin: Admin, topics: readonly string[], timeoutMs = TOPIC_LEADERS_TIMEOUT_MS): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const md = await admin.metadata({ topics: [...topics], forceUpdate: true });
      const leaderless = topics.filter((t) => {
        const topic = md.topics.get(t);
        return !topic || topic.partitions.length === 0 || topic.partitions.some((p) => p === undefined || p.leader < 0);
      });
      if (leaderless.length === 0) return;
      last = new Error(`no leader yet for ${leaderless.join(", ")}`);
    } catch (err) {
      const codes = kafkaErrorCodes(err);
      if (!NOT_YET.some((c) => codes.has(c))) throw err;
      last = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const why = kafkaErrorMessage(last);
  throw new Error(`Kafka topics ${topics.join(", ")} had no leader within ${timeoutMs} ms (last answer: ${why})`, { cause: last });
}

/**
 * Creates the topics that do not exist yet and waits for their leaders, so a
 * producer can write at once (the dev broker has auto.create.topics.enable=false).
 * Resolves to the names it created.
 */
export async function createKafkaTopics(brokers: string, topics: readonly KafkaTopicSpec[], tls?: KafkaTlsFiles): Promise<string[]> {
  const admin = createKafkaAdmin({ brokers, clientId: "credex-admin", tls });
  try {
    return await createTopics(admin, topics);
  } catch (err) {
    throw await kafkaFailureExplained({ brokers, tls }, err);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function createTopics(admin: Admin, topics: readonly KafkaTopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  const created: string[] = [];
  for (const t of missing) {
    if (await createTopicUnlessExists(admin, t.topic, t.partitions ?? 1, t.replicationFactor ?? 1, t.configs ?? {})) created.push(t.topic);
  }
  // Existing topics too: after a broker restart their leaders may still be elected.
  await waitForTopicLeaders(admin, topics.map((t) => t.topic));
  return created;
}

/** Creates one topic; false when another client created it meanwhile (TOPIC_ALREADY_EXISTS). */
export async function createTopicUnlessExists(admin: Admin, topic: string, partitions: number, replicationFactor: number, configs: Readonly<Record<string, string>>): Promise<boolean> {
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: replicationFactor, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) });
    return true;
  } catch (err) {
    if (kafkaErrorCodes(err).has("TOPIC_ALREADY_EXISTS")) return false;
    throw err;
  }
}

/** Per partition of `topic`: its first offset (low) and the offset the next record gets (high). */
export async function fetchTopicOffsets(admin: Admin, topic: string): Promise<Array<{ partition: number; low: bigint; high: bigint }>> {
  const md = await admin.metadata({ topics: [topic], forceUpdate: true });
  const count = md.topics.get(topic)?.partitionsCount ?? 0;
  const partitions = Array.from({ length: count }, (_, p) => p);
  const [low, high] = await Promise.all([offsetsAt(admin, topic, partitions, ListOffsetTimestamps.EARLIEST), offsetsAt(admin, topic, partitions, ListOffsetTimestamps.LATEST)]);
  return partitions.map((p) => ({ partition: p, low: low.get(p) ?? 0n, high: high.get(p) ?? 0n }));
}

/** Per partition, the first offset whose record is at or after `timestamp` (ms); -1 where there is none. */
export async function offsetsAt(admin: Admin, topic: string, partitions: readonly number[], timestamp: bigint): Promise<Map<number, bigint>> {
  if (partitions.length === 0) return new Map();
  const listed = await admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }] });
  return new Map((listed.find((t) => t.name === topic)?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
}

/** Topic configs by topic name (only the names asked for). */
export async function describeTopicConfigs(admin: Admin, topics: readonly string[], names: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const described = await admin.describeConfigs({ resources: topics.map((resourceName) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName, configurationKeys: [...names] })) });
  const out = new Map<string, Record<string, string>>();
  for (const res of described) {
    const config: Record<string, string> = {};
    for (const c of res.configs) if (c.value !== null && c.value !== undefined) config[c.name] = c.value;
    out.set(res.resourceName, config);
  }
  return out;
}
