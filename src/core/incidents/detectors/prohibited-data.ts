import type { Detector } from "../detector.js";

/**
 * A provider sent data that must never be collected or passed (Credit
 * Investigation Regulation Art. 14.1: religion, genes, fingerprints, blood
 * type, disease, medical history). The release stage already withheld it;
 * that a member holds and sends it is itself an incident, keyed by provider.
 */
export function createProhibitedDataDetector(): Detector {
  return {
    name: "prohibited-data",
    observeEvent(event) {
      if (event.kind !== "prohibited-data") return [];
      return [
        {
          detector: "prohibited-data",
          key: event.provider,
          category: "information-destruction",
          level: "III",
          summary: `provider ${event.provider} sent prohibited data (Art. 14.1), withheld by the gateway`,
          exchangeIds: [event.exchangeId],
          count: 1,
          attributes: { field: event.fieldName, record: event.recordId },
        },
      ];
    },
  };
}
