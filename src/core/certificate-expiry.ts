/**
 * Expiry watch over the certificates a gateway knows: its own and those
 * agencies presented. Each certificate is reported once per threshold it
 * crosses (30, 7, 1 days left by default), so an incident handler gets three
 * escalating events, not one per call.
 */

export interface CertificateExpiring {
  /** What the certificate identifies: "gateway", or the agency's spiffe id. */
  readonly subject: string;
  readonly serial: string;
  readonly notAfter: Date;
  /** Whole days left, rounded down; negative once expired. */
  readonly daysLeft: number;
  /** The threshold crossed (30, 7 or 1). */
  readonly thresholdDays: number;
}

export interface CertificateExpiryEntry {
  readonly subject: string;
  readonly serial: string;
  readonly notAfter: Date;
  readonly daysLeft: number;
}

export interface CertificateExpiryWatch {
  /** Records the certificate a subject uses now (the latest replaces the earlier one) and reports a crossed threshold. */
  observe(subject: string, serial: string, notAfter: Date): void;
  /** Re-evaluates every known certificate against the clock (call periodically). */
  check(): void;
  /** One entry per subject, soonest expiry first: what a metric exports. */
  snapshot(): CertificateExpiryEntry[];
}

export const EXPIRY_THRESHOLDS_DAYS: readonly number[] = [30, 7, 1];
const DAY_MS = 24 * 60 * 60 * 1000;

export function createCertificateExpiryWatch(options: {
  onCertificateExpiring: (event: CertificateExpiring) => void;
  now?: () => Date;
  thresholdsDays?: readonly number[];
}): CertificateExpiryWatch {
  const now = options.now ?? (() => new Date());
  const thresholds = [...(options.thresholdsDays ?? EXPIRY_THRESHOLDS_DAYS)].sort((a, b) => b - a);
  const known = new Map<string, { serial: string; notAfter: Date; reported: Set<number> }>();
  const daysLeftOf = (notAfter: Date) => Math.floor((notAfter.getTime() - now().getTime()) / DAY_MS);

  const evaluate = (subject: string) => {
    const entry = known.get(subject)!;
    const leftMs = entry.notAfter.getTime() - now().getTime();
    // Only the tightest threshold crossed is reported; the wider ones count as reported with it.
    const crossed = thresholds.filter((t) => leftMs <= t * DAY_MS);
    const tightest = crossed.at(-1);
    if (tightest === undefined || entry.reported.has(tightest)) return;
    for (const t of crossed) entry.reported.add(t);
    options.onCertificateExpiring({ subject, serial: entry.serial, notAfter: entry.notAfter, daysLeft: daysLeftOf(entry.notAfter), thresholdDays: tightest });
  };

  return {
    observe(subject, serial, notAfter) {
      const previous = known.get(subject);
      if (previous && previous.serial === serial) return;
      known.set(subject, { serial, notAfter, reported: new Set() });
      evaluate(subject);
    },
    check() {
      for (const subject of known.keys()) evaluate(subject);
    },
    snapshot() {
      return [...known.entries()]
        .map(([subject, e]) => ({ subject, serial: e.serial, notAfter: e.notAfter, daysLeft: daysLeftOf(e.notAfter) }))
        .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
    },
  };
}
