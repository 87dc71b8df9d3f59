import type { Http2Session } from "node:http2";
import type { Server, ServerOptions } from "@grpc/grpc-js";
import type { GatewayLimits } from "../config/gateway-config.js";
import { guardHttp2Sessions, type Http2SessionGuard } from "../adapters/grpc/http2-session-guard.js";

/**
 * The transport bounds of every gRPC listener of the gateway, public and admin
 * alike (README "Limits"): an attacker who reaches the admin port before any
 * certificate check gets no more than one who reaches the public port. The
 * per-agency limits (calls, connections, rate) come on top, on the public
 * listener only, where there are agencies.
 */
export function listenerServerOptions(limits: GatewayLimits): ServerOptions {
  return {
    "grpc.max_receive_message_length": limits.maxTransportMessageBytes,
    "grpc.max_send_message_length": limits.maxProviderResponseBytes,
    // SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2): the stream flood bound.
    "grpc.max_concurrent_streams": limits.maxConcurrentStreamsPerConnection,
    "grpc.max_connection_age_ms": limits.maxConnectionAgeMs,
    "grpc.max_connection_age_grace_ms": 30_000,
  };
}

/**
 * Ping policing and the request receive timeout on a bound listener
 * (src/adapters/grpc/http2-session-guard.ts): what grpc-js does not bound itself.
 */
export function guardListener(server: Server, limits: GatewayLimits, onSessionClosed?: (session: Http2Session) => void): Http2SessionGuard {
  return guardHttp2Sessions(server, {
    maxPingsPerSecond: limits.maxPingsPerSecondPerConnection,
    requestReceiveTimeoutMs: limits.requestReceiveTimeoutMs,
    ...(onSessionClosed ? { onSessionClosed } : {}),
  });
}
