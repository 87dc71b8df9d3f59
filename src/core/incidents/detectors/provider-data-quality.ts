import type { Detector } from "../detector.js";

/**
 * A provider labelled records or fields less strictly than the catalogue
 * (a level-4 record as level 1, a negative record as positive). The release
 * stage already judged them at the catalogue's classification, so nothing
 * leaked; that a member mislabels is itself an incident: a broken or
 * compromised provider trying to pass data to requesters not cleared for it.
 * One incident per provider; each exchange adds its counts to the evidence.
 */
export function createProviderDataQualityDetector(): Detector {
  return {
    name: "provider-data-quality",
    observeEvent(event) {
      if (event.kind !== "provider-data-quality") return [];
      return [
        {
          detector: "provider-data-quality",
          key: event.provider,
          category: "information-destruction",
          level: "IV",
          summary: `provider ${event.provider} labelled records less strictly than the catalogue (${event.properties.join(", ")}); the gateway applied the catalogue`,
          exchangeIds: [event.exchangeId],
          count: event.mislabelledRecords + event.mislabelledFields,
          attributes: {
            properties: event.properties.join(","),
            last_mislabelled_records: String(event.mislabelledRecords),
            last_mislabelled_fields: String(event.mislabelledFields),
            last_records: event.recordIds.join(","),
          },
        },
      ];
    },
  };
}
