/**
 * The log that carries list entries: Kafka (credex.lists.v1) in production, an
 * embedded append-only file for the demo and development. Both have the same
 * semantics: records keyed by list id + subject, totally ordered within a
 * partition, addressed by (partition, offset); a position is "the next offset
 * to read" per partition, which is exactly what a cursor encodes.
 */

/** Next offset to read, per partition. A partition absent from a position is read from its start. */
export type LogPosition = ReadonlyMap<number, bigint>;

export interface LogRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string;
  readonly value: Uint8Array;
}

export interface LogMessage {
  readonly key: string;
  readonly value: Uint8Array;
}

/** Records of one partition, in offset order, as the reader hands them over. */
export interface LogBatch {
  readonly partition: number;
  readonly records: readonly LogRecord[];
}

export interface LogReader {
  /** Stops reading; the handler is not called again once this resolves. */
  close(): Promise<void>;
  /** Resolves when the reader stops (closed) or rejects when the log failed under it. */
  readonly done: Promise<void>;
}

export interface ListLog {
  /** Name of the log (topic), recorded in cursors so a cursor of another log is refused. */
  readonly name: string;
  /** Appends durably (Kafka acks=all, or fsync'd file); resolves to each message's (partition, offset). */
  append(messages: readonly LogMessage[]): Promise<Array<{ partition: number; offset: bigint }>>;
  /** The position right after the last record of every partition now. */
  endPosition(): Promise<LogPosition>;
  /**
   * Reads from `from` onwards and keeps reading new records as they come.
   * `onBatch` is awaited before more records of that partition are handed
   * over, so a slow subscriber slows its own reader and nothing else.
   */
  read(from: LogPosition, onBatch: (batch: LogBatch) => Promise<void>): Promise<LogReader>;
  close(): Promise<void>;
}

/** Position `p` advanced past `record`. */
export function advance(position: Map<number, bigint>, record: Pick<LogRecord, "partition" | "offset">): void {
  const next = record.offset + 1n;
  if ((position.get(record.partition) ?? 0n) < next) position.set(record.partition, next);
}

/** True when `position` has reached `end` on every partition of `end`. */
export function reached(position: LogPosition, end: LogPosition): boolean {
  for (const [partition, offset] of end) if ((position.get(partition) ?? 0n) < offset) return false;
  return true;
}
