import { levelRank, type Incident, type IncidentLevel } from "./incident.js";

/** One action of a playbook (policies/playbooks.yaml). */
export type PlaybookAction =
  | {
      readonly type: "webhook";
      readonly url: string;
      /** HMAC-SHA256 key for the X-Credex-Signature header (read from `secretFile`, never inline). */
      readonly secret: Buffer;
      readonly maxAttempts: number;
      readonly initialBackoffMs: number;
      readonly timeoutMs: number;
    }
  | { readonly type: "command"; readonly argv: readonly string[]; readonly timeoutMs: number }
  | { readonly type: "throttle-agency"; readonly ratePerSecond: number; readonly burst: number }
  | { readonly type: "suspend-agency" }
  | { readonly type: "revoke-certificate" }
  | { readonly type: "restricted-mode" };

export type PlaybookActionType = PlaybookAction["type"];
export const PLAYBOOK_ACTION_TYPES: readonly PlaybookActionType[] = ["webhook", "command", "throttle-agency", "suspend-agency", "revoke-certificate", "restricted-mode"];

/** Actions that contain an incident: once one succeeds the incident is `contained`. */
export const CONTAINMENT_ACTIONS: ReadonlySet<PlaybookActionType> = new Set(["throttle-agency", "suspend-agency", "revoke-certificate", "restricted-mode"]);

export interface Playbook {
  readonly name: string;
  /** A detector name, or "*" for every detector. */
  readonly detector: string;
  /** Runs for incidents of this level or more severe. */
  readonly minLevel: IncidentLevel;
  readonly actions: readonly PlaybookAction[];
}

/** The playbooks that apply to an incident at its current level. */
export function playbooksFor(playbooks: readonly Playbook[], incident: Pick<Incident, "detector" | "level">): Playbook[] {
  return playbooks.filter((p) => (p.detector === "*" || p.detector === incident.detector) && levelRank(incident.level) >= levelRank(p.minLevel));
}
