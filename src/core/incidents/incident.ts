/**
 * Security incidents as the national emergency plan for network security
 * incidents classifies them (DOMAIN.md, Incidents): one of seven categories,
 * a level from IV (general) to I (especially major), and for level III and
 * above a reporting deadline that depends on the operator's class.
 */

/** The seven categories of the national plan. */
export const INCIDENT_CATEGORIES = [
  "harmful-program",
  "network-attack",
  "information-destruction",
  "information-content",
  "equipment-failure",
  "disaster",
  "other",
] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];

/** IV 一般 general, III 较大 large, II 重大 major, I 特别重大 especially major. */
export const INCIDENT_LEVELS = ["IV", "III", "II", "I"] as const;
export type IncidentLevel = (typeof INCIDENT_LEVELS)[number];

/** Severity rank: IV = 1 … I = 4, so that "level III and above" is rank ≥ 2. */
export function levelRank(level: IncidentLevel): number {
  return INCIDENT_LEVELS.indexOf(level) + 1;
}

export function maxLevel(a: IncidentLevel, b: IncidentLevel): IncidentLevel {
  return levelRank(a) >= levelRank(b) ? a : b;
}

/**
 * Who runs the gateway decides how fast a level III+ incident is reported:
 * critical-infrastructure operators within 1 hour (a national credit
 * exchange is one), central and state organs within 2 hours, others 4 hours.
 */
export const OPERATOR_CLASSES = ["critical-infrastructure", "state-organ", "other"] as const;
export type OperatorClass = (typeof OPERATOR_CLASSES)[number];

const REPORTING_HOURS: Record<OperatorClass, number> = { "critical-infrastructure": 1, "state-organ": 2, other: 4 };

/** When a level III+ incident must be reported, or undefined for level IV. */
export function reportingDeadline(level: IncidentLevel, operatorClass: OperatorClass, openedAt: Date): Date | undefined {
  if (levelRank(level) < levelRank("III")) return undefined;
  return new Date(openedAt.getTime() + REPORTING_HOURS[operatorClass] * 3_600_000);
}

export const INCIDENT_STATES = ["open", "acknowledged", "contained", "resolved"] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/** Forward moves only; any unresolved incident may be resolved (a false positive). */
const NEXT_STATES: Record<IncidentState, readonly IncidentState[]> = {
  open: ["acknowledged", "contained", "resolved"],
  acknowledged: ["contained", "resolved"],
  contained: ["acknowledged", "resolved"],
  resolved: [],
};

export function canMove(from: IncidentState, to: IncidentState): boolean {
  return NEXT_STATES[from].includes(to);
}

/**
 * What an incident rests on. Never personal data in clear (DOMAIN.md):
 * exchange ids, counts, certificate fingerprints, subject pseudonyms.
 */
export interface IncidentEvidence {
  /** The exchanges involved, most recent last (bounded). */
  exchangeIds: string[];
  /** Observations that fed the incident, over its whole life. */
  count: number;
  /** Keyed subject pseudonyms (bounded sample), never subject ids. */
  pseudonyms: string[];
  /** Value-free facts, e.g. window, threshold, error reasons. */
  attributes: Record<string, string>;
}

export type TimelineKind = "opened" | "evidence" | "escalated" | "state" | "action" | "delivery" | "note";

export interface TimelineEntry {
  readonly at: string;
  readonly kind: TimelineKind;
  /** "detector:<name>", "playbook", or the officer's admin identity. */
  readonly actor: string;
  readonly text: string;
  /** Value-free details: action name, attempt, HTTP status, state. */
  readonly details?: Record<string, string>;
}

export interface Incident {
  readonly id: string;
  readonly detector: string;
  /** What the detector deduplicates on: an agency id, a certificate fingerprint, a provider. */
  readonly key: string;
  readonly category: IncidentCategory;
  level: IncidentLevel;
  readonly summary: string;
  readonly gatewayInstance: string;
  /** The member agency concerned, when the key names one (the target of agency actions). */
  readonly agency?: string;
  readonly openedAt: string;
  updatedAt: string;
  /** ISO time by which a level III+ incident must be reported to the authority. */
  reportBy?: string | undefined;
  state: IncidentState;
  evidence: IncidentEvidence;
  timeline: TimelineEntry[];
}

/** Bounds so that a long-running incident stays a small record. */
export const EVIDENCE_LIMITS = { exchangeIds: 50, pseudonyms: 50, timeline: 500 } as const;
