import type { Detector, Finding } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";

interface Baseline {
  bucket: number;
  count: number;
  mean: number;
  seen: number;
  fired: boolean;
}

/**
 * Query-rate anomaly: each agency against its own baseline, an exponentially
 * weighted moving average of queries per bucket. Fires when the current
 * bucket exceeds factor × baseline (and a floor), once the baseline has
 * warmed up; further queries in that bucket add evidence.
 */
export function createQueryRateDetector(settings: DetectorSettings["queryRate"]): Detector {
  const byAgency = new Map<string, Baseline>();
  return {
    name: "query-rate",
    reset(key) {
      const b = byAgency.get(key);
      if (b) b.fired = false;
      // The baseline stays: it describes the agency's normal traffic, not the incident.
      if (b) b.count = 0;
    },
    observeExchange(obs) {
      if (!obs.authenticated || obs.agencyId === undefined) return [];
      const bucket = Math.floor(obs.at.getTime() / settings.bucketMs);
      let b = byAgency.get(obs.agencyId);
      if (!b) {
        b = { bucket, count: 0, mean: 0, seen: 0, fired: false };
        byAgency.set(obs.agencyId, b);
      }
      if (bucket > b.bucket) {
        // Close the finished bucket, then decay over the empty ones in between.
        b.mean = b.seen === 0 ? b.count : settings.alpha * b.count + (1 - settings.alpha) * b.mean;
        b.mean *= (1 - settings.alpha) ** Math.min(bucket - b.bucket - 1, 1_000);
        b.seen += 1;
        b.bucket = bucket;
        b.count = 0;
        b.fired = false;
      }
      b.count += 1;
      const limit = Math.max(settings.minQueries, settings.factor * b.mean);
      if (b.seen < settings.warmupBuckets || b.count <= limit) return [];
      const first = !b.fired;
      b.fired = true;
      const finding: Finding = {
        detector: "query-rate",
        key: obs.agencyId,
        category: "network-attack",
        level: "IV",
        summary: `agency ${obs.agencyId} queries far above its own baseline`,
        exchangeIds: [obs.exchangeId],
        count: first ? b.count : 1,
        attributes: { baseline_per_bucket: b.mean.toFixed(1), bucket_ms: String(settings.bucketMs), in_bucket: String(b.count), factor: String(settings.factor) },
      };
      return [finding];
    },
  };
}
