import type { Detector } from "../detector.js";

/**
 * A provider sent data the catalogue does not vouch for: records or fields
 * labelled less strictly than the catalogue (a level-4 record as level 1, a
 * negative record as positive), fields the catalogue does not list for their
 * category, negative records with no end and no ongoing confirmation (Art.
 * 16). The release stage already applied the catalogue, so nothing leaked;
 * that a member sends such data is itself an incident: a broken or compromised
 * provider trying to pass data to requesters not cleared for it. One incident
 * per provider; each exchange adds its counts to the evidence.
 */
export function createProviderDataQualityDetector(): Detector {
  return {
    name: "provider-data-quality",
    observeEvent(event) {
      if (event.kind !== "provider-data-quality") return [];
      const unknownFields = event.unknownFields ?? 0;
      const negativeWithoutEnd = event.negativeWithoutEnd ?? 0;
      const problems = [
        ...(event.mislabelledRecords + event.mislabelledFields > 0 ? [`labelled records less strictly than the catalogue (${event.properties.join(", ")})`] : []),
        ...(unknownFields > 0 ? [`sent ${unknownFields} field(s) the catalogue does not list for their category`] : []),
        ...(negativeWithoutEnd > 0 ? [`sent ${negativeWithoutEnd} negative record(s) with no end and no ongoing confirmation (Art. 16)`] : []),
      ];
      return [
        {
          detector: "provider-data-quality",
          key: event.provider,
          category: "information-destruction",
          level: "IV",
          summary: `provider ${event.provider} ${problems.join("; ")}; the gateway applied the catalogue`,
          exchangeIds: [event.exchangeId],
          count: event.mislabelledRecords + event.mislabelledFields + unknownFields + negativeWithoutEnd,
          attributes: {
            properties: event.properties.join(","),
            last_mislabelled_records: String(event.mislabelledRecords),
            last_mislabelled_fields: String(event.mislabelledFields),
            last_records: event.recordIds.join(","),
            ...(unknownFields > 0 ? { last_unknown_fields: String(unknownFields), last_unknown_field_names: (event.unknownFieldNames ?? []).join(",") } : {}),
            ...(negativeWithoutEnd > 0 ? { last_negative_without_end: String(negativeWithoutEnd) } : {}),
          },
        },
      ];
    },
  };
}
