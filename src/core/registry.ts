import type { Sector } from "./catalogue.js";
import { sectorRights } from "./sector-rights.js";

export type AgencyStatus = "active" | "suspended";

/**
 * Roles an agency may hold in the registry, beyond its sector. "judicial":
 * a court, or a platform that carries courts' requests; only it may state
 * the JUDICIAL purpose (judicial assistance is for the judiciary, not a
 * purpose any member can claim to widen what it receives).
 */
export const AGENCY_ROLES = ["judicial"] as const;
export type AgencyRole = (typeof AGENCY_ROLES)[number];

/** The registry role a purpose requires of its requester (absent: none). */
const PURPOSE_ROLES: Readonly<Record<string, AgencyRole>> = { JUDICIAL: "judicial" };

/** The roles `entry` holds: those the registry names, and those its sector implies (a court is judicial). */
export function rolesOf(entry: AgencyEntry): readonly AgencyRole[] {
  return [...(entry.roles ?? []), ...sectorRights(entry.sector).impliedRoles];
}

/** The role `purpose` requires that `entry` does not hold, or undefined when it may state the purpose. */
export function missingPurposeRole(entry: AgencyEntry | undefined, purpose: string): AgencyRole | undefined {
  const required = PURPOSE_ROLES[purpose];
  return required !== undefined && !(entry ? rolesOf(entry) : []).includes(required) ? required : undefined;
}

/** One member of the exchange (DESIGN.md, Identity: the agency registry). */
export interface AgencyEntry {
  readonly id: string;
  readonly name: string;
  readonly sector: Sector;
  /** Unified Social Credit Code; must equal the certificate's subject serialNumber. */
  readonly uscc: string;
  /** host:port of its CreditProvider endpoint; absent for agencies that only ask. */
  readonly providerEndpoint?: string | undefined;
  /** Categories its provider serves. */
  readonly categories: readonly string[];
  /** Highest level it may ever receive, whatever the policy grants (1..4). */
  readonly clearance: number;
  /** Declared security-protection level (等级保护), 1..5. */
  readonly protectionLevel: number;
  readonly status: AgencyStatus;
  /** Registry roles (AGENCY_ROLES); absent or empty: none. */
  readonly roles?: readonly AgencyRole[] | undefined;
}

/**
 * The registry as loaded from config, plus run-time suspensions (an officer
 * or a playbook can suspend an agency without a config change).
 */
export class AgencyRegistry {
  private readonly byId: ReadonlyMap<string, AgencyEntry>;
  /** Providers per category, built once: authorize asks for every category of every exchange. */
  private readonly byCategory = new Map<string, AgencyEntry[]>();
  private readonly suspended = new Map<string, string>();

  constructor(entries: readonly AgencyEntry[]) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
    for (const e of entries) {
      if (e.providerEndpoint === undefined) continue;
      for (const c of new Set(e.categories)) this.byCategory.set(c, [...(this.byCategory.get(c) ?? []), e]);
    }
  }

  get(id: string): AgencyEntry | undefined {
    return this.byId.get(id);
  }

  all(): AgencyEntry[] {
    return [...this.byId.values()];
  }

  /** Agencies whose provider serves `category`. */
  providersOf(category: string): readonly AgencyEntry[] {
    return this.byCategory.get(category) ?? [];
  }

  suspend(id: string, reason: string): void {
    this.suspended.set(id, reason);
  }

  resume(id: string): void {
    this.suspended.delete(id);
  }

  /** Why the agency may not call now, or undefined when it may. */
  suspensionOf(id: string): string | undefined {
    const entry = this.byId.get(id);
    if (entry?.status === "suspended") return "suspended in the registry";
    return this.suspended.get(id);
  }
}
