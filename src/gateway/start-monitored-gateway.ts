import type { GatewayConfig } from "../config/gateway-config.js";
import { startGateway, type GatewayParts, type RunningGateway } from "./gateway.js";
import { buildGatewayParts, type GatewayStartOptions } from "./gateway-parts.js";
import { startIncidentSystem, withIncidentHooks, type IncidentSystem } from "./incident-system.js";
import { startAdminServer, type RunningAdminServer } from "./admin-server.js";

export interface MonitoredGateway {
  readonly gateway: RunningGateway;
  /** Detectors, incidents and playbooks (config `incidents.enabled`, on by default). */
  readonly incidents?: IncidentSystem | undefined;
  /** The GatewayAdmin listener (config `admin.listen`). */
  readonly admin?: RunningAdminServer | undefined;
  /** Settles incident work, stops the admin listener, drains the gateway, closes the incident store. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The gateway with its incident machinery and admin API, wired in the one
 * order that works: the incident hooks go into the pipeline's parts, the
 * containment actions bind to the running gateway, the admin API to both.
 */
export async function startMonitoredGateway(config: GatewayConfig, parts?: Partial<GatewayParts>, options: GatewayStartOptions = {}): Promise<MonitoredGateway> {
  const incidents = config.incidents.enabled ? await startIncidentSystem(config) : undefined;
  let gateway: RunningGateway | undefined;
  try {
    const built = await buildGatewayParts(config, incidents ? withIncidentHooks(parts, incidents) : parts, options);
    gateway = await startGateway(config, built);
    incidents?.attach(gateway, built.pseudonymize);
    const admin = incidents && config.admin ? await startAdminServer(config, gateway, incidents) : undefined;
    const running = gateway;
    return {
      gateway: running,
      incidents,
      admin,
      async stop(graceMs) {
        await incidents?.settle();
        await admin?.stop();
        await running.stop(graceMs);
        await incidents?.stop();
      },
    };
  } catch (err) {
    await gateway?.stop(1_000).catch(() => undefined);
    await incidents?.stop().catch(() => undefined);
    throw err;
  }
}
