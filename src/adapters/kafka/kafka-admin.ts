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
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions ?? 1,
        replicationFactor: t.replicationFactor ?? 1,
        configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
