/**
 * Issue 16, item 8: the admin listener is bounded like the public one. The
 * GatewayAdmin port completes TLS handshakes without a client certificate (the
 * call is refused afterwards, with its reason), so whoever reaches it can open
 * streams, send pings and hold requests before any certificate is looked at.
 * The same attacks as test/adversarial/abuse.test.ts and protocol.test.ts make
 * against the public listener are made here against the admin one.
 *
 * Limits are set low so that a handful of frames reach them.
 */
import { constants } from "node:http2";
import { readFileSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayAdmin, ListIncidentsRequestSchema } from "../../src/gen/credex/v1/admin_pb.js";
import { createAdminClient } from "../../src/client/admin-client.js";
import { failureOf, startTestFederation } from "../support/federation.js";
import { rawClient, type ClientTls } from "../support/adversarial.js";
import { connectRawHttp2, grpcFrame, rawRequest, GRPC_HEADERS } from "../support/raw-http2.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

const LIMITS = {
  maxRequestBytes: 16 * 1024,
  maxTransportMessageBytes: 256 * 1024,
  maxConcurrentStreamsPerConnection: 16,
  maxPingsPerSecondPerConnection: 10,
  requestReceiveTimeoutMs: 1_000,
};
const LIST_INCIDENTS = `/${GatewayAdmin.typeName}/${GatewayAdmin.method.listIncidents.name}`;
const listIncidents = (detector = "") => Buffer.from(toBinary(ListIncidentsRequestSchema, create(ListIncidentsRequestSchema, { detector })));

beforeAll(async () => {
  fed = await startTestFederation({ limits: LIMITS });
});
afterAll(async () => {
  await fed?.cleanup();
});

const adminAddress = () => fed.admin!.address;
/** No client certificate at all: what anyone who reaches the port has. */
const anonymous = (): ClientTls => ({ ca: readFileSync(fed.pki.caBundle) });
function officerTls(): Required<ClientTls> {
  const officer = fed.manifest.admins!.find((a) => a.role === "security")!;
  return { ca: readFileSync(fed.pki.caBundle), cert: readFileSync(officer.cert), key: readFileSync(officer.key) };
}

/** The admin API still answers a security officer. */
async function expectAdminServing(): Promise<void> {
  const officer = fed.manifest.admins!.find((a) => a.role === "security")!;
  const client = createAdminClient({ address: adminAddress(), trustDomain: fed.pki.trustDomain, certFile: officer.cert, keyFile: officer.key, caFile: fed.pki.caBundle });
  try {
    expect(Array.isArray((await client.call("listIncidents", {})).incidents)).toBe(true);
  } finally {
    client.close();
  }
}

describe("item 8: the admin listener is bounded like the public one", () => {
  it(`item 8: fail/a request above limits.maxRequestBytes (${LIMITS.maxRequestBytes} B) → RESOURCE_EXHAUSTED REQUEST_TOO_LARGE, not handled`, async () => {
    const bytes = listIncidents("x".repeat(LIMITS.maxRequestBytes * 2));
    expect(bytes.length).toBeLessThan(LIMITS.maxTransportMessageBytes);
    const client = rawClient(adminAddress(), officerTls());
    try {
      const failure = await failureOf(client.call(LIST_INCIDENTS, bytes));
      expect(failure).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: "REQUEST_TOO_LARGE" });
      // A request within the limit on the same connection is answered.
      expect((await client.call(LIST_INCIDENTS, listIncidents())).length).toBeGreaterThanOrEqual(0);
    } finally {
      client.close();
    }
  });

  it(`item 8: fail/a message above limits.maxTransportMessageBytes (${LIMITS.maxTransportMessageBytes} B) → RESOURCE_EXHAUSTED from the transport, before any handler`, async () => {
    const client = rawClient(adminAddress(), officerTls());
    try {
      const failure = await failureOf(client.call(LIST_INCIDENTS, Buffer.alloc(LIMITS.maxTransportMessageBytes + 1024, 0x41)));
      expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(failure.message).toMatch(/larger than max/);
    } finally {
      client.close();
    }
    await expectAdminServing();
  });

  it(`item 8: fail/a stream flood without a certificate (200 held streams at once on one connection, SETTINGS_MAX_CONCURRENT_STREAMS ${LIMITS.maxConcurrentStreamsPerConnection}) → streams over the limit refused (RST_STREAM), the others released by the receive timeout`, async () => {
    const session = await connectRawHttp2(adminAddress(), anonymous());
    session.on("error", () => undefined);
    try {
      // All 200 go out before the server's SETTINGS are read, as a peer ignoring them would send them.
      // Each sends half a request and holds it: none completes by itself.
      const half = grpcFrame(listIncidents("held")).subarray(0, 6);
      const replies = await Promise.all(
        Array.from({ length: 200 }, () =>
          rawRequest(session, LIST_INCIDENTS, half, GRPC_HEADERS, { endStream: false, timeoutMs: 5_000 }).then(
            (r) => (r.grpcStatus !== undefined ? `answered ${r.grpcStatus}` : "reset"),
            // Still open after 5 s: streams Node's client queued itself once it had read the server's limit.
            () => "queued by the client",
          ),
        ),
      );
      expect(session.remoteSettings.maxConcurrentStreams).toBe(LIMITS.maxConcurrentStreamsPerConnection);
      const count = (what: string) => replies.filter((r) => r === what).length;
      // Refused by the server: more streams than the limit allows at once.
      expect(count("reset")).toBeGreaterThan(0);
      // Every stream the server took was released by the receive timeout, none held.
      expect(replies.filter((r) => r.startsWith("answered") && r !== `answered ${status.RESOURCE_EXHAUSTED}`)).toEqual([]);
      expect(count("reset") + count(`answered ${status.RESOURCE_EXHAUSTED}`) + count("queued by the client")).toBe(200);
    } finally {
      session.destroy();
    }
    await expectAdminServing();
  });

  it(`item 8: fail/a ping flood without a certificate (200 PINGs, limit ${LIMITS.maxPingsPerSecondPerConnection}/s) → GOAWAY ENHANCE_YOUR_CALM "too_many_pings", connection closed`, async () => {
    const before = fed.admin!.transport.pingFloodsClosed;
    // Node's own client stops at 10 unanswered PINGs (maxOutstandingPings); a hostile peer has no such manners.
    const s = await connectRawHttp2(adminAddress(), anonymous(), { maxOutstandingPings: 1_000 });
    const goaway = new Promise<{ code: number; data: string }>((resolve) => s.once("goaway", (code: number, _last: number, data?: Buffer) => resolve({ code, data: data?.toString() ?? "" })));
    const closed = new Promise<void>((resolve) => s.once("close", () => resolve()));
    const noAnswer = new Promise<"no GOAWAY within 5 s">((resolve) => setTimeout(() => resolve("no GOAWAY within 5 s"), 5_000).unref());
    s.on("error", () => undefined);
    try {
      for (let i = 0; i < 200 && !s.destroyed; i++) s.ping(() => undefined);
      expect(await Promise.race([goaway, noAnswer])).toEqual({ code: constants.NGHTTP2_ENHANCE_YOUR_CALM, data: "too_many_pings" });
      await closed;
      expect(fed.admin!.transport.pingFloodsClosed).toBe(before + 1);
    } finally {
      s.destroy();
    }
    await expectAdminServing();
  });

  it(`item 8: fail/a request not finished within requestReceiveTimeoutMs (${LIMITS.requestReceiveTimeoutMs} ms) → RESOURCE_EXHAUSTED REQUEST_RECEIVE_TIMEOUT, stream released`, async () => {
    const s = await connectRawHttp2(adminAddress(), anonymous());
    try {
      const frame = grpcFrame(listIncidents("held"));
      // Half a message, then silence (slowloris): five such streams held open.
      const replies = await Promise.all(Array.from({ length: 5 }, () => rawRequest(s, LIST_INCIDENTS, frame.subarray(0, 6), GRPC_HEADERS, { endStream: false, timeoutMs: 5_000 })));
      for (const reply of replies) {
        expect(reply.grpcStatus).toBe(status.RESOURCE_EXHAUSTED);
        expect(reply.grpcMessage).toMatch(/not received in full/);
      }
      expect(fed.admin!.transport.slowRequestsCancelled).toBeGreaterThanOrEqual(5);
    } finally {
      s.close();
    }
    await expectAdminServing();
  });

  it("item 8: ok/the public listener and the admin listener advertise the same stream limit", async () => {
    for (const address of [fed.gateway.address, adminAddress()]) {
      const s = await connectRawHttp2(address, anonymous());
      try {
        await new Promise<void>((resolve) => (s.remoteSettings.maxConcurrentStreams === LIMITS.maxConcurrentStreamsPerConnection ? resolve() : s.once("remoteSettings", () => resolve())));
        expect(s.remoteSettings.maxConcurrentStreams, address).toBe(LIMITS.maxConcurrentStreamsPerConnection);
      } finally {
        s.close();
      }
    }
  });
});
