import type { IncidentCategory, IncidentLevel } from "./incident.js";
import type { ExchangeObservation, SecurityEvent } from "./security-event.js";

/** What a detector concluded from one observation: feeds (or opens) the incident for detector+key. */
export interface Finding {
  readonly detector: string;
  readonly key: string;
  readonly category: IncidentCategory;
  readonly level: IncidentLevel;
  readonly summary: string;
  readonly exchangeIds?: readonly string[];
  readonly pseudonyms?: readonly string[];
  /** How many observations this finding adds to the evidence. */
  readonly count: number;
  readonly attributes?: Readonly<Record<string, string>>;
}

/**
 * A detector: pure, fed in time order, with the time of each observation
 * carried by it (the clock is the caller's). Returns the findings of this
 * observation (usually none).
 */
export interface Detector {
  readonly name: string;
  observeExchange?(obs: ExchangeObservation): Finding[];
  observeEvent?(event: SecurityEvent): Finding[];
  /** Forgets what was counted for `key` (an officer resolved its incident: counting starts afresh). */
  reset?(key: string): void;
}
