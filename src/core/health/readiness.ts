import type { AuditSinkStats } from "../audit-sink-stats.js";

/** Where a gateway process is in its life, as the health listener reports it. */
export type GatewayPhase = "starting" | "serving" | "draining";

export interface Readiness {
  readonly ready: boolean;
  readonly phase: GatewayPhase;
  /** What readiness still waits for; empty when ready. Short, fixed phrases: the listener is unauthenticated. */
  readonly waitingFor: readonly string[];
}

/**
 * Whether the gateway should receive new exchanges (GET /readyz, a Kubernetes readiness probe).
 *
 * Ready means all of:
 * - the start has finished: config validated, TLS material loaded, the audit sink opened and its
 *   chain state checked against the log or topic, the control topic read to its end (revocations,
 *   the latest policy bundle in force), member state loaded (lists, objections), listener bound;
 * - the gateway is not draining (SIGTERM): the Service stops sending new calls while the calls in
 *   flight finish;
 * - the audit sink can take a record: a Kafka sink whose spool is full fails every exchange closed
 *   (no audit, no answer), so the replica steps out of the Service. Kafka being away while the spool
 *   has room is not a reason: the spool keeps every answer audited (DESIGN.md, "No audit, no answer").
 *
 * Liveness (GET /healthz) asks none of this: a replica that is starting, draining or spooling is
 * alive, and restarting it would not help.
 */
export function readinessOf(phase: GatewayPhase, audit: AuditSinkStats | undefined): Readiness {
  const waitingFor: string[] = [];
  if (phase === "starting") waitingFor.push("start: audit chain, control topic and member state not loaded yet");
  if (phase === "draining") waitingFor.push("nothing: draining for shutdown");
  if (phase === "serving" && audit?.spoolMaxRecords !== undefined && (audit.spoolDepth ?? 0) >= audit.spoolMaxRecords) {
    waitingFor.push("audit: spool full, Kafka unreachable");
  }
  return { ready: waitingFor.length === 0, phase, waitingFor };
}
