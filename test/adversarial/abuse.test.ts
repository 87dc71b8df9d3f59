/**
 * Abuse by an authenticated agency: more concurrent calls, more connections,
 * HTTP/2 stream and ping floods, slow requests holding streams. Each is
 * bounded by a per-agency or per-connection limit (README "Limits") with a
 * clear refusal, and other agencies keep being served meanwhile.
 *
 * Limits are set low here so that a handful of calls reach them; providers
 * answer after PROVIDER_DELAY_MS so that calls overlap.
 */
import { constants, type ClientHttp2Session } from "node:http2";
import { status } from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueryRequestSchema } from "../../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { errorInfoOf } from "../../src/adapters/grpc/rich-status.js";
import { guardHttp2Sessions } from "../../src/adapters/grpc/http2-session-guard.js";
import { DEMO_AGENCIES } from "../../src/demo/demo-agencies.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { Server } from "@grpc/grpc-js";
import { failureOf, startTestFederation } from "../support/federation.js";
import { agencyTls, expectStillServing, QUERY_PATH, rawClient, sharedClient, type RawClient } from "../support/adversarial.js";
import { connectRawHttp2, grpcFrame, rawRequest, GRPC_HEADERS } from "../support/raw-http2.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

const PROVIDER_DELAY_MS = 400;
const LIMITS = {
  maxConcurrentCallsPerAgency: 4,
  maxConnectionsPerAgency: 3,
  maxConcurrentStreamsPerConnection: 16,
  maxPingsPerSecondPerConnection: 10,
  requestReceiveTimeoutMs: 1_000,
};
const QUERY = Buffer.from(
  toBinary(QueryRequestSchema, create(QueryRequestSchema, { subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION })),
);

beforeAll(async () => {
  const delays = Object.fromEntries(DEMO_AGENCIES.map((a) => [a.id, PROVIDER_DELAY_MS]));
  fed = await startTestFederation({ limits: LIMITS, providerDelayMs: delays });
});
afterAll(async () => {
  await fed?.cleanup();
});

type Settled = { ok: true } | { ok: false; code: number; reason: string };
const settle = (p: Promise<unknown>): Promise<Settled> =>
  p.then(
    () => ({ ok: true }) as const,
    (err) => ({ ok: false, code: err.code as number, reason: errorInfoOf(err)?.reason ?? "" }),
  );

async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("adversarial/abuse: per-agency concurrency", () => {
  it(`fail/more than maxConcurrentCallsPerAgency (${LIMITS.maxConcurrentCallsPerAgency}) calls at once → RESOURCE_EXHAUSTED TOO_MANY_CONCURRENT_CALLS; other agencies served meanwhile`, async () => {
    const client = rawClient(fed.gateway.address, agencyTls(fed, "csrc"));
    try {
      const flood = Array.from({ length: 12 }, () => settle(client.call(QUERY_PATH, QUERY)));
      // While csrc is at its limit, nfra is answered in full.
      await expectStillServing(fed, "nfra");
      const outcomes = await Promise.all(flood);
      const ok = outcomes.filter((o) => o.ok).length;
      const refused = outcomes.filter((o): o is Extract<Settled, { ok: false }> => !o.ok);
      expect(ok).toBeGreaterThan(0);
      expect(ok).toBeLessThanOrEqual(LIMITS.maxConcurrentCallsPerAgency);
      expect(refused.length).toBe(12 - ok);
      for (const r of refused) expect(r).toEqual({ ok: false, code: status.RESOURCE_EXHAUSTED, reason: "TOO_MANY_CONCURRENT_CALLS" });
      // Slots are given back: once the flood is over, csrc is served again.
      expect(fed.gateway.limits.usage("csrc").calls).toBe(0);
      await expectStillServing(fed, "csrc");
    } finally {
      client.close();
    }
  });
});

describe("adversarial/abuse: request rate", () => {
  it("fail/above the agency's rate (token bucket, 5/s, burst 5) → RESOURCE_EXHAUSTED RATE_LIMITED; others unaffected", async () => {
    const limiter = fed.incidents?.limiter;
    if (!limiter) throw new Error("the test federation runs without its incident system: no rate limiter to exercise");
    // The same bucket as limits.maxRequestsPerSecondPerAgency, set low for one agency only.
    limiter.throttle("nfra", { ratePerSecond: 5, burst: 5 });
    const client = rawClient(fed.gateway.address, agencyTls(fed, "nfra"));
    try {
      const outcomes = await Promise.all(Array.from({ length: 12 }, () => settle(client.call(QUERY_PATH, QUERY))));
      const refused = outcomes.filter((o) => !o.ok);
      expect(outcomes.filter((o) => o.ok).length).toBeLessThanOrEqual(LIMITS.maxConcurrentCallsPerAgency + 1);
      expect(refused.length).toBeGreaterThanOrEqual(6);
      // Rate is checked before the concurrency slot: both reasons are RESOURCE_EXHAUSTED; the rate one comes first.
      expect(refused.filter((o) => !o.ok && o.reason === "RATE_LIMITED").length).toBeGreaterThanOrEqual(12 - 5);
      for (const r of refused) expect(r).toMatchObject({ ok: false, code: status.RESOURCE_EXHAUSTED });
      await expectStillServing(fed, "csrc");
    } finally {
      limiter.unthrottle("nfra");
      client.close();
    }
  });
});

describe("adversarial/abuse: connections", () => {
  it(`fail/more than maxConnectionsPerAgency (${LIMITS.maxConnectionsPerAgency}) connections → RESOURCE_EXHAUSTED TOO_MANY_CONNECTIONS; a slot frees when one closes`, async () => {
    const clients: RawClient[] = Array.from({ length: 5 }, () => rawClient(fed.gateway.address, agencyTls(fed, "safe")));
    try {
      const outcomes: Settled[] = [];
      for (const c of clients) outcomes.push(await settle(c.call(QUERY_PATH, QUERY)));
      expect(outcomes.slice(0, 3)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      expect(outcomes.slice(3)).toEqual([
        { ok: false, code: status.RESOURCE_EXHAUSTED, reason: "TOO_MANY_CONNECTIONS" },
        { ok: false, code: status.RESOURCE_EXHAUSTED, reason: "TOO_MANY_CONNECTIONS" },
      ]);
      expect(fed.gateway.limits.usage("safe").connections).toBe(3);
      clients[0]!.close();
      await waitFor("the gateway to see the connection close", () => fed.gateway.limits.usage("safe").connections < 3);
      expect(await settle(clients[4]!.call(QUERY_PATH, QUERY))).toEqual({ ok: true });
      await expectStillServing(fed);
    } finally {
      clients.forEach((c) => c.close());
    }
  });
});

describe("adversarial/abuse: HTTP/2 floods", () => {
  let session: ClientHttp2Session | undefined;
  afterAll(() => session?.destroy());

  it(`fail/a stream flood (200 streams on one connection, SETTINGS_MAX_CONCURRENT_STREAMS ${LIMITS.maxConcurrentStreamsPerConnection}) → most refused: RESOURCE_EXHAUSTED TOO_MANY_CONCURRENT_CALLS or a refused/reset stream`, async () => {
    session = await connectRawHttp2(fed.gateway.address, agencyTls(fed, "sh-credit"));
    const replies = await Promise.all(Array.from({ length: 200 }, () => rawRequest(session!, QUERY_PATH, grpcFrame(QUERY)).catch((err: Error) => ({ error: err.message }))));
    let ok = 0;
    let limited = 0;
    let reset = 0;
    for (const r of replies) {
      if ("error" in r) reset++;
      else if (r.grpcStatus === status.OK) ok++;
      else if (r.grpcStatus === status.RESOURCE_EXHAUSTED) limited++;
      else if (r.rstCode !== undefined || r.grpcStatus === undefined) reset++;
      else throw new Error(`unexpected reply: grpc-status ${r.grpcStatus} ${r.grpcMessage}`);
    }
    expect(ok + limited + reset).toBe(200);
    // Measured: 8 answered, 108 TOO_MANY_CONCURRENT_CALLS, 84 reset or refused streams (2 cores, 400 ms providers).
    expect(ok).toBeLessThan(50);
    expect(limited).toBeGreaterThan(0);
    expect(fed.gateway.limits.usage("sh-credit").calls).toBe(0);
    session.destroy();
    await expectStillServing(fed);
  });

  it("fail/rapid reset (1,000 streams opened and cancelled at once, CVE-2023-44487) → the gateway keeps serving", async () => {
    const s = await connectRawHttp2(fed.gateway.address, agencyTls(fed, "sh-credit"));
    for (let i = 0; i < 1_000 && !s.destroyed; i++) {
      try {
        const stream = s.request({ ":method": "POST", ":path": QUERY_PATH, ...GRPC_HEADERS }, { endStream: false });
        stream.on("error", () => undefined);
        stream.close(constants.NGHTTP2_CANCEL);
      } catch {
        break; // the gateway closed the session: that is a defence too
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    s.destroy();
    await expectStillServing(fed);
  });

  it(`fail/a ping flood (200 PINGs, limit ${LIMITS.maxPingsPerSecondPerConnection}/s) → GOAWAY ENHANCE_YOUR_CALM "too_many_pings", connection closed`, async () => {
    const before = fed.gateway.limits.transport.pingFloodsClosed;
    // Node's own client stops at 10 unanswered PINGs (maxOutstandingPings); a hostile peer has no such manners.
    const s = await connectRawHttp2(fed.gateway.address, agencyTls(fed, "pbccrc"), { maxOutstandingPings: 1_000 });
    const goaway = new Promise<{ code: number; data: string }>((resolve) => s.once("goaway", (code: number, _last: number, data?: Buffer) => resolve({ code, data: data?.toString() ?? "" })));
    const closed = new Promise<void>((resolve) => s.once("close", () => resolve()));
    s.on("error", () => undefined);
    for (let i = 0; i < 200 && !s.destroyed; i++) s.ping(() => undefined);
    expect(await goaway).toEqual({ code: constants.NGHTTP2_ENHANCE_YOUR_CALM, data: "too_many_pings" });
    await closed;
    expect(fed.gateway.limits.transport.pingFloodsClosed).toBe(before + 1);
    await expectStillServing(fed);
  });

  it("ok/pings below the limit are answered and the connection stays usable", async () => {
    const s = await connectRawHttp2(fed.gateway.address, agencyTls(fed, "pbccrc"));
    try {
      for (let i = 0; i < 3; i++) await new Promise<void>((resolve, reject) => s.ping((err) => (err ? reject(err) : resolve())));
      const reply = await rawRequest(s, QUERY_PATH, grpcFrame(QUERY));
      expect(reply.grpcStatus).toBe(status.OK);
    } finally {
      s.close();
    }
  });
});

describe("adversarial/abuse: slow clients", () => {
  it(`fail/a request not finished within requestReceiveTimeoutMs (${LIMITS.requestReceiveTimeoutMs} ms) → RESOURCE_EXHAUSTED REQUEST_RECEIVE_TIMEOUT, stream released`, async () => {
    const s = await connectRawHttp2(fed.gateway.address, agencyTls(fed, "nfra"));
    try {
      const frame = grpcFrame(QUERY);
      // Half a message, then silence (slowloris): five such streams held open.
      const held = Array.from({ length: 5 }, () => rawRequest(s, QUERY_PATH, frame.subarray(0, 10), GRPC_HEADERS, { endStream: false, timeoutMs: 5_000 }));
      const replies = await Promise.all(held);
      for (const reply of replies) {
        expect(reply.grpcStatus).toBe(status.RESOURCE_EXHAUSTED);
        expect(reply.grpcMessage).toMatch(/not received in full/);
        expect(String(reply.headers["grpc-status-details-bin"] ?? "")).not.toBe("");
      }
      expect(fed.gateway.limits.transport.slowRequestsCancelled).toBeGreaterThanOrEqual(5);
      // The same connection still carries good calls.
      expect((await rawRequest(s, QUERY_PATH, frame)).grpcStatus).toBe(status.OK);
    } finally {
      s.close();
    }
    await expectStillServing(fed);
  });

  it("ok/a slow provider does not count against the receive timeout (the request was complete)", async () => {
    const response = await sharedClient(fed, "csrc").query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION });
    // Every owner of administrative penalties answered (the five financial and regional members, market supervision, tax).
    expect(response.results.length).toBe(DEMO_AGENCIES.filter((a) => a.categories.includes("administrative_penalty")).length);
  });
});

describe("adversarial/abuse: guard wiring", () => {
  it("fail/guardHttp2Sessions refuses a server that is not bound (fails loudly if grpc-js internals move)", () => {
    expect(() => guardHttp2Sessions(new Server(), { maxPingsPerSecond: 1, requestReceiveTimeoutMs: 1_000 })).toThrow(/no bound http2 server/);
  });

  it("ok/the refusal reasons are on the wire as ErrorInfo", async () => {
    const failure = await failureOf(
      (async () => {
        const clients = Array.from({ length: 4 }, () => rawClient(fed.gateway.address, agencyTls(fed, "safe")));
        try {
          for (const c of clients) await c.call(QUERY_PATH, QUERY);
        } finally {
          clients.forEach((c) => c.close());
        }
      })(),
    );
    expect(failure.metadata).toMatchObject({ agency: "safe", limit: "3" });
  });
});
