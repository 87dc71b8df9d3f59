import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import * as admin from "../gen/credex/v1/admin_pb.js";
import { CredexError, toCredexError } from "../core/errors.js";
import { authenticateAdmin, requireAdminRole, type AdminPrincipal } from "../core/admin-principal.js";
import { incidentMessageOf } from "../core/incidents/incident-message.js";
import { INCIDENT_STATES, type IncidentState } from "../core/incidents/incident.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { isUndecodable, serviceDefinitionOf } from "../adapters/grpc/service-definition.js";
import { statusFromError } from "../adapters/grpc/rich-status.js";
import { peerTlsOf } from "../adapters/grpc/peer-tls.js";
import { sessionOfCall, type Http2SessionGuard } from "../adapters/grpc/http2-session-guard.js";
import { guardListener, listenerServerOptions } from "./listener-limits.js";
import { AdminTotpVerifier, TOTP_METADATA_KEY } from "./admin-totp.js";
import type { RunningGateway } from "./gateway.js";
import type { AdminActor, IncidentSystem } from "./incident-system.js";

export interface RunningAdminServer {
  readonly address: string;
  readonly port: number;
  /** Transport-protection figures of this listener (ping floods closed, slow requests cancelled). */
  readonly transport: Http2SessionGuard["stats"];
  stop(): Promise<void>;
}

/**
 * GatewayAdmin on its own listener (config `admin.listen`), mTLS with the
 * gateway's own server credentials (the same TLS policy and material as the
 * public listener, reloaded with it) and the same transport bounds
 * (listener-limits.ts); only administrator certificates get past
 * authentication, an enrolled (or, with admin.totp.required, every)
 * administrator must add a TOTP code as second factor (admin-totp.ts), each
 * method is role-checked (ADMIN_METHOD_ROLES), and every call, allowed or
 * refused, is audited.
 */
export async function startAdminServer(config: GatewayConfig, gateway: RunningGateway, incidents: IncidentSystem): Promise<RunningAdminServer> {
  if (!config.admin) throw new Error(`${config.file}: no admin.listen configured`);
  const listen = config.admin.listen;
  const officer = incidents.officer;
  const totp = new AdminTotpVerifier(config.admin.totp);
  const actorOf = (p: AdminPrincipal): AdminActor => ({ id: p.id, certFingerprint: p.certFingerprint, certSerial: p.certSerial, peerAddress: p.peerAddress });

  function unary<I extends DescMessage, O extends DescMessage>(method: string, output: O, handle: (request: MessageShape<I>, actor: AdminActor) => Promise<Partial<MessageShape<O>> | void>) {
    return (call: ServerUnaryCall<MessageShape<I>, MessageShape<O>>, callback: sendUnaryData<MessageShape<O>>) => {
      const peer = peerTlsOf(call);
      let actor: AdminActor = { id: "unauthenticated", peerAddress: peer.remoteAddress };
      (async () => {
        const principal = authenticateAdmin({ trustDomain: config.trustDomain, revocations: gateway.revocations }, peer);
        actor = actorOf(principal);
        const code = call.metadata.get(TOTP_METADATA_KEY)[0];
        totp.verify(principal, typeof code === "string" ? code : undefined, sessionOfCall(call), new Date());
        requireAdminRole(principal, method);
        if (isUndecodable(call.request)) throw new CredexError(call.request.$undecodable, `the request could not be accepted: ${call.request.detail}`, { size: String(call.request.size) });
        const out = await handle(call.request, actor);
        return create(output, (out ?? {}) as never);
      })().then(
        (response) => callback(null, response),
        async (err: unknown) => {
          const e = toCredexError(err);
          // A refusal is audited too (who tried what); its own failure must not hide the refusal.
          await officer.audit(actor, method, { outcome: "refused" }, e).catch(() => undefined);
          callback(statusFromError(e));
        },
      );
    };
  }

  const stateOf = (s: string): IncidentState | "unresolved" | undefined => {
    if (s === "") return undefined;
    if (s === "unresolved" || (INCIDENT_STATES as readonly string[]).includes(s)) return s as IncidentState | "unresolved";
    throw new CredexError("FIELD_INVALID", `state "${s}" is not one of: ${INCIDENT_STATES.join(", ")}, unresolved`, { field: "state" });
  };
  const requireField = (value: string, field: string) => {
    if (value === "") throw new CredexError("FIELD_INVALID", `${field} is required`, { field });
    return value;
  };
  const transition = (to: IncidentState) => async (r: { id: string; note: string }, actor: AdminActor) => ({
    incident: incidentMessageOf(await officer.transition(actor, requireField(r.id, "id"), to, r.note)),
  });

  const handlers = {
    suspendAgency: unary<typeof admin.SuspendAgencyRequestSchema, typeof admin.SuspendAgencyResponseSchema>("SuspendAgency", admin.SuspendAgencyResponseSchema, async (r, a) => {
      await officer.suspendAgency(a, requireField(r.agencyId, "agency_id"), r.reason || "suspended by an officer");
    }),
    resumeAgency: unary<typeof admin.ResumeAgencyRequestSchema, typeof admin.ResumeAgencyResponseSchema>("ResumeAgency", admin.ResumeAgencyResponseSchema, async (r, a) => {
      await officer.resumeAgency(a, requireField(r.agencyId, "agency_id"));
    }),
    throttleAgency: unary<typeof admin.ThrottleAgencyRequestSchema, typeof admin.ThrottleAgencyResponseSchema>("ThrottleAgency", admin.ThrottleAgencyResponseSchema, async (r, a) => {
      await officer.throttleAgency(a, requireField(r.agencyId, "agency_id"), r.ratePerSecond, r.burst || r.ratePerSecond);
    }),
    setRestrictedMode: unary<typeof admin.SetRestrictedModeRequestSchema, typeof admin.SetRestrictedModeResponseSchema>("SetRestrictedMode", admin.SetRestrictedModeResponseSchema, async (r, a) => {
      await officer.setRestrictedMode(a, r.on);
    }),
    revokeCertificate: unary<typeof admin.RevokeCertificateRequestSchema, typeof admin.RevokeCertificateResponseSchema>("RevokeCertificate", admin.RevokeCertificateResponseSchema, async (r, a) => {
      await officer.revokeCertificate(a, requireField(r.serial, "serial"), r.reason || "revoked by an officer");
    }),
    unrevokeCertificate: unary<typeof admin.UnrevokeCertificateRequestSchema, typeof admin.UnrevokeCertificateResponseSchema>("UnrevokeCertificate", admin.UnrevokeCertificateResponseSchema, async (r, a) => {
      await officer.unrevokeCertificate(a, requireField(r.serial, "serial"));
    }),
    listIncidents: unary<typeof admin.ListIncidentsRequestSchema, typeof admin.ListIncidentsResponseSchema>("ListIncidents", admin.ListIncidentsResponseSchema, async (r, a) => {
      const list = incidents.manager.list({ state: stateOf(r.state), detector: r.detector || undefined });
      await officer.audit(a, "ListIncidents", { state: r.state, detector: r.detector, count: String(list.length) });
      return { incidents: list.map(incidentMessageOf) };
    }),
    getIncident: unary<typeof admin.GetIncidentRequestSchema, typeof admin.GetIncidentResponseSchema>("GetIncident", admin.GetIncidentResponseSchema, async (r, a) => {
      const found = incidents.manager.get(requireField(r.id, "id"));
      if (!found) throw new CredexError("INCIDENT_NOT_FOUND", `no incident "${r.id}"`, { incident: r.id });
      await officer.audit(a, "GetIncident", { incident: r.id });
      return { incident: incidentMessageOf(found) };
    }),
    acknowledgeIncident: unary<typeof admin.AcknowledgeIncidentRequestSchema, typeof admin.AcknowledgeIncidentResponseSchema>("AcknowledgeIncident", admin.AcknowledgeIncidentResponseSchema, transition("acknowledged")),
    containIncident: unary<typeof admin.ContainIncidentRequestSchema, typeof admin.ContainIncidentResponseSchema>("ContainIncident", admin.ContainIncidentResponseSchema, transition("contained")),
    resolveIncident: unary<typeof admin.ResolveIncidentRequestSchema, typeof admin.ResolveIncidentResponseSchema>("ResolveIncident", admin.ResolveIncidentResponseSchema, transition("resolved")),
    reloadTls: unary<typeof admin.ReloadTlsRequestSchema, typeof admin.ReloadTlsResponseSchema>("ReloadTls", admin.ReloadTlsResponseSchema, async (_r, a) => {
      // The gateway's reload swaps the material of every listener, this one included.
      await officer.reloadTls(a);
    }),
    getStatus: unary<typeof admin.GetStatusRequestSchema, typeof admin.GetStatusResponseSchema>("GetStatus", admin.GetStatusResponseSchema, async (_r, a) => {
      await officer.audit(a, "GetStatus", {});
      const suspended: Record<string, string> = {};
      for (const entry of gateway.registry.all()) {
        const why = gateway.registry.suspensionOf(entry.id);
        if (why !== undefined) suspended[entry.id] = why;
      }
      const throttled: Record<string, admin.AgencyThrottle> = {};
      for (const [id, l] of incidents.limiter.throttled()) throttled[id] = create(admin.AgencyThrottleSchema, { ratePerSecond: l.ratePerSecond, burst: l.burst });
      return {
        restrictedMode: officer.restrictedMode(),
        suspendedAgencies: suspended,
        throttledAgencies: throttled,
        revokedCertificates: gateway.revocations.size(),
        unresolvedIncidents: incidents.manager.list({ state: "unresolved" }).length,
      };
    }),
  };

  const server = new Server(listenerServerOptions(config.limits));
  server.addService(serviceDefinitionOf(admin.GatewayAdmin, { maxRequestBytes: config.limits.maxRequestBytes }), handlers as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, gateway.tlsCredentials as ServerCredentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const guard = guardListener(server, config.limits);
  const host = listen.slice(0, listen.lastIndexOf(":"));
  return {
    address: `${host}:${port}`,
    port,
    transport: guard.stats,
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
