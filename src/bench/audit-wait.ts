import type { AuditSink } from "../core/audit-sink.js";
import { summarizeLatencies, type LatencySummary } from "./latency-summary.js";

/**
 * Times what each exchange waits for its audit event to become durable: from
 * `append` to its promise settling (sealing, group commit, fsync or acks=all).
 * The end-to-end latency difference between an audited and an unaudited run
 * also holds what the sink's CPU and its broker take from everything else on a
 * shared machine; this figure is the wait itself, so the two can be told apart.
 */
export interface AuditWaitRecorder {
  /** The sink to give the gateway: appends pass through unchanged. */
  readonly sink: AuditSink;
  /** Starts (or restarts) recording, e.g. when the measured window opens. */
  start(): void;
  /** Stops recording; the waits seen since `start`, or undefined if none. */
  stop(): LatencySummary | undefined;
}

export function recordAuditWaits(inner: AuditSink): AuditWaitRecorder {
  let samples: number[] | undefined;
  const sink: AuditSink = {
    append(event) {
      const into = samples;
      if (!into) return inner.append(event);
      const t0 = performance.now();
      const done = () => {
        into.push(performance.now() - t0);
      };
      const p = inner.append(event);
      p.then(done, done);
      return p;
    },
    flush: () => inner.flush(),
    close: () => inner.close(),
    describe: () => inner.describe(),
    ...(inner.stats ? { stats: () => inner.stats!() } : {}),
  };
  return {
    sink,
    start() {
      samples = [];
    },
    stop() {
      const taken = samples;
      samples = undefined;
      return taken && taken.length > 0 ? summarizeLatencies(taken) : undefined;
    },
  };
}
