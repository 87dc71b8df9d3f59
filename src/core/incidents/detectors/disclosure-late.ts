import type { Detector } from "../detector.js";

/**
 * A level-1 decision published more than seven working days after it was
 * made: the owner missed the "double publicity" deadline (NDRC
 * 发改办财金〔2015〕2700号). The entry is public all the same; the incident is
 * the owner's to answer.
 */
export function createDisclosureLateDetector(): Detector {
  return {
    name: "disclosure-late",
    observeEvent(event) {
      if (event.kind !== "disclosure-late") return [];
      return [
        {
          detector: "disclosure-late",
          key: `${event.ownerAgency}/${event.entryId}`,
          category: "other",
          level: "IV",
          summary: `${event.ownerAgency} published ${event.category} entry ${event.entryId} ${event.lagWorkingDays} working days after the decision of ${event.decisionDate.toISOString().slice(0, 10)} (at most ${event.maxLagWorkingDays}: 2700号)`,
          count: 1,
          attributes: {
            owner: event.ownerAgency,
            entry_id: event.entryId,
            category: event.category,
            decision_date: event.decisionDate.toISOString(),
            published_at: event.at.toISOString(),
            lag_working_days: String(event.lagWorkingDays),
          },
        },
      ];
    },
  };
}
