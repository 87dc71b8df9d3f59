import type { Server } from "@grpc/grpc-js";
import type { GatewayLimits } from "../config/gateway-config.js";
import { CredexError } from "../core/errors.js";
import { createAgencyConcurrencyLimiter, type AgencyConcurrencyLimiter, type CallSlot } from "../core/limits/agency-concurrency-limiter.js";
import type { PeerTls, Principal } from "../core/principal.js";
import type { Http2SessionGuard } from "../adapters/grpc/http2-session-guard.js";
import { guardListener } from "./listener-limits.js";

/** The gateway's per-agency concurrency and connection limits, and its HTTP/2 protections (README "Limits"). */
export interface GatewayAgencyLimits {
  readonly limiter: AgencyConcurrencyLimiter;
  /** The concurrency and connection part of the gateway's admission (src/core/limits/admission.ts). */
  holdCallSlot(principal: Principal, peer: PeerTls): CallSlot;
  /** Installs the HTTP/2 session guard; call once the server is bound. */
  guard(server: Server): Http2SessionGuard;
}

export function createGatewayAgencyLimits(limits: GatewayLimits): GatewayAgencyLimits {
  const limiter = createAgencyConcurrencyLimiter(limits);
  let sessionGuard: Http2SessionGuard | undefined;
  return {
    limiter,
    holdCallSlot(principal, peer) {
      try {
        return limiter.enter(principal.agencyId, peer.connection);
      } catch (err) {
        // One connection too many: refuse this call, then let the connection go (GOAWAY after in-flight calls).
        if (err instanceof CredexError && err.reason === "TOO_MANY_CONNECTIONS" && peer.connection) sessionGuard?.closeGracefully(peer.connection);
        throw err;
      }
    },
    guard(server) {
      sessionGuard = guardListener(server, limits, (session) => limiter.connectionClosed(session));
      return sessionGuard;
    },
  };
}
