import { ConfigResourceTypes } from "kafkajs";
import type { KafkaTopicsFact } from "../../core/posture/posture-evidence.js";
import { createKafkaClient } from "./kafka-client.js";

/** retention.ms, min.insync.replicas and the replication factor (replicas of partition 0 … n) of each audit topic. */
export async function describeAuditTopics(brokers: readonly string[], topics: readonly string[], timeoutMs = 5_000): Promise<KafkaTopicsFact> {
  const list = brokers.join(",");
  const admin = createKafkaClient({ brokers: list, clientId: "credex-posture", logLevel: "nothing", connectionTimeoutMs: Math.min(timeoutMs, 3_000), requestTimeoutMs: timeoutMs, retries: 1 }).admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    const missing = topics.filter((t) => !existing.has(t));
    if (present.length === 0) return { brokers: list, topics: [], error: `audit topics missing: ${missing.join(", ")}` };
    const [configs, metadata] = await Promise.all([
      admin.describeConfigs({
        includeSynonyms: false,
        resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ["retention.ms", "min.insync.replicas"] })),
      }),
      admin.fetchTopicMetadata({ topics: present }),
    ]);
    const facts = present.map((topic) => {
      const res = configs.resources.find((r) => r.resourceName === topic);
      const value = (name: string) => {
        const v = res?.configEntries.find((c) => c.configName === name)?.configValue;
        return v === undefined || v === null || v === "" ? undefined : Number(v);
      };
      const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
      const replicationFactor = partitions.length > 0 ? Math.min(...partitions.map((p) => p.replicas.length)) : undefined;
      return { topic, retentionMs: value("retention.ms"), replicationFactor, minInsyncReplicas: value("min.insync.replicas") };
    });
    return missing.length > 0 ? { brokers: list, topics: facts, error: `audit topics missing: ${missing.join(", ")}` } : { brokers: list, topics: facts };
  } catch (err) {
    return { brokers: list, topics: [], error: (err as Error).message };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
