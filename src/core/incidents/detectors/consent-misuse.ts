import type { Detector } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";
import { ThresholdWindow } from "../threshold-window.js";

/**
 * Consent misuse: one agency repeatedly refused for its consent attestations
 * (missing, forged, for another subject or purpose, expired), or for trying
 * to go around them (a special grant without the person's consent, a
 * statutory exemption it is not entitled to): querying natural persons
 * without their consent (Credit Investigation Regulation Art. 13, 18; PIPL
 * Art. 29).
 */
const AROUND_CONSENT = new Set(["SPECIAL_GRANT_CONSENT_REQUIRED", "STATUTORY_EXEMPTION_UNKNOWN", "STATUTORY_EXEMPTION_NOT_APPLICABLE"]);

export function createConsentMisuseDetector(settings: DetectorSettings["consentMisuse"]): Detector {
  const window = new ThresholdWindow(settings.windowMs, settings.threshold);
  return {
    name: "consent-misuse",
    reset: (key) => window.reset(key),
    observeExchange(obs) {
      const reason = obs.reason;
      if (!obs.authenticated || obs.agencyId === undefined || reason === undefined || !(reason.startsWith("CONSENT_") || AROUND_CONSENT.has(reason))) return [];
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
          attributes: { last_reason: reason, window_ms: String(settings.windowMs) },
        },
      ];
    },
  };
}
