import type { Detector } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";

interface AgencyWindow {
  /** Observations in time order (oldest first). */
  readonly entries: Array<{ at: number; pseudonym: string; exchangeId: string }>;
  /** pseudonym → how many entries in the window, and the exchange that first touched it. */
  readonly subjects: Map<string, { count: number; firstExchangeId: string }>;
  firing: boolean;
}

/** Agencies tracked at most (authenticated members: the registry bounds them in practice). */
const MAX_AGENCIES = 10_000;

/**
 * Subject enumeration (bulk harvesting): one agency touching an unusual
 * number of distinct subjects within a window. Counts subject pseudonyms,
 * never ids (DOMAIN.md); refused queries count too, since probing for
 * subjects is harvesting whether or not data came back. Distinct subjects
 * are counted incrementally (O(1) per observation).
 */
export function createSubjectEnumerationDetector(settings: DetectorSettings["subjectEnumeration"]): Detector {
  const byAgency = new Map<string, AgencyWindow>();
  const maxEntries = settings.distinctSubjects * 20;

  const evictOldest = (w: AgencyWindow) => {
    const old = w.entries.shift()!;
    const s = w.subjects.get(old.pseudonym)!;
    if (--s.count === 0) w.subjects.delete(old.pseudonym);
  };

  return {
    name: "subject-enumeration",
    reset(key) {
      byAgency.delete(key);
    },
    observeExchange(obs) {
      if (!obs.authenticated || obs.agencyId === undefined || obs.subjectPseudonym === undefined) return [];
      let w = byAgency.get(obs.agencyId);
      if (!w) {
        if (byAgency.size >= MAX_AGENCIES) byAgency.delete(byAgency.keys().next().value!);
        w = { entries: [], subjects: new Map(), firing: false };
        byAgency.set(obs.agencyId, w);
      }
      const now = obs.at.getTime();
      while (w.entries.length > 0 && (w.entries[0]!.at <= now - settings.windowMs || w.entries.length >= maxEntries)) evictOldest(w);
      w.entries.push({ at: now, pseudonym: obs.subjectPseudonym, exchangeId: obs.exchangeId });
      const seen = w.subjects.get(obs.subjectPseudonym);
      const isNewSubject = seen === undefined;
      if (seen) seen.count += 1;
      else w.subjects.set(obs.subjectPseudonym, { count: 1, firstExchangeId: obs.exchangeId });

      const distinct = w.subjects.size;
      if (distinct < settings.distinctSubjects) {
        w.firing = false;
        return [];
      }
      const first = !w.firing;
      w.firing = true;
      if (!first && !isNewSubject) return [];
      return [
        {
          detector: "subject-enumeration",
          key: obs.agencyId,
          category: "information-destruction",
          level: "III",
          summary: `agency ${obs.agencyId} queried ${distinct} distinct subjects within ${settings.windowMs / 1000} s (bulk harvesting)`,
          exchangeIds: first ? [...w.subjects.values()].map((s) => s.firstExchangeId) : [obs.exchangeId],
          pseudonyms: first ? [...w.subjects.keys()] : [obs.subjectPseudonym],
          count: first ? distinct : 1,
          attributes: { distinct_subjects: String(distinct), window_ms: String(settings.windowMs), threshold: String(settings.distinctSubjects) },
        },
      ];
    },
  };
}
