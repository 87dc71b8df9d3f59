import type { Detector, Finding } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";
import { ThresholdWindow } from "../threshold-window.js";

/** A provider that repeatedly does not answer (UNAVAILABLE, DEADLINE_EXCEEDED) within a window. */
export function createProviderOutageDetector(settings: DetectorSettings["providerOutage"]): Detector {
  const window = new ThresholdWindow(settings.windowMs, settings.threshold);
  return {
    name: "provider-outage",
    reset: (key) => window.reset(key),
    observeExchange(obs) {
      const findings: Finding[] = [];
      for (const p of obs.providers) {
        if (p.status !== "UNAVAILABLE" && p.status !== "DEADLINE_EXCEEDED") continue;
        const r = window.add(p.agencyId, obs.at, obs.exchangeId);
        if (!r.fired) continue;
        findings.push({
          detector: "provider-outage",
          key: p.agencyId,
          category: "equipment-failure",
          level: "IV",
          summary: `provider ${p.agencyId} failed ${r.inWindow} calls within ${settings.windowMs / 1000} s (${p.status})`,
          exchangeIds: r.entries,
          count: r.entries.length,
          attributes: { last_status: p.status, window_ms: String(settings.windowMs) },
        });
      }
      return findings;
    },
  };
}
