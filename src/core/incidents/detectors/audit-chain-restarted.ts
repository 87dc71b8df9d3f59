import type { Detector } from "../detector.js";

/**
 * The gateway started a new audit chain (`--new-audit-chain`) because its chain state was
 * missing, failed its key check or did not match the log: records after the previous chain's
 * last checkpoint may have been removed, so the audit trail's integrity is in question
 * (GB/T 22239-2019 level 3: audit records protected from deletion and modification). Every
 * restart is its own incident.
 */
export function createAuditChainRestartedDetector(): Detector {
  return {
    name: "audit-chain-restarted",
    observeEvent(event) {
      if (event.kind !== "audit-chain-restarted") return [];
      return [
        {
          detector: "audit-chain-restarted",
          key: `${event.instance}/${event.sequence}`,
          category: "information-destruction",
          level: "III",
          summary: `audit chain of ${event.instance} restarted at sequence ${event.sequence}; previous chain's last checkpoint: ${event.previousCheckpoint}; chain state refused: ${event.reason}`,
          count: 1,
          attributes: { instance: event.instance, sequence: event.sequence.toString(), previous_checkpoint: event.previousCheckpoint, reason: event.reason },
        },
      ];
    },
  };
}
