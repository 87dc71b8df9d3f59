import { createTopicUnlessExists, describeTopicConfigs, waitForTopicLeaders } from "./kafka-admin.js";
import { createKafkaAdmin, kafkaFailureExplained, type KafkaTlsFiles } from "./kafka-client.js";

/** Cybersecurity Law Art. 21: network logs kept at least 6 months; 180 days is the floor credex enforces. */
export const MIN_AUDIT_RETENTION_MS = 180 * 24 * 60 * 60 * 1000;
export const AUDIT_TOPIC = "credex.audit.v1";
export const AUDIT_CHECKPOINT_TOPIC = "credex.audit-checkpoints.v1";

export interface EnsureAuditTopicsOptions {
  readonly brokers: string;
  readonly tls?: KafkaTlsFiles | undefined;
  readonly topics: readonly string[];
  /** Create missing topics (with retention.ms = MIN_AUDIT_RETENTION_MS); default true. */
  readonly create?: boolean;
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** Production: a topic kept shorter than 180 days is an error, not a warning. */
  readonly production?: boolean;
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
  return ensureTopics(opts).catch(async (err: unknown) => Promise.reject(await kafkaFailureExplained(opts, err)));
}

async function ensureTopics(opts: EnsureAuditTopicsOptions): Promise<AuditTopicsCheck> {
  const admin = createKafkaAdmin({ brokers: opts.brokers, clientId: "credex-audit-admin", retries: 2, tls: opts.tls });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = opts.topics.filter((t) => !existing.has(t));
    if (missing.length > 0 && opts.create === false) throw new Error(`audit topics missing and creation not allowed: ${missing.join(", ")}`);
    const configs = { "retention.ms": String(MIN_AUDIT_RETENTION_MS), "cleanup.policy": "delete" };
    for (const topic of missing) await createTopicUnlessExists(admin, topic, opts.partitions ?? 3, opts.replicationFactor ?? 1, configs);
    // Existing topics too: after a broker restart their leaders may still be elected, and the
    // sink reads the partitions' offsets next.
    await waitForTopicLeaders(admin, opts.topics);
    const described = await describeTopicConfigs(admin, opts.topics, ["retention.ms", "cleanup.policy"]);
    const warnings: string[] = [];
    for (const [resourceName, config] of described) {
      const retention = Number(config["retention.ms"] ?? "NaN");
      const policy = config["cleanup.policy"] ?? "";
      if (!(retention === -1 || retention >= MIN_AUDIT_RETENTION_MS)) {
        warnings.push(`topic ${resourceName} keeps data ${retention} ms, less than 180 days (Cybersecurity Law Art. 21)`);
      }
      if (policy.includes("compact")) warnings.push(`topic ${resourceName} is compacted: audit records would be lost`);
    }
    if (opts.production && warnings.length > 0) throw new Error(`refusing to start in production mode: ${warnings.join("; ")}`);
    return { created: missing, warnings };
  } finally {
    await admin.close().catch(() => undefined);
  }
}
