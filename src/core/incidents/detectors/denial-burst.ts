import type { Detector } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";
import { ThresholdWindow } from "../threshold-window.js";

/** Policy refusals of an authenticated agency: probing what it may see. */
const DENIALS = new Set(["PURPOSE_NOT_PERMITTED", "CATEGORY_NOT_PERMITTED", "EXPLICITLY_DENIED", "RESTRICTED_MODE", "PROTECTION_LEVEL_INSUFFICIENT", "SECTOR_LEVEL_NOT_PERMITTED", "SECTOR_CONSENT_REQUIRED"]);

/** A burst of policy denials from one agency within a window. */
export function createDenialBurstDetector(settings: DetectorSettings["denialBurst"]): Detector {
  const window = new ThresholdWindow(settings.windowMs, settings.threshold);
  return {
    name: "denial-burst",
    reset: (key) => window.reset(key),
    observeExchange(obs) {
      if (!obs.authenticated || obs.agencyId === undefined || obs.reason === undefined || !DENIALS.has(obs.reason)) return [];
      const r = window.add(obs.agencyId, obs.at, obs.exchangeId);
      if (!r.fired) return [];
      return [
        {
          detector: "denial-burst",
          key: obs.agencyId,
          category: "network-attack",
          level: "IV",
          summary: `agency ${obs.agencyId} was refused by policy ${r.inWindow} times within ${settings.windowMs / 1000} s`,
          exchangeIds: r.entries,
          count: r.entries.length,
          attributes: { last_reason: obs.reason, window_ms: String(settings.windowMs), threshold: String(settings.threshold) },
        },
      ];
    },
  };
}
