import type { Detector } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";
import { ThresholdWindow } from "../threshold-window.js";

/** Refusals that say the certificate or the identity it claims is not good. */
function isCertificateRefusal(reason: string): boolean {
  return reason.startsWith("CLIENT_CERT_") || reason.startsWith("CLIENT_IDENTITY_") || reason === "AGENCY_UNKNOWN";
}

/** The peer's host without its port (grpc-js peers look like "ipv4:127.0.0.1:5123" or "[::1]:5123"). */
export function peerHostOf(peer: string): string {
  const m = /^(?:ipv[46]:)?(.*):\d+$/.exec(peer);
  return (m ? m[1]! : peer).replace(/^\[|\]$/g, "");
}

/**
 * Repeated calls with unknown, expired, revoked or untrusted certificates,
 * keyed by certificate fingerprint, or by peer host when no certificate
 * was presented.
 */
export function createCertificateAbuseDetector(settings: DetectorSettings["certificateAbuse"]): Detector {
  const window = new ThresholdWindow(settings.windowMs, settings.threshold);
  return {
    name: "certificate-abuse",
    reset: (key) => window.reset(key),
    observeExchange(obs) {
      if (obs.reason === undefined || !isCertificateRefusal(obs.reason)) return [];
      const key = obs.certFingerprint ? `cert:${obs.certFingerprint}` : `peer:${peerHostOf(obs.peerAddress ?? "unknown")}`;
      const r = window.add(key, obs.at, obs.exchangeId);
      if (!r.fired) return [];
      return [
        {
          detector: "certificate-abuse",
          key,
          category: "network-attack",
          level: obs.reason === "CLIENT_CERT_REVOKED" ? "III" : "IV",
          summary: `${r.inWindow} calls refused for their certificate (${obs.reason}) from ${key} within ${settings.windowMs / 1000} s`,
          exchangeIds: r.entries,
          count: r.entries.length,
          attributes: { last_reason: obs.reason, ...(obs.agencyId ? { claimed_agency: obs.agencyId } : {}), window_ms: String(settings.windowMs) },
        },
      ];
    },
  };
}
