import type { GatewayConfig } from "../config/gateway-config.js";
import { startGateway, type GatewayParts, type RunningGateway } from "./gateway.js";
import { buildGatewayParts, type GatewayStartOptions } from "./gateway-parts.js";
import { startIncidentSystem, withIncidentHooks, type IncidentSystem } from "./incident-system.js";
import { startAdminServer, type RunningAdminServer } from "./admin-server.js";
import { startHealthServer, type RunningHealthServer } from "./health-server.js";
import { readinessOf, type GatewayPhase } from "../core/health/readiness.js";
import { auditSinkStatsOf } from "../core/audit-sink-stats.js";

export interface MonitoredGateway {
  readonly gateway: RunningGateway;
  /** Detectors, incidents and playbooks (config `incidents.enabled`, on by default). */
  readonly incidents?: IncidentSystem | undefined;
  /** The GatewayAdmin listener (config `admin.listen`). */
  readonly admin?: RunningAdminServer | undefined;
  /** The plain-HTTP /healthz and /readyz listener (config `health`). */
  readonly health?: RunningHealthServer | undefined;
  /**
   * Turns /readyz to 503, settles incident work, stops the admin listener, drains the gateway
   * (calls in flight finish and are audited, up to graceMs, default config health.drainMs or 10 s),
   * closes the incident store, then the health listener.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The gateway with its incident machinery and admin API, wired in the one
 * order that works: the incident hooks go into the pipeline's parts, the
 * containment actions bind to the running gateway, the admin API to both.
 */
export async function startMonitoredGateway(config: GatewayConfig, parts?: Partial<GatewayParts>, options: GatewayStartOptions = {}): Promise<MonitoredGateway> {
  // The health listener comes first: /healthz answers while the state loads, /readyz only after.
  let phase: GatewayPhase = "starting";
  let gateway: RunningGateway | undefined;
  const health = config.health
    ? await startHealthServer({ listen: config.health.listen, readiness: () => readinessOf(phase, gateway && auditSinkStatsOf(gateway.auditSink())) })
    : undefined;
  let incidents: IncidentSystem | undefined;
  try {
    incidents = config.incidents.enabled ? await startIncidentSystem(config) : undefined;
    const built = await buildGatewayParts(config, incidents ? withIncidentHooks(parts, incidents) : parts, options);
    gateway = await startGateway(config, built);
    incidents?.attach(gateway, built.pseudonymize);
    const admin = incidents && config.admin ? await startAdminServer(config, gateway, incidents) : undefined;
    const running = gateway;
    const runningIncidents = incidents;
    phase = "serving";
    return {
      gateway: running,
      incidents,
      admin,
      health,
      async stop(graceMs) {
        phase = "draining";
        await runningIncidents?.settle();
        await admin?.stop();
        await running.stop(graceMs ?? config.health?.drainMs);
        await runningIncidents?.stop();
        await health?.stop();
      },
    };
  } catch (err) {
    await gateway?.stop(1_000).catch(() => undefined);
    await incidents?.stop().catch(() => undefined);
    await health?.stop().catch(() => undefined);
    throw err;
  }
}
