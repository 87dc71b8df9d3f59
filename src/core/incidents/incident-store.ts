import type { Incident, IncidentState } from "./incident.js";

export interface IncidentFilter {
  readonly state?: IncidentState | "unresolved" | undefined;
  readonly detector?: string | undefined;
}

/**
 * Where incidents live. `save` records the incident's current snapshot
 * (implementations may persist it asynchronously, in order); `flush` waits
 * until everything saved is durable.
 */
export interface IncidentStore {
  save(incident: Incident): void;
  get(id: string): Incident | undefined;
  list(filter?: IncidentFilter): Incident[];
  flush(): Promise<void>;
  close(): Promise<void>;
  describe(): string;
}

export function matchesFilter(incident: Incident, filter: IncidentFilter = {}): boolean {
  if (filter.detector !== undefined && incident.detector !== filter.detector) return false;
  if (filter.state === "unresolved") return incident.state !== "resolved";
  return filter.state === undefined || incident.state === filter.state;
}

/** Incidents in memory, most recently opened last; snapshots are deep copies so callers cannot change the store. */
export function createMemoryIncidentStore(initial: readonly Incident[] = []): IncidentStore {
  const byId = new Map<string, Incident>();
  for (const i of initial) byId.set(i.id, structuredClone(i));
  return {
    save(incident) {
      byId.set(incident.id, structuredClone(incident));
    },
    get(id) {
      const found = byId.get(id);
      return found ? structuredClone(found) : undefined;
    },
    list(filter) {
      return [...byId.values()].filter((i) => matchesFilter(i, filter)).map((i) => structuredClone(i));
    },
    flush: async () => {},
    close: async () => {},
    describe: () => "memory",
  };
}
