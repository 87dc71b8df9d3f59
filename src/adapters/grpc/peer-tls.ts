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
  const known = byConnection.get(socket);
  if (known) return known;
  const facts = readPeerTls(socket);
  // TLS 1.3 has no renegotiation (RFC 8446 §4.1.2 ff.: no renegotiation, post-handshake auth not offered
  // by Node's server), so what the handshake established holds for the connection's life: read it
  // once, not on every call. TLS 1.2 connections may renegotiate and are read each time.
  if (facts.protocol === "TLSv1.3") byConnection.set(socket, facts);
  return facts;
}

/**
 * The caller's TLS facts per connection. Reading them costs a certificate
 * export (getPeerCertificate) per call otherwise: the top item of the gateway's
 * CPU profile before this cache (BENCHMARKS.md). Weak, so a closed connection's entry goes with it.
 */
const byConnection = new WeakMap<TLSSocket, PeerTls>();

function readPeerTls(socket: TLSSocket): PeerTls {
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
