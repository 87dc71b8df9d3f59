import type { AuditEvent } from "../gen/credex/v1/audit_pb.js";
import type { AuditSinkStats } from "./audit-sink-stats.js";

/** Where an audit event ended up once durable. */
export interface AuditReceipt {
  /** "file", "kafka" or "spool". */
  readonly medium: string;
  /** Position in the medium (file line, topic/partition/offset, spool sequence). */
  readonly position: string;
  /** Chain sequence of the event for its gateway instance, when chained. */
  readonly sequence?: bigint;
}

/**
 * The audit sink: the reply waits for `append` to resolve, which means the
 * event is durable (fsync'd file or spool, or Kafka acks=all). A rejected
 * promise means the exchange must fail closed (no audit, no answer).
 */
export interface AuditSink {
  append(event: AuditEvent): Promise<AuditReceipt>;
  /** Waits until everything appended so far is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** A short description for logs and the demo summary, e.g. the file path. */
  describe(): string;
  /** Backlog figures for metrics (optional; see audit-sink-stats.ts). */
  stats?(): AuditSinkStats;
}

/**
 * What this gateway's own audit shows, read back: every exchange event sealed
 * at or after `from`, opened with the gateway's key ring, in log order.
 * Records that do not open (altered, another key ring) are skipped: only what
 * the gateway itself sealed counts. Resolves to the number of events read.
 */
export type AuditHistory = (from: Date, onEvent: (event: AuditEvent) => void) => Promise<number>;
