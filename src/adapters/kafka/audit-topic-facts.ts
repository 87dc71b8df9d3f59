import type { KafkaTopicsFact } from "../../core/posture/posture-evidence.js";
import { describeTopicConfigs } from "./kafka-admin.js";
import { createKafkaAdmin, kafkaErrorMessage, type KafkaTlsFiles } from "./kafka-client.js";

/** retention.ms, min.insync.replicas and the replication factor (replicas of partition 0 … n) of each audit topic. */
export async function describeAuditTopics(brokers: readonly string[], topics: readonly string[], timeoutMs = 5_000, tls?: KafkaTlsFiles): Promise<KafkaTopicsFact> {
  const list = brokers.join(",");
  const admin = createKafkaAdmin({ brokers: list, clientId: "credex-posture", connectionTimeoutMs: Math.min(timeoutMs, 3_000), requestTimeoutMs: timeoutMs, retries: 1, tls });
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    const missing = topics.filter((t) => !existing.has(t));
    if (present.length === 0) return { brokers: list, topics: [], error: `audit topics missing: ${missing.join(", ")}` };
    const [configs, metadata] = await Promise.all([
      describeTopicConfigs(admin, present, ["retention.ms", "min.insync.replicas"]),
      admin.metadata({ topics: present, forceUpdate: true }),
    ]);
    const facts = present.map((topic) => {
      const config = configs.get(topic);
      const value = (name: string) => {
        const v = config?.[name];
        return v === undefined || v === null || v === "" ? undefined : Number(v);
      };
      const partitions = metadata.topics.get(topic)?.partitions ?? [];
      const replicationFactor = partitions.length > 0 ? Math.min(...partitions.map((p) => p.replicas.length)) : undefined;
      return { topic, retentionMs: value("retention.ms"), replicationFactor, minInsyncReplicas: value("min.insync.replicas") };
    });
    return missing.length > 0 ? { brokers: list, topics: facts, error: `audit topics missing: ${missing.join(", ")}` } : { brokers: list, topics: facts };
  } catch (err) {
    return { brokers: list, topics: [], error: kafkaErrorMessage(err) };
  } finally {
    await admin.close().catch(() => undefined);
  }
}
