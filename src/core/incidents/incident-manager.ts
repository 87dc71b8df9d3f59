import { randomUUID } from "node:crypto";
import { CredexError } from "../errors.js";
import type { Detector, Finding } from "./detector.js";
import { canMove, EVIDENCE_LIMITS, levelRank, maxLevel, reportingDeadline, type Incident, type IncidentState, type OperatorClass, type TimelineEntry } from "./incident.js";
import type { IncidentFilter, IncidentStore } from "./incident-store.js";
import type { ExchangeObservation, SecurityEvent } from "./security-event.js";

/** Who the observation behind a finding was about: names the incident's agency and certificate. */
interface ObservationContext {
  readonly agencyId?: string | undefined;
  readonly certSerial?: string | undefined;
  readonly certFingerprint?: string | undefined;
}

/** What happened to an incident, for listeners (playbooks, publishers, metrics). */
export type IncidentChange = "opened" | "evidence" | "escalated" | "state" | "timeline";

export type IncidentListener = (incident: Incident, change: IncidentChange) => void;

export interface IncidentManagerOptions {
  readonly detectors: readonly Detector[];
  readonly store: IncidentStore;
  readonly gatewayInstance: string;
  readonly operatorClass: OperatorClass;
  readonly clock?: () => Date;
  readonly newId?: () => string;
}

export interface IncidentManager {
  /** Feeds one finished exchange to every detector. Never throws (it runs in the pipeline's onExchange). */
  observe(obs: ExchangeObservation): void;
  /** Reports a security event from another module (audit sink, release, certificate or policy checks). */
  report(event: SecurityEvent): void;
  get(id: string): Incident | undefined;
  list(filter?: IncidentFilter): Incident[];
  /** Moves an incident along open → acknowledged → contained → resolved; throws INCIDENT_NOT_FOUND / INCIDENT_STATE_INVALID. */
  transition(id: string, to: IncidentState, actor: string, note?: string): Incident;
  /** Adds an entry (an action taken, a delivery attempt, a note) to the timeline. */
  record(id: string, entry: Omit<TimelineEntry, "at">): void;
  subscribe(listener: IncidentListener): () => void;
  /** Listener or detector failures, so that they are visible without breaking exchanges. */
  readonly errors: unknown[];
}

/**
 * Turns findings into incidents: one unresolved incident per detector and
 * key (deduplication), whose evidence accumulates and whose level only
 * rises. A resolved incident frees its key; the next finding opens a new one.
 */
export function createIncidentManager(options: IncidentManagerOptions): IncidentManager {
  const clock = options.clock ?? (() => new Date());
  const newId = options.newId ?? (() => `inc-${randomUUID()}`);
  const store = options.store;
  const openByKey = new Map<string, string>();
  for (const i of store.list({ state: "unresolved" })) openByKey.set(`${i.detector}\u0000${i.key}`, i.id);
  const listeners = new Set<IncidentListener>();
  const errors: unknown[] = [];

  const notify = (incident: Incident, change: IncidentChange) => {
    for (const l of listeners) {
      try {
        l(structuredClone(incident), change);
      } catch (err) {
        if (errors.length < 100) errors.push(err);
      }
    }
  };

  const load = (id: string): Incident => {
    const found = store.get(id);
    if (!found) throw new CredexError("INCIDENT_NOT_FOUND", `no incident "${id}"`, { incident: id });
    return found;
  };

  const append = (incident: Incident, entry: Omit<TimelineEntry, "at">, at: Date) => {
    incident.timeline.push({ at: at.toISOString(), ...entry });
    // Bounded: the first entries (opening) and the latest are kept.
    if (incident.timeline.length > EVIDENCE_LIMITS.timeline) incident.timeline.splice(1, incident.timeline.length - EVIDENCE_LIMITS.timeline);
    incident.updatedAt = at.toISOString();
  };

  const accept = (finding: Finding, context: ObservationContext) => {
    const now = clock();
    const dedupKey = `${finding.detector}\u0000${finding.key}`;
    const openId = openByKey.get(dedupKey);
    const existing = openId ? store.get(openId) : undefined;
    if (existing && existing.state !== "resolved") {
      addEvidence(existing, finding);
      let change: IncidentChange = "evidence";
      if (levelRank(finding.level) > levelRank(existing.level)) {
        existing.level = maxLevel(existing.level, finding.level);
        existing.reportBy ??= reportingDeadline(existing.level, options.operatorClass, now)?.toISOString();
        append(existing, { kind: "escalated", actor: `detector:${finding.detector}`, text: `escalated to level ${existing.level}: ${finding.summary}` }, now);
        change = "escalated";
      } else {
        existing.updatedAt = now.toISOString();
      }
      store.save(existing);
      notify(existing, change);
      return;
    }
    const incident: Incident = {
      id: newId(),
      detector: finding.detector,
      key: finding.key,
      category: finding.category,
      level: finding.level,
      summary: finding.summary,
      gatewayInstance: options.gatewayInstance,
      openedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      reportBy: reportingDeadline(finding.level, options.operatorClass, now)?.toISOString(),
      state: "open",
      evidence: { exchangeIds: [], count: 0, pseudonyms: [], attributes: {} },
      timeline: [],
      ...(context.agencyId !== undefined && context.agencyId === finding.key ? { agency: context.agencyId } : {}),
    };
    // The certificate belongs to the incident only when the incident is about its holder.
    if (context.certSerial !== undefined && (context.agencyId === finding.key || finding.key === `cert:${context.certFingerprint}`)) {
      incident.evidence.attributes["cert_serial"] = context.certSerial;
    }
    addEvidence(incident, finding);
    append(incident, { kind: "opened", actor: `detector:${finding.detector}`, text: finding.summary, details: { level: finding.level, category: finding.category } }, now);
    openByKey.set(dedupKey, incident.id);
    store.save(incident);
    notify(incident, "opened");
  };

  const run = (fn: () => Finding[], context: ObservationContext) => {
    try {
      for (const f of fn()) accept(f, context);
    } catch (err) {
      if (errors.length < 100) errors.push(err);
    }
  };

  return {
    errors,
    observe(obs) {
      const context = { agencyId: obs.agencyId, certSerial: obs.certSerial, certFingerprint: obs.certFingerprint };
      for (const d of options.detectors) if (d.observeExchange) run(() => d.observeExchange!(obs), context);
    },
    report(event) {
      const context = event.kind === "prohibited-data" || event.kind === "provider-data-quality" ? { agencyId: event.provider } : {};
      for (const d of options.detectors) if (d.observeEvent) run(() => d.observeEvent!(event), context);
    },
    get: (id) => store.get(id),
    list: (filter) => store.list(filter),
    transition(id, to, actor, note) {
      const incident = load(id);
      if (!canMove(incident.state, to)) {
        throw new CredexError("INCIDENT_STATE_INVALID", `incident "${id}" is ${incident.state}; it cannot become ${to}`, { incident: id, state: incident.state, requested: to });
      }
      const from = incident.state;
      incident.state = to;
      append(incident, { kind: "state", actor, text: note ? `${from} → ${to}: ${note}` : `${from} → ${to}`, details: { from, to } }, clock());
      if (to === "resolved") {
        openByKey.delete(`${incident.detector}\u0000${incident.key}`);
        for (const d of options.detectors) if (d.name === incident.detector) d.reset?.(incident.key);
      }
      store.save(incident);
      notify(incident, "state");
      return incident;
    },
    record(id, entry) {
      const incident = load(id);
      append(incident, entry, clock());
      store.save(incident);
      notify(incident, "timeline");
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function addEvidence(incident: Incident, finding: Finding): void {
  const ev = incident.evidence;
  ev.count += finding.count;
  pushBounded(ev.exchangeIds, finding.exchangeIds ?? [], EVIDENCE_LIMITS.exchangeIds);
  for (const p of finding.pseudonyms ?? []) if (!ev.pseudonyms.includes(p)) pushBounded(ev.pseudonyms, [p], EVIDENCE_LIMITS.pseudonyms);
  Object.assign(ev.attributes, finding.attributes ?? {});
}

/** Appends, keeping the most recent `max` entries. */
function pushBounded(list: string[], items: readonly string[], max: number): void {
  list.push(...items);
  if (list.length > max) list.splice(0, list.length - max);
}
