import type { Detector } from "../detector.js";

/**
 * A record under a runtime setting's key (agency suspension, throttle,
 * restricted mode) was refused: its signature failed, a certificate that is
 * not a replica's signed it, or it is a copy of an older setting written back
 * onto the topic. Only someone with write access to the control topic can put
 * one there: tampering with the fleet's shared state. The setting in force
 * stays; one incident per key while it is open.
 */
export function createRuntimeSettingRefusedDetector(): Detector {
  return {
    name: "runtime-setting-refused",
    observeEvent(event) {
      if (event.kind !== "runtime-setting-refused") return [];
      return [
        {
          detector: "runtime-setting-refused",
          key: event.key,
          category: "network-attack",
          level: "III",
          summary: `control record ${event.key} refused: ${event.problem}`,
          count: 1,
          attributes: { key: event.key, problem: event.problem },
        },
      ];
    },
  };
}
