import type { AuditEntryHandler } from "../audit/audit-source.js";
import { AUDIT_CHECKPOINT_TOPIC, AUDIT_TOPIC } from "./audit-topics.js";
import type { KafkaTlsFiles } from "./kafka-client.js";
import { readKafkaTopic } from "./kafka-topic-reader.js";

export interface ScanKafkaAuditOptions {
  readonly brokers: string;
  /** Kafka over TLS with a client certificate; absent: plaintext. */
  readonly tls?: KafkaTlsFiles | undefined;
  readonly topic?: string;
  /** Checkpoints are read too unless this is null. */
  readonly checkpointTopic?: string | null;
  readonly from?: Date;
  /** Keep reading new audit records until this aborts (checkpoints are then not read). */
  readonly follow?: AbortSignal;
  readonly onProgress?: (read: number, total: number, topic: string) => void;
}

/**
 * Scans the audit topic (and the checkpoint topic) up to their current ends.
 * Positions are "topic/partition/offset"; each partition is one ordered stream.
 */
export async function scanKafkaAudit(opts: ScanKafkaAuditOptions, onEntry: AuditEntryHandler): Promise<number> {
  const topic = opts.topic ?? AUDIT_TOPIC;
  const cpTopic = opts.checkpointTopic === undefined ? AUDIT_CHECKPOINT_TOPIC : opts.checkpointTopic;
  let n = 0;
  const read = async (t: string, kind: "record" | "checkpoint") => {
    const r = await readKafkaTopic({
      brokers: opts.brokers,
      tls: opts.tls,
      topic: t,
      ...(opts.from && { from: opts.from }),
      ...(opts.follow && kind === "record" && { follow: opts.follow }),
      ...(opts.onProgress && { onProgress: (done: number, total: number) => opts.onProgress?.(done, total, t) }),
      onRecord: (rec) => {
        const at = { bytes: rec.value, position: `${rec.topic}/${rec.partition}/${rec.offset}`, stream: `${rec.topic}/${rec.partition}` };
        return onEntry(kind === "record" ? { kind: "record", ...at } : { kind: "checkpoint", ...at });
      },
    });
    n += r.records;
  };
  await read(topic, "record");
  if (cpTopic && !opts.follow) await read(cpTopic, "checkpoint");
  return n;
}
