import type { Detector } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";

/** Exchanges refused because their audit record could not be made durable. */
const AUDIT_FAILURES = new Set(["AUDIT_UNAVAILABLE", "AUDIT_SPOOL_FULL"]);

/**
 * The audit pipeline degraded: the sink reports its spool in use (Kafka
 * away) or filling, or exchanges fail closed for lack of audit (GB/T
 * 22239-2019 level 3: audit protected from interruption).
 */
export function createAuditDegradedDetector(settings: DetectorSettings["auditDegraded"]): Detector {
  return {
    name: "audit-degraded",
    observeEvent(event) {
      if (event.kind !== "audit-degraded") return [];
      const ratio = event.spoolBytes !== undefined && event.spoolMaxBytes ? event.spoolBytes / event.spoolMaxBytes : 0;
      return [
        {
          detector: "audit-degraded",
          key: "audit",
          category: "equipment-failure",
          level: ratio >= settings.spoolCriticalRatio ? "III" : "IV",
          summary: `audit pipeline degraded: ${event.detail}`,
          count: 1,
          attributes: {
            detail: event.detail,
            ...(event.spoolBytes !== undefined ? { spool_bytes: String(event.spoolBytes) } : {}),
            ...(event.spoolMaxBytes !== undefined ? { spool_max_bytes: String(event.spoolMaxBytes) } : {}),
          },
        },
      ];
    },
    observeExchange(obs) {
      if (obs.reason === undefined || !AUDIT_FAILURES.has(obs.reason)) return [];
      // Failing closed means members get no answers: level III.
      return [{ detector: "audit-degraded", key: "audit", category: "equipment-failure", level: "III", summary: `exchanges fail closed: ${obs.reason}`, exchangeIds: [obs.exchangeId], count: 1, attributes: { last_reason: obs.reason } }];
    },
  };
}
