import { readKafkaTopic } from "../adapters/kafka/kafka-topic-reader.js";
import { AUDIT_HEADERS } from "../adapters/kafka/kafka-audit-sink.js";

export interface AuditCompleteness {
  readonly topic: string;
  /** Exchanges answered (OK or not) by the load generator: each must have exactly one record. */
  readonly expected: number;
  readonly records: number;
  /** Chain positions seen more than once (the same event produced twice). */
  readonly duplicates: number;
  readonly byInstance: Record<string, number>;
  readonly complete: boolean;
}

/**
 * Scale-out correctness: reads the run's audit topic and checks that every
 * exchange left exactly one record — as many records as exchanges, and no
 * chain position ("<instance>/<sequence>") twice.
 */
export async function checkKafkaAuditCompleteness(opts: { brokers: string; topic: string; expected: number }): Promise<AuditCompleteness> {
  const seen = new Set<string>();
  const byInstance: Record<string, number> = {};
  let duplicates = 0;
  let records = 0;
  await readKafkaTopic({
    brokers: opts.brokers,
    topic: opts.topic,
    idleTimeoutMs: 30_000,
    onRecord(record) {
      const position = record.headers[AUDIT_HEADERS.chainPosition] ?? "";
      const type = record.headers[AUDIT_HEADERS.eventType] ?? "";
      if (type !== "" && !/exchange/i.test(type)) return;
      records++;
      if (seen.has(position)) duplicates++;
      seen.add(position);
      const instance = position.slice(0, position.lastIndexOf("/"));
      byInstance[instance] = (byInstance[instance] ?? 0) + 1;
    },
  });
  return { topic: opts.topic, expected: opts.expected, records, duplicates, byInstance, complete: records === opts.expected && duplicates === 0 };
}
