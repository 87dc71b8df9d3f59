import type { Detector } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";
import { ThresholdWindow } from "../threshold-window.js";

/**
 * Consent misuse: one agency repeatedly refused for its consent attestations
 * (missing, forged, for another subject or purpose, expired): querying
 * natural persons without their consent (Credit Investigation Regulation
 * Art. 13, 18; PIPL Art. 29).
 */
export function createConsentMisuseDetector(settings: DetectorSettings["consentMisuse"]): Detector {
  const window = new ThresholdWindow(settings.windowMs, settings.threshold);
  return {
    name: "consent-misuse",
    reset: (key) => window.reset(key),
    observeExchange(obs) {
      if (!obs.authenticated || obs.agencyId === undefined || !obs.reason?.startsWith("CONSENT_")) return [];
      const r = window.add(obs.agencyId, obs.at, obs.exchangeId);
      if (!r.fired) return [];
      return [
        {
          detector: "consent-misuse",
          key: obs.agencyId,
          category: "information-destruction",
          level: "IV",
          summary: `agency ${obs.agencyId} was refused for consent ${r.inWindow} times within ${settings.windowMs / 1000} s`,
          exchangeIds: r.entries,
          pseudonyms: obs.subjectPseudonym ? [obs.subjectPseudonym] : [],
          count: r.entries.length,
          attributes: { last_reason: obs.reason, window_ms: String(settings.windowMs) },
        },
      ];
    },
  };
}
