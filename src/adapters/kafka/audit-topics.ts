import { ConfigResourceTypes } from "kafkajs";
import { waitForTopicLeaders } from "./kafka-admin.js";
import { createKafkaClient, type KafkaLogLevel } from "./kafka-client.js";

/** Cybersecurity Law Art. 21: network logs kept at least 6 months; 180 days is the floor credex enforces. */
export const MIN_AUDIT_RETENTION_MS = 180 * 24 * 60 * 60 * 1000;
export const AUDIT_TOPIC = "credex.audit.v1";
export const AUDIT_CHECKPOINT_TOPIC = "credex.audit-checkpoints.v1";

export interface EnsureAuditTopicsOptions {
  readonly brokers: string;
  readonly topics: readonly string[];
  /** Create missing topics (with retention.ms = MIN_AUDIT_RETENTION_MS); default true. */
  readonly create?: boolean;
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** Production: a topic kept shorter than 180 days is an error, not a warning. */
  readonly production?: boolean;
  readonly logLevel?: KafkaLogLevel;
}

export interface AuditTopicsCheck {
  readonly created: string[];
  /** Human-readable problems that did not stop the start (non-production). */
  readonly warnings: string[];
}

/**
 * Makes sure the audit topics exist and keep data long enough. Retention
 * -1 (forever) passes. In production a shorter retention refuses the start.
 */
export async function ensureAuditTopics(opts: EnsureAuditTopicsOptions): Promise<AuditTopicsCheck> {
  const admin = createKafkaClient({ brokers: opts.brokers, clientId: "credex-audit-admin", logLevel: opts.logLevel ?? "nothing", retries: 2 }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = opts.topics.filter((t) => !existing.has(t));
    if (missing.length > 0 && opts.create === false) throw new Error(`audit topics missing and creation not allowed: ${missing.join(", ")}`);
    if (missing.length > 0) {
      await admin.createTopics({
        // kafkajs's wait fails on UNKNOWN_TOPIC_OR_PARTITION: see waitForTopicLeaders.
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: opts.partitions ?? 3,
          replicationFactor: opts.replicationFactor ?? 1,
          configEntries: [
            { name: "retention.ms", value: String(MIN_AUDIT_RETENTION_MS) },
            { name: "cleanup.policy", value: "delete" },
          ],
        })),
      });
    }
    // Existing topics too: after a broker restart their leaders may still be elected, and the
    // sink reads the partitions' offsets next.
    await waitForTopicLeaders(admin, opts.topics);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: opts.topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ["retention.ms", "cleanup.policy"] })),
    });
    const warnings: string[] = [];
    for (const res of described.resources) {
      const retention = Number(res.configEntries.find((c) => c.configName === "retention.ms")?.configValue ?? "NaN");
      const policy = res.configEntries.find((c) => c.configName === "cleanup.policy")?.configValue ?? "";
      if (!(retention === -1 || retention >= MIN_AUDIT_RETENTION_MS)) {
        warnings.push(`topic ${res.resourceName} keeps data ${retention} ms, less than 180 days (Cybersecurity Law Art. 21)`);
      }
      if (policy.includes("compact")) warnings.push(`topic ${res.resourceName} is compacted: audit records would be lost`);
    }
    if (opts.production && warnings.length > 0) throw new Error(`refusing to start in production mode: ${warnings.join("; ")}`);
    return { created: missing, warnings };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
