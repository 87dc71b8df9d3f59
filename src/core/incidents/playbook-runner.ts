import type { AgencyRateLimit } from "../agency-rate-limiter.js";
import type { Incident } from "./incident.js";
import { canMove } from "./incident.js";
import type { IncidentManager } from "./incident-manager.js";
import { CONTAINMENT_ACTIONS, playbooksFor, type Playbook, type PlaybookAction } from "./playbook.js";
import { SIGNATURE_HEADER, signWebhookBody, TIMESTAMP_HEADER } from "./webhook-signature.js";

/** What containment actions act on: the running gateway (synchronous, so they bind the very next call). */
export interface ContainmentPorts {
  suspendAgency(agencyId: string, reason: string): void;
  throttleAgency(agencyId: string, limit: AgencyRateLimit): void;
  revokeCertificate(serial: string, reason: string): void;
  setRestrictedMode(on: boolean): void;
}

/** How notifications leave the gateway (adapters: node:http, child_process). */
export interface NotificationPorts {
  /** Resolves to the HTTP status; rejects on a network error or timeout. */
  postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number>;
  runCommand(argv: readonly string[], stdin: string, timeoutMs: number): Promise<{ exitCode: number | null; timedOut: boolean }>;
}

export interface PlaybookRunnerOptions {
  readonly playbooks: readonly Playbook[];
  readonly manager: IncidentManager;
  readonly containment: ContainmentPorts;
  readonly notifications: NotificationPorts;
  /** Records an automatic action in the audit trail (AuditEvent ADMIN). */
  readonly audit: (action: string, attributes: Record<string, string>) => Promise<void>;
  readonly clock?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PlaybookRunner {
  /** Resolves when every notification started so far has finished (tests, shutdown). */
  idle(): Promise<void>;
  stop(): void;
}

/**
 * Runs the playbooks of each incident once, when it opens or escalates into
 * their level. Containment actions apply at once (the next call of the
 * agency is already refused); webhooks and commands follow in order, in the
 * background. Every action and delivery attempt lands on the incident's
 * timeline; every containment action is audited.
 */
export function createPlaybookRunner(options: PlaybookRunnerOptions): PlaybookRunner {
  const { manager } = options;
  const clock = options.clock ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const ran = new Set<string>();
  const pending = new Set<Promise<void>>();

  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const record = (incident: Incident, playbook: Playbook, kind: "action" | "delivery", text: string, details: Record<string, string>) => {
    manager.record(incident.id, { kind, actor: `playbook:${playbook.name}`, text, details });
  };

  const contain = (incident: Incident, playbook: Playbook, action: PlaybookAction): boolean => {
    const reason = `incident ${incident.id} (${incident.detector}, level ${incident.level}), playbook ${playbook.name}`;
    const agency = incident.agency;
    const serial = incident.evidence.attributes["cert_serial"];
    let target: string;
    switch (action.type) {
      case "suspend-agency":
        if (!agency) return skip(incident, playbook, action, "the incident names no agency");
        options.containment.suspendAgency(agency, reason);
        target = agency;
        break;
      case "throttle-agency":
        if (!agency) return skip(incident, playbook, action, "the incident names no agency");
        options.containment.throttleAgency(agency, { ratePerSecond: action.ratePerSecond, burst: action.burst });
        target = `${agency} at ${action.ratePerSecond}/s`;
        break;
      case "revoke-certificate":
        if (!serial) return skip(incident, playbook, action, "the incident names no certificate serial");
        options.containment.revokeCertificate(serial, reason);
        target = serial;
        break;
      case "restricted-mode":
        options.containment.setRestrictedMode(true);
        target = "gateway";
        break;
      default:
        return false;
    }
    record(incident, playbook, "action", `${action.type} ${target}`, { action: action.type, target });
    const attributes = { action: action.type, target, incident: incident.id, playbook: playbook.name, actor: `playbook:${playbook.name}` };
    track(
      options.audit(action.type, attributes).catch((err: unknown) =>
        record(incident, playbook, "action", `audit of ${action.type} failed: ${(err as Error).message}`, { action: "audit", outcome: "failed" }),
      ),
    );
    return true;
  };

  const skip = (incident: Incident, playbook: Playbook, action: PlaybookAction, why: string): false => {
    record(incident, playbook, "action", `${action.type} skipped: ${why}`, { action: action.type, outcome: "skipped" });
    return false;
  };

  const notify = async (incidentId: string, playbook: Playbook, action: PlaybookAction) => {
    const incident = manager.get(incidentId);
    if (!incident) return;
    const body = JSON.stringify(incident);
    if (action.type === "webhook") {
      for (let attempt = 1; attempt <= action.maxAttempts; attempt++) {
        const timestamp = Math.floor(clock().getTime() / 1000);
        const headers = { [SIGNATURE_HEADER]: signWebhookBody(action.secret, timestamp, body), [TIMESTAMP_HEADER]: String(timestamp), "x-credex-incident": incident.id };
        let outcome: string;
        try {
          const status = await options.notifications.postJson(action.url, body, headers, action.timeoutMs);
          if (status >= 200 && status < 300) {
            record(incident, playbook, "delivery", `webhook delivered (HTTP ${status}, attempt ${attempt})`, { action: "webhook", url: action.url, attempt: String(attempt), status: String(status), outcome: "delivered" });
            return;
          }
          outcome = `HTTP ${status}`;
        } catch (err) {
          outcome = (err as Error).message;
        }
        const last = attempt === action.maxAttempts;
        record(incident, playbook, "delivery", `webhook attempt ${attempt} failed: ${outcome}${last ? `; gave up after ${attempt} attempts` : ""}`, {
          action: "webhook",
          url: action.url,
          attempt: String(attempt),
          error: outcome,
          outcome: last ? "failed" : "retrying",
        });
        // Exponential backoff: initial, 2×, 4×, … between attempts.
        if (!last) await sleep(action.initialBackoffMs * 2 ** (attempt - 1));
      }
    } else if (action.type === "command") {
      try {
        const r = await options.notifications.runCommand(action.argv, body, action.timeoutMs);
        const text = r.timedOut ? `command ${action.argv[0]} killed after ${action.timeoutMs} ms` : `command ${action.argv[0]} exited ${r.exitCode}`;
        record(incident, playbook, "action", text, { action: "command", program: action.argv[0]!, exit_code: String(r.exitCode), timed_out: String(r.timedOut) });
      } catch (err) {
        record(incident, playbook, "action", `command ${action.argv[0]} could not run: ${(err as Error).message}`, { action: "command", program: action.argv[0]!, outcome: "failed" });
      }
    }
  };

  const run = (incident: Incident, playbook: Playbook) => {
    let contained = false;
    const later: PlaybookAction[] = [];
    for (const action of playbook.actions) {
      if (CONTAINMENT_ACTIONS.has(action.type)) contained = contain(incident, playbook, action) || contained;
      else later.push(action);
    }
    if (contained) {
      const current = manager.get(incident.id);
      if (current && canMove(current.state, "contained")) manager.transition(incident.id, "contained", `playbook:${playbook.name}`, "containment actions applied");
    }
    if (later.length > 0) {
      track(
        (async () => {
          for (const action of later) await notify(incident.id, playbook, action);
        })(),
      );
    }
  };

  const unsubscribe = manager.subscribe((incident, change) => {
    if (change !== "opened" && change !== "escalated") return;
    for (const playbook of playbooksFor(options.playbooks, incident)) {
      const key = `${incident.id}\u0000${playbook.name}`;
      if (ran.has(key)) continue;
      ran.add(key);
      run(incident, playbook);
    }
  });

  return {
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    stop: unsubscribe,
  };
}
