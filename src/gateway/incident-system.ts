import { timestampDate } from "@bufbuild/protobuf/wkt";
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import type { GatewayConfig } from "../config/gateway-config.js";
import { loadPlaybooks } from "../config/playbook-file.js";
import type { GatewayParts, RunningGateway } from "./gateway.js";
import { CredexError } from "../core/errors.js";
import { adminAuditEvent } from "../core/admin-audit-event.js";
import { createAgencyRateLimiter, type AgencyRateLimiter } from "../core/agency-rate-limiter.js";
import { createDetectors } from "../core/incidents/create-detectors.js";
import { describePreviousCheckpoint } from "../core/audit/chain-restart.js";
import { createIncidentManager, type IncidentManager } from "../core/incidents/incident-manager.js";
import { createPlaybookRunner, type PlaybookRunner } from "../core/incidents/playbook-runner.js";
import { observationOf, type SecurityEvent } from "../core/incidents/security-event.js";
import type { Incident, IncidentState } from "../core/incidents/incident.js";
import type { Playbook } from "../core/incidents/playbook.js";
import type { Pseudonymize } from "../core/stages/audit.js";
import type { RuntimeSetting } from "../core/control/runtime-setting-item.js";
import { createFileIncidentStore } from "../adapters/incidents/file-incident-store.js";
import { postJson } from "../adapters/http/post-json.js";
import { runCommand } from "../adapters/process/run-command.js";
import { createKafkaIncidentPublisher, type IncidentPublisher } from "../adapters/kafka/incident-topic.js";

/** Who performs an administrative action, as the audit records it. */
export interface AdminActor {
  /** "admin/<role>/<name>" for officers. */
  readonly id: string;
  readonly certFingerprint?: string | undefined;
  readonly certSerial?: string | undefined;
  readonly peerAddress?: string | undefined;
}

/** What an officer may do (the admin API calls these after its role check). Each is audited before it acts. */
export interface OfficerActions {
  suspendAgency(actor: AdminActor, agencyId: string, reason: string): Promise<void>;
  resumeAgency(actor: AdminActor, agencyId: string): Promise<void>;
  /** ratePerSecond 0 lifts the throttle (back to the configured default). */
  throttleAgency(actor: AdminActor, agencyId: string, ratePerSecond: number, burst: number): Promise<void>;
  setRestrictedMode(actor: AdminActor, on: boolean): Promise<void>;
  revokeCertificate(actor: AdminActor, serial: string, reason: string): Promise<void>;
  unrevokeCertificate(actor: AdminActor, serial: string): Promise<void>;
  transition(actor: AdminActor, incidentId: string, to: IncidentState, note: string): Promise<Incident>;
  reloadTls(actor: AdminActor): Promise<void>;
  /** Records a read (ListIncidents, GetIncident) or a refused call. */
  audit(actor: AdminActor, action: string, attributes: Record<string, string>, refusal?: CredexError): Promise<void>;
  restrictedMode(): boolean;
}

export interface IncidentSystem {
  readonly manager: IncidentManager;
  readonly limiter: AgencyRateLimiter;
  readonly playbooks: readonly Playbook[];
  /** Hooks to merge into the GatewayParts given to startGateway. */
  readonly hooks: Required<Pick<GatewayParts, "onExchange" | "onProhibited" | "onDataQuality" | "admit">>;
  /** Binds containment actions and the audit to the running gateway; observations before it are dropped. */
  attach(gateway: RunningGateway, pseudonymize: Pseudonymize): void;
  /** Reports a security event from another module (audit sink degraded, policy rejected, certificate expiry). */
  report(event: SecurityEvent): void;
  readonly officer: OfficerActions;
  /** Waits for playbook notifications, the incidents file and the Kafka publisher. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** The GatewayAdmin method each move corresponds to, as the audit names it. */
const TRANSITION_METHODS: Record<IncidentState, string> = { open: "ReopenIncident", acknowledged: "AcknowledgeIncident", contained: "ContainIncident", resolved: "ResolveIncident" };

export interface IncidentSystemOptions {
  /** Days before expiry from which the gateway certificate raises an incident (checked at attach and hourly). */
  readonly certificateWarningDays?: number;
}

/**
 * The incident machinery of one gateway: detectors fed from the pipeline,
 * the incident store (JSONL file), playbooks with their actions on the
 * running gateway, the Kafka publisher when configured, and the rate limiter
 * the pipeline's `admit` consults.
 */
export async function startIncidentSystem(config: GatewayConfig, options: IncidentSystemOptions = {}): Promise<IncidentSystem> {
  const settings = config.incidents;
  const playbooks = loadPlaybooks(settings.playbooks);
  const store = createFileIncidentStore(settings.file);
  const manager = createIncidentManager({ detectors: createDetectors(settings.detectors), store, gatewayInstance: config.instance, operatorClass: settings.operatorClass });
  const limiter = createAgencyRateLimiter({ defaultRatePerSecond: config.limits.maxRequestsPerSecondPerAgency });
  const publisher: IncidentPublisher | undefined = settings.kafka
    ? await createKafkaIncidentPublisher({ brokers: settings.kafka.brokers.join(","), tls: config.kafka?.tls, topic: settings.kafka.topic, clientId: `credex-incidents-${config.instance}` })
    : undefined;
  if (publisher) manager.subscribe((incident) => publisher.publish(manager.get(incident.id) ?? incident));

  let gateway: RunningGateway | undefined;
  let pseudonymize: Pseudonymize | undefined;
  let certTimer: NodeJS.Timeout | undefined;

  const appendAudit = async (event: ReturnType<typeof adminAuditEvent>) => {
    if (!gateway) throw new CredexError("AUDIT_UNAVAILABLE", "the gateway is not running");
    try {
      await gateway.auditSink().append(event);
    } catch (err) {
      throw err instanceof CredexError ? err : new CredexError("AUDIT_UNAVAILABLE", undefined, {}, { cause: err });
    }
  };
  const requireGateway = (): RunningGateway => {
    if (!gateway) throw new CredexError("SHUTTING_DOWN", "the gateway is not running");
    return gateway;
  };

  /** A containment setting for the fleet; set() applies it on this replica before it returns its promise (publication). */
  const fleetWide = (setting: RuntimeSetting, actor: string) => {
    requireGateway()
      .runtimeSettings.set(setting, actor)
      .catch((err: unknown) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: "incidents", msg: "containment not published to the fleet", detail: (err as Error).message })}\n`));
  };

  const runner: PlaybookRunner = createPlaybookRunner({
    playbooks,
    manager,
    containment: {
      // Applied here at once (the next call is bound), then published: every replica of the fleet contains the agency.
      suspendAgency: (agency, reason) => fleetWide({ kind: "agency-suspension", agency, suspended: true, reason }, "playbook"),
      throttleAgency: (agency, limit) => fleetWide({ kind: "agency-throttle", agency, ...limit }, "playbook"),
      revokeCertificate: (serial, reason) => requireGateway().revocations.add(serial, reason, { source: "playbook", by: reason }),
      setRestrictedMode: (on) => fleetWide({ kind: "restricted-mode", on }, "playbook"),
    },
    notifications: { postJson, runCommand },
    audit: (action, attributes) => appendAudit(adminAuditEvent({ gatewayInstance: config.instance, action, actor: attributes["actor"] ?? "playbook", attributes })),
  });

  const checkCertificate = () => {
    try {
      const cert = new X509Certificate(readFileSync(config.tls.cert));
      const notAfter = new Date(cert.validTo);
      const now = new Date();
      if (notAfter.getTime() - now.getTime() < (options.certificateWarningDays ?? 30) * 86_400_000) {
        manager.report({ kind: "certificate-expiry", at: now, fingerprint: cert.fingerprint256.replaceAll(":", "").toLowerCase(), owner: `gateway ${config.instance}`, notAfter });
      }
    } catch {
      // Unreadable certificate: the TLS reload reports that itself.
    }
  };

  const officerAudit = async (actor: AdminActor, action: string, attributes: Record<string, string>, refusal?: CredexError) => {
    await appendAudit(
      adminAuditEvent({
        gatewayInstance: config.instance,
        action,
        actor: actor.id,
        certFingerprint: actor.certFingerprint,
        certSerial: actor.certSerial,
        peerAddress: actor.peerAddress,
        attributes,
        ...(refusal ? { statusCode: refusal.code, statusReason: refusal.reason } : {}),
      }),
    );
  };
  const knownAgency = (agencyId: string) => {
    if (!requireGateway().registry.get(agencyId)) throw new CredexError("ADMIN_TARGET_UNKNOWN", `no agency "${agencyId}" in the registry`, { agency: agencyId });
  };

  const officer: OfficerActions = {
    audit: officerAudit,
    restrictedMode: () => gateway?.restrictedMode() ?? false,
    async suspendAgency(actor, agencyId, reason) {
      knownAgency(agencyId);
      await officerAudit(actor, "SuspendAgency", { agency: agencyId, reason });
      await requireGateway().runtimeSettings.set({ kind: "agency-suspension", agency: agencyId, suspended: true, reason }, actor.id);
    },
    async resumeAgency(actor, agencyId) {
      knownAgency(agencyId);
      await officerAudit(actor, "ResumeAgency", { agency: agencyId });
      await requireGateway().runtimeSettings.set({ kind: "agency-suspension", agency: agencyId, suspended: false, reason: "" }, actor.id);
    },
    async throttleAgency(actor, agencyId, ratePerSecond, burst) {
      knownAgency(agencyId);
      if (ratePerSecond < 0 || (ratePerSecond > 0 && burst < 1)) throw new CredexError("FIELD_INVALID", "rate_per_second must be ≥ 0 and burst ≥ 1", { field: "rate_per_second" });
      await officerAudit(actor, "ThrottleAgency", { agency: agencyId, rate_per_second: String(ratePerSecond), burst: String(burst) });
      await requireGateway().runtimeSettings.set({ kind: "agency-throttle", agency: agencyId, ratePerSecond, burst: ratePerSecond === 0 ? 0 : burst }, actor.id);
    },
    async setRestrictedMode(actor, on) {
      await officerAudit(actor, "SetRestrictedMode", { restricted: String(on) });
      await requireGateway().runtimeSettings.set({ kind: "restricted-mode", on }, actor.id);
    },
    async revokeCertificate(actor, serial, reason) {
      await officerAudit(actor, "RevokeCertificate", { serial, reason });
      requireGateway().revocations.add(serial, reason, { source: "officer", by: actor.id });
    },
    async unrevokeCertificate(actor, serial) {
      // Checked before the audit so that a refused lift (the CA's revocation) is audited as refused.
      const lifting = requireGateway().revocations.officerLiftable(serial);
      await officerAudit(actor, "UnrevokeCertificate", { serial, lifted: lifting.map((r) => r.source).join(",") });
      requireGateway().revocations.remove(serial, ["officer", "playbook"]);
    },
    async transition(actor, incidentId, to, note) {
      // Checked before the audit so that a refused move is audited as refused.
      const current = manager.get(incidentId);
      if (!current) throw new CredexError("INCIDENT_NOT_FOUND", `no incident "${incidentId}"`, { incident: incidentId });
      await officerAudit(actor, TRANSITION_METHODS[to], { incident: incidentId, from: current.state, to });
      return manager.transition(incidentId, to, actor.id, note || undefined);
    },
    async reloadTls(actor) {
      await officerAudit(actor, "ReloadTls", {});
      try {
        requireGateway().reloadTls();
      } catch (err) {
        // The reload is refused as a whole and the old material stays: tell the administrator why.
        throw new CredexError("TLS_RELOAD_REFUSED", err instanceof Error ? err.message : String(err), {}, { cause: err });
      }
      checkCertificate();
    },
  };

  return {
    manager,
    limiter,
    playbooks,
    hooks: {
      onExchange(ctx) {
        if (pseudonymize) manager.observe(observationOf(ctx, pseudonymize));
      },
      onProhibited(event, ctx) {
        manager.report({ kind: "prohibited-data", at: new Date(), provider: event.provider, exchangeId: ctx.exchangeId, recordId: event.recordId, fieldName: event.fieldName });
      },
      onDataQuality(event, ctx) {
        manager.report({ kind: "provider-data-quality", at: new Date(), exchangeId: ctx.exchangeId, ...event });
      },
      admit: (principal) => limiter.admit(principal),
    },
    attach(running, pseudonymizer) {
      gateway = running;
      pseudonymize = pseudonymizer;
      checkCertificate();
      certTimer = setInterval(checkCertificate, 3_600_000).unref();
    },
    report: (event) => manager.report(event),
    officer,
    async settle() {
      await runner.idle();
      await store.flush();
      await publisher?.flush();
    },
    async stop() {
      if (certTimer) clearInterval(certTimer);
      runner.stop();
      await runner.idle();
      await store.close();
      await publisher?.close();
    },
  };
}

/** Both observers: the caller's own (metrics, tests) and the incident system's. */
export function withIncidentHooks(parts: Partial<GatewayParts> | undefined, system: IncidentSystem): Partial<GatewayParts> {
  const own = parts?.onExchange;
  const ownProhibited = parts?.onProhibited;
  const ownDataQuality = parts?.onDataQuality;
  return {
    ...parts,
    onExchange: own
      ? (ctx) => {
          system.hooks.onExchange(ctx);
          own(ctx);
        }
      : system.hooks.onExchange,
    onProhibited: ownProhibited
      ? (event, ctx) => {
          system.hooks.onProhibited(event, ctx);
          ownProhibited(event, ctx);
        }
      : system.hooks.onProhibited,
    onDataQuality: ownDataQuality
      ? (event, ctx) => {
          system.hooks.onDataQuality(event, ctx);
          ownDataQuality(event, ctx);
        }
      : system.hooks.onDataQuality,
    admit: parts?.admit ?? system.hooks.admit,
    // Throttles from the control topic bind the same limiter as the admission's rate check.
    agencyThrottle: parts?.agencyThrottle ?? system.limiter,
    // Reports from the posture monitor and the certificate expiry watch become incidents too.
    onPostureRegression: (control) => {
      system.report({ kind: "posture-regression", at: new Date(), control: control.id, clause: control.clause, detail: control.evidence, critical: true });
      parts?.onPostureRegression?.(control);
    },
    members: {
      ...parts?.members,
      onObjectionOverdue: (objection) => {
        system.report({
          kind: "objection-overdue",
          at: new Date(),
          objectionId: objection.objectionId,
          ownerAgency: objection.ownerAgency,
          recordId: objection.recordId,
          dueAt: objection.dueAt ? timestampDate(objection.dueAt) : new Date(),
        });
        parts?.members?.onObjectionOverdue?.(objection);
      },
    },
    onRuntimeSettingRefused: (refused) => {
      system.report({ kind: "runtime-setting-refused", at: new Date(), key: refused.key, problem: `${refused.reason}: ${refused.detail}` });
      parts?.onRuntimeSettingRefused?.(refused);
    },
    disclosure: {
      ...parts?.disclosure,
      onLatePublication: (entry, maxLagWorkingDays) => {
        system.report({
          kind: "disclosure-late",
          at: entry.publishedAt ? timestampDate(entry.publishedAt) : new Date(),
          ownerAgency: entry.ownerAgency,
          entryId: entry.entryId,
          category: entry.category,
          decisionDate: entry.decisionDate ? timestampDate(entry.decisionDate) : new Date(0),
          lagWorkingDays: entry.lagWorkingDays,
          maxLagWorkingDays,
        });
        parts?.disclosure?.onLatePublication?.(entry, maxLagWorkingDays);
      },
    },
    onPolicyRejected: (event) => {
      system.report({ kind: "policy-rejected", at: new Date(), revision: event.revision, problem: event.reason });
      parts?.onPolicyRejected?.(event);
    },
    onCertificateExpiring: (event) => {
      system.report({ kind: "certificate-expiry", at: new Date(), fingerprint: event.serial, owner: event.subject, notAfter: event.notAfter });
      parts?.onCertificateExpiring?.(event);
    },
    onAuditChainRestart: (restart) => {
      system.report({
        kind: "audit-chain-restarted",
        at: new Date(),
        instance: restart.instance,
        sequence: restart.sequence,
        reason: restart.reason,
        previousCheckpoint: describePreviousCheckpoint(restart.previousCheckpoint),
      });
      parts?.onAuditChainRestart?.(restart);
    },
  };
}
