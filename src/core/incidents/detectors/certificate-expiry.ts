import type { Detector } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";

/** A certificate of the exchange (gateway, member, admin) close to or past its expiry, as reported by the periodic check. */
export function createCertificateExpiryDetector(settings: DetectorSettings["certificateExpiry"]): Detector {
  return {
    name: "certificate-expiry",
    observeEvent(event) {
      if (event.kind !== "certificate-expiry") return [];
      const left = event.notAfter.getTime() - event.at.getTime();
      return [
        {
          detector: "certificate-expiry",
          key: event.fingerprint,
          category: "equipment-failure",
          level: left <= settings.criticalMs ? "III" : "IV",
          summary: left <= 0 ? `certificate of ${event.owner} has expired` : `certificate of ${event.owner} expires ${event.notAfter.toISOString()}`,
          count: 1,
          attributes: { owner: event.owner, not_after: event.notAfter.toISOString() },
        },
      ];
    },
  };
}
