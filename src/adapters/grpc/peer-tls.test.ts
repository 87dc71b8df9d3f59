import { TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import { peerTlsOf } from "./peer-tls.js";

/** A TLSSocket stand-in under a grpc-js-like call chain; counts certificate reads. */
function callOn(protocol: string) {
  const socket = Object.create(TLSSocket.prototype) as TLSSocket & { reads: number };
  const raw = Buffer.from([0x30, 0x82]);
  Object.defineProperties(socket, {
    reads: { value: 0, writable: true },
    authorized: { value: true },
    authorizationError: { value: null },
    remoteAddress: { value: "127.0.0.1" },
  });
  socket.getPeerCertificate = (() => {
    socket.reads++;
    return { raw };
  }) as never;
  socket.getProtocol = () => protocol;
  return { socket, call: { call: { stream: { session: { socket } } } } };
}

describe("peerTlsOf", () => {
  it("reads a TLS 1.3 connection's peer once and answers later calls on it from memory", () => {
    const { socket, call } = callOn("TLSv1.3");
    const first = peerTlsOf(call);
    expect(first).toMatchObject({ secure: true, authorized: true, protocol: "TLSv1.3" });
    expect(peerTlsOf(call)).toBe(first);
    expect(socket.reads).toBe(1);
    // Another connection is read on its own.
    const other = callOn("TLSv1.3");
    expect(peerTlsOf(other.call)).not.toBe(first);
    expect(other.socket.reads).toBe(1);
  });

  it("re-reads a TLS 1.2 connection on every call (it may renegotiate)", () => {
    const { socket, call } = callOn("TLSv1.2");
    peerTlsOf(call);
    peerTlsOf(call);
    expect(socket.reads).toBe(2);
  });

  it("reports a call without TLS as insecure", () => {
    expect(peerTlsOf({ stream: { session: { socket: {} } } })).toEqual({ secure: false, authorized: false });
  });
});
