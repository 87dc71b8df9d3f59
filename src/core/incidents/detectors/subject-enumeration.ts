import type { Detector } from "../detector.js";
import type { DetectorSettings } from "../detector-settings.js";
import { SlidingWindow } from "../sliding-window.js";

/**
 * Subject enumeration (bulk harvesting): one agency touching an unusual
 * number of distinct subjects within a window. Counts subject pseudonyms,
 * never ids (DOMAIN.md); refused queries count too, since probing for
 * subjects is harvesting whether or not data came back.
 */
export function createSubjectEnumerationDetector(settings: DetectorSettings["subjectEnumeration"]): Detector {
  const window = new SlidingWindow<{ pseudonym: string; exchangeId: string }>(settings.windowMs, 10_000, settings.distinctSubjects * 20);
  const firing = new Set<string>();
  return {
    name: "subject-enumeration",
    reset(key) {
      window.clear(key);
      firing.delete(key);
    },
    observeExchange(obs) {
      if (!obs.authenticated || obs.agencyId === undefined || obs.subjectPseudonym === undefined) return [];
      const entries = window.add(obs.agencyId, obs.at, { pseudonym: obs.subjectPseudonym, exchangeId: obs.exchangeId });
      const firstSeen = new Map<string, string>();
      for (const e of entries) if (!firstSeen.has(e.value.pseudonym)) firstSeen.set(e.value.pseudonym, e.value.exchangeId);
      if (firstSeen.size < settings.distinctSubjects) {
        firing.delete(obs.agencyId);
        return [];
      }
      const first = !firing.has(obs.agencyId);
      firing.add(obs.agencyId);
      const isNewSubject = firstSeen.get(obs.subjectPseudonym) === obs.exchangeId;
      if (!first && !isNewSubject) return [];
      return [
        {
          detector: "subject-enumeration",
          key: obs.agencyId,
          category: "information-destruction",
          level: "III",
          summary: `agency ${obs.agencyId} queried ${firstSeen.size} distinct subjects within ${settings.windowMs / 1000} s (bulk harvesting)`,
          exchangeIds: first ? [...firstSeen.values()] : [obs.exchangeId],
          pseudonyms: first ? [...firstSeen.keys()] : [obs.subjectPseudonym],
          count: first ? firstSeen.size : 1,
          attributes: { distinct_subjects: String(firstSeen.size), window_ms: String(settings.windowMs), threshold: String(settings.distinctSubjects) },
        },
      ];
    },
  };
}
