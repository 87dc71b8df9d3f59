/**
 * Transport of control records (control-item.ts): a log of keyed byte
 * records. Kafka in production (a compacted topic), a file or memory when no
 * Kafka is configured. The channel moves bytes; decoding and signature
 * checks happen in the consumer (control-consumer.ts), so a transport can
 * never make an unsigned item count.
 */
export interface ControlRecord {
  readonly key: string;
  readonly value: Uint8Array;
}

export interface ControlSubscription {
  close(): Promise<void>;
}

export interface ControlChannel {
  /** Describes the transport for logs ("kafka credex.control.v1 @ host:9092"). */
  readonly description: string;
  publish(record: ControlRecord): Promise<void>;
  /**
   * Delivers every record from the beginning (the compacted state), then the
   * new ones as they arrive, each record once and in log order (a consumer
   * tells a replayed copy from history by its place in the log). Resolves once
   * the records present at the call have been delivered.
   */
  subscribe(onRecord: (record: ControlRecord) => void): Promise<ControlSubscription>;
  close(): Promise<void>;
}

/** In-process channel: tests, and a single process that both publishes and applies. */
export function createMemoryControlChannel(): ControlChannel {
  const log: ControlRecord[] = [];
  const listeners = new Set<(r: ControlRecord) => void>();
  return {
    description: "memory",
    async publish(record) {
      log.push(record);
      for (const l of listeners) l(record);
    },
    async subscribe(onRecord) {
      for (const r of log) onRecord(r);
      listeners.add(onRecord);
      return { close: async () => void listeners.delete(onRecord) };
    },
    async close() {
      listeners.clear();
    },
  };
}
