import type { Sector } from "./catalogue.js";

export type AgencyStatus = "active" | "suspended";

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
