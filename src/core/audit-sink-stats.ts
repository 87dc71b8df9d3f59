import type { AuditSink } from "./audit-sink.js";

/**
 * What an audit sink may report about its backlog (metrics, posture, the
 * degraded-audit detector). Every field is optional: the file sink knows its
 * queue, the Kafka sink its spool.
 */
export interface AuditSinkStats {
  /** Events accepted but not yet durable. */
  readonly queued?: number;
  /** Records waiting in the local spool (Kafka away). */
  readonly spoolDepth?: number;
  readonly spoolBytes?: number;
  readonly spoolMaxRecords?: number;
  readonly kafkaReachable?: boolean;
  /** Records found in Kafka beyond the saved chain head at start: the run before stopped uncleanly. */
  readonly recovered?: number;
}

/** A sink that reports stats (AuditSink.stats is optional). */
export function auditSinkStatsOf(sink: AuditSink): AuditSinkStats | undefined {
  const s = sink as AuditSink & { stats?: () => AuditSinkStats };
  if (typeof s.stats !== "function") return undefined;
  try {
    return s.stats();
  } catch {
    return undefined;
  }
}
