import { TLSSocket } from "node:tls";
import type { PeerTls } from "../../core/principal.js";

interface CallChainLink {
  call?: CallChainLink;
  nextCall?: CallChainLink;
  stream?: { session?: { socket?: unknown } };
}

/**
 * What the TLS layer knows about the caller of a grpc-js call. grpc-js only
 * exposes the peer certificate of *authorized* connections
 * (`getAuthContext`); to tell "no certificate" from "expired" from "revoked"
 * we read the TLSSocket under the call. This walks grpc-js 1.14 internals
 * (handler call → interceptor chain → HTTP/2 stream): test/gateway-tls.test.ts
 * fails if an upgrade moves them.
 */
export function peerTlsOf(call: object): PeerTls {
  const socket = socketOf(call as CallChainLink);
  if (!socket) return { secure: false, authorized: false };
  const cert = socket.getPeerCertificate(false);
  const hasCert = cert !== null && typeof cert === "object" && cert.raw !== undefined;
  return {
    secure: true,
    authorized: socket.authorized,
    authorizationError: socket.authorizationError ? String((socket.authorizationError as Error).message ?? socket.authorizationError) : undefined,
    certificateDer: hasCert ? cert.raw : undefined,
    protocol: socket.getProtocol() ?? undefined,
    remoteAddress: socket.remoteAddress,
  };
}

function socketOf(start: CallChainLink): TLSSocket | undefined {
  let link: CallChainLink | undefined = start;
  for (let depth = 0; link && depth < 8; depth++) {
    const socket = link.stream?.session?.socket;
    if (socket instanceof TLSSocket) return socket;
    link = link.call ?? link.nextCall;
  }
  return undefined;
}
