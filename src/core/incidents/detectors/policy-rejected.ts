import type { Detector } from "../detector.js";

/**
 * A policy bundle was rejected (bad signature, invalid rules, a replayed old
 * bundle, a record under another item's key): the previous policy stays in
 * force, but someone tried to change it. A forged or replayed record is
 * tampering with the control topic.
 */
export function createPolicyRejectedDetector(): Detector {
  return {
    name: "policy-rejected",
    observeEvent(event) {
      if (event.kind !== "policy-rejected") return [];
      const tampering = /signature|digest|signed|^(ROLLBACK|KEY_MISMATCH|TOMBSTONE|UNKNOWN_SIGNER):/i.test(event.problem);
      return [
        {
          detector: "policy-rejected",
          key: event.revision,
          category: tampering ? "network-attack" : "other",
          level: tampering ? "III" : "IV",
          summary: `policy bundle ${event.revision} rejected: ${event.problem}`,
          count: 1,
          attributes: { revision: event.revision, problem: event.problem },
        },
      ];
    },
  };
}
