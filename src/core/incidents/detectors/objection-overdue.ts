import type { Detector } from "../detector.js";

/**
 * An objection not answered within the statutory 20 days (Credit
 * Investigation Regulation Art. 25): the owner is in breach and the subject's
 * right to correction is not being honoured.
 */
export function createObjectionOverdueDetector(): Detector {
  return {
    name: "objection-overdue",
    observeEvent(event) {
      if (event.kind !== "objection-overdue") return [];
      return [
        {
          detector: "objection-overdue",
          key: event.objectionId,
          category: "other",
          level: "IV",
          summary: `objection ${event.objectionId} on a record of ${event.ownerAgency} unanswered past its deadline ${event.dueAt.toISOString()} (Art. 25)`,
          count: 1,
          attributes: { objection_id: event.objectionId, owner: event.ownerAgency, record_id: event.recordId, due_at: event.dueAt.toISOString() },
        },
      ];
    },
  };
}
