import type { Detector } from "../detector.js";

/**
 * A security-protection control regressed (posture check: TLS, audit sealing,
 * certificate expiry, admin separation…). Critical controls (those level 3
 * requires outright) make it level III.
 */
export function createPostureRegressionDetector(): Detector {
  return {
    name: "posture-regression",
    observeEvent(event) {
      if (event.kind !== "posture-regression") return [];
      return [
        {
          detector: "posture-regression",
          key: event.control,
          category: "other",
          level: event.critical ? "III" : "IV",
          summary: `posture control ${event.control} regressed: ${event.detail}`,
          count: 1,
          attributes: { control: event.control, clause: event.clause, detail: event.detail },
        },
      ];
    },
  };
}
