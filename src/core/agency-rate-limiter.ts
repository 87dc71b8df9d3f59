import { CredexError } from "./errors.js";
import type { Principal } from "./principal.js";
import { TokenBucket } from "./token-bucket.js";

export interface AgencyRateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface AgencyRateLimiterOptions {
  /** Every agency's limit unless throttled (config limits.maxRequestsPerSecondPerAgency). */
  readonly defaultRatePerSecond: number;
  readonly clock?: () => number;
}

/**
 * Per-agency rate limits, enforced right after authenticate (pipeline
 * `admit`): refusals are RESOURCE_EXHAUSTED RATE_LIMITED and are audited like
 * any other. A playbook or an officer can throttle one agency below the
 * default, and lift it again.
 */
export interface AgencyRateLimiter {
  admit(principal: Principal): void;
  throttle(agencyId: string, limit: AgencyRateLimit): void;
  unthrottle(agencyId: string): void;
  limitOf(agencyId: string): AgencyRateLimit;
  throttled(): ReadonlyMap<string, AgencyRateLimit>;
}

export function createAgencyRateLimiter(options: AgencyRateLimiterOptions): AgencyRateLimiter {
  const clock = options.clock ?? (() => performance.now());
  const defaultLimit: AgencyRateLimit = { ratePerSecond: options.defaultRatePerSecond, burst: options.defaultRatePerSecond };
  const overrides = new Map<string, AgencyRateLimit>();
  const buckets = new Map<string, TokenBucket>();
  const limitOf = (agencyId: string) => overrides.get(agencyId) ?? defaultLimit;
  return {
    admit(principal) {
      let bucket = buckets.get(principal.agencyId);
      if (!bucket) {
        const l = limitOf(principal.agencyId);
        bucket = new TokenBucket(l.ratePerSecond, l.burst, clock());
        buckets.set(principal.agencyId, bucket);
      }
      if (!bucket.take(clock())) {
        throw new CredexError("RATE_LIMITED", `agency "${principal.agencyId}" exceeded ${bucket.ratePerSecond} requests per second`, {
          agency: principal.agencyId,
          rate_per_second: String(bucket.ratePerSecond),
        });
      }
    },
    throttle(agencyId, limit) {
      if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) throw new RangeError("a throttle needs ratePerSecond > 0 and burst ≥ 1");
      overrides.set(agencyId, limit);
      // A fresh bucket at the new rate (filled to the new burst) takes effect at once.
      buckets.set(agencyId, new TokenBucket(limit.ratePerSecond, limit.burst, clock()));
    },
    unthrottle(agencyId) {
      overrides.delete(agencyId);
      buckets.delete(agencyId);
    },
    limitOf,
    throttled: () => new Map(overrides),
  };
}
