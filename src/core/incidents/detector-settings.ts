/**
 * Thresholds and windows of the detectors (gateway config `incidents.detectors`).
 * Defaults are set for one gateway replica of a national exchange: well above
 * what a member's normal traffic does, low enough to catch harvesting and
 * probing within minutes.
 */
export interface DetectorSettings {
  readonly queryRate: {
    /** Width of one counting bucket. */
    readonly bucketMs: number;
    /** EWMA weight of the newest bucket (0..1). */
    readonly alpha: number;
    /** Fires when a bucket holds more than `factor` × the agency's baseline… */
    readonly factor: number;
    /** …and at least this many queries (small agencies' noise stays quiet). */
    readonly minQueries: number;
    /** Buckets an agency must have been seen before its baseline counts. */
    readonly warmupBuckets: number;
  };
  readonly denialBurst: { readonly windowMs: number; readonly threshold: number };
  readonly certificateAbuse: { readonly windowMs: number; readonly threshold: number };
  readonly subjectEnumeration: { readonly windowMs: number; readonly distinctSubjects: number };
  readonly consentMisuse: { readonly windowMs: number; readonly threshold: number };
  readonly providerOutage: { readonly windowMs: number; readonly threshold: number };
  /** Spool fill ratio (0..1) from which an audit-degraded incident is level III. */
  readonly auditDegraded: { readonly spoolCriticalRatio: number };
  /** A certificate expiring sooner than this is a level III incident (else IV). */
  readonly certificateExpiry: { readonly criticalMs: number };
}

export const DEFAULT_DETECTOR_SETTINGS: DetectorSettings = Object.freeze({
  queryRate: Object.freeze({ bucketMs: 60_000, alpha: 0.2, factor: 5, minQueries: 200, warmupBuckets: 5 }),
  denialBurst: Object.freeze({ windowMs: 60_000, threshold: 20 }),
  certificateAbuse: Object.freeze({ windowMs: 300_000, threshold: 5 }),
  subjectEnumeration: Object.freeze({ windowMs: 600_000, distinctSubjects: 100 }),
  consentMisuse: Object.freeze({ windowMs: 600_000, threshold: 10 }),
  providerOutage: Object.freeze({ windowMs: 60_000, threshold: 5 }),
  auditDegraded: Object.freeze({ spoolCriticalRatio: 0.8 }),
  certificateExpiry: Object.freeze({ criticalMs: 86_400_000 }),
});
