import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import type { ExchangeContext } from "../../core/exchange-context.js";
import { CredexError } from "../../core/errors.js";
import { ProviderCallError } from "../../core/stages/fetch.js";
import { createOtelTelemetry, type OtelTelemetry } from "./otel-telemetry.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
let otel: OtelTelemetry | undefined;
afterEach(async () => {
  await otel?.shutdown();
  otel = undefined;
});

const context = (over: Partial<ExchangeContext> = {}): ExchangeContext => ({
  exchangeId: "ex-1",
  traceId: TRACE,
  gatewayInstance: "gw-1",
  method: "Query",
  receivedAt: new Date(),
  requestBytes: 10,
  ...over,
});

/** Drives the telemetry the way runQuery does: stages, two provider calls (one failing), audit. */
async function exchange(t: OtelTelemetry["telemetry"], ctx: ExchangeContext, sent: string[]): Promise<void> {
  t.exchangeStart(ctx);
  t.stage(ctx, "authenticate", () => 1);
  await t.stage(ctx, "fetch", () =>
    Promise.all([
      t.providerCall(ctx, "csrc", async (tp) => {
        sent.push(tp!);
        return { records: [], bytes: 0 };
      }),
      t.providerCall(ctx, "safe", async () => {
        throw new ProviderCallError("UNAVAILABLE", "down");
      }).catch(() => undefined),
    ]),
  );
  await t.stage(ctx, "audit", async () => ({ medium: "file", position: "7" }));
  ctx.repliedAt = new Date();
  t.exchangeEnd(ctx);
}

async function scrape(o: OtelTelemetry): Promise<string> {
  const server = createServer((req, res) => o.handleScrape(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    return await res.text();
  } finally {
    server.close();
  }
}

describe("createOtelTelemetry traces", () => {
  it("gives the exchange the gateway's trace id, one span per stage under it and a client span per provider call whose traceparent is sent", async () => {
    const spans = new InMemorySpanExporter();
    otel = createOtelTelemetry({ instance: "gw-1", spanExporter: spans });
    const sent: string[] = [];
    await exchange(otel.telemetry, context({ outcomes: [] }), sent);
    const finished = spans.getFinishedSpans();
    const byName = new Map(finished.map((s) => [s.name, s]));
    const root = byName.get("credex.v1.CreditExchange/Query")!;
    expect(root.spanContext().traceId).toBe(TRACE);
    expect(root.parentSpanContext).toBeUndefined();
    expect(finished.every((s) => s.spanContext().traceId === TRACE)).toBe(true);
    const fetchSpan = byName.get("credex.fetch")!;
    expect(fetchSpan.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(byName.get("credex.authenticate")!.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    const providers = finished.filter((s) => s.name === "credex.v1.CreditProvider/Fetch");
    expect(providers.map((s) => s.attributes["credex.provider"]).sort()).toEqual(["csrc", "safe"]);
    expect(providers.every((s) => s.parentSpanContext?.spanId === fetchSpan.spanContext().spanId)).toBe(true);
    const csrc = providers.find((s) => s.attributes["credex.provider"] === "csrc")!;
    expect(sent).toEqual([`00-${TRACE}-${csrc.spanContext().spanId}-01`]);
    expect(providers.find((s) => s.attributes["credex.provider"] === "safe")!.attributes["credex.provider_status"]).toBe("UNAVAILABLE");
    expect(otel.tracesExported).toBe(true);
  });

  it("continues the caller's traceparent and marks refused exchanges as errors", async () => {
    const spans = new InMemorySpanExporter();
    otel = createOtelTelemetry({ instance: "gw-1", spanExporter: spans });
    const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const ctx = context({ traceId: "0af7651916cd43dd8448eb211c80319c", traceparent: caller });
    otel.telemetry.exchangeStart(ctx);
    expect(() => otel!.telemetry.stage(ctx, "validate", () => {
      throw new CredexError("USCC_INVALID");
    })).toThrow(CredexError);
    ctx.error = new CredexError("USCC_INVALID");
    otel.telemetry.exchangeEnd(ctx);
    const root = spans.getFinishedSpans().find((s) => s.name === "credex.v1.CreditExchange/Query")!;
    expect(root.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(root.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(root.status.message).toBe("USCC_INVALID");
    expect(root.attributes["credex.decision"]).toBe("none");
    expect(spans.getFinishedSpans().find((s) => s.name === "credex.validate")!.status.code).toBe(2);
  });
});

describe("createOtelTelemetry metrics", () => {
  it("exposes exchanges, stage and provider latencies, provider errors, audit backlog, policy revision, incidents and posture in Prometheus format", async () => {
    otel = createOtelTelemetry({ instance: "gw-1", auditStats: () => ({ queued: 4, spoolDepth: 2, kafkaReachable: false, recovered: 7 }), policyRevision: () => "rev-abc" });
    expect(otel.tracesExported).toBe(false);
    const sent: string[] = [];
    await exchange(otel.telemetry, context({ outcomes: [] }), sent);
    // No spans are built without an exporter, but providers still get the exchange's trace id.
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    await exchange(otel.telemetry, context({ exchangeId: "ex-2", error: new CredexError("PURPOSE_NOT_PERMITTED") }), []);
    otel.gauges.setIncidentsOpen({ II: 1, IV: 3 });
    otel.gauges.setPostureControls([
      { id: "key-sizes", status: "warn" },
      { id: "admin-separation", status: "fail" },
      { id: "tls-versions", status: "pass" },
    ]);
    const text = await scrape(otel);
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    expect(value(/^credex_exchanges_total\{method="Query",decision="none",outcome="ok",[^}]*\} (\d+)$/m)).toBe(1);
    expect(value(/^credex_exchanges_total\{method="Query",decision="deny",outcome="PURPOSE_NOT_PERMITTED",[^}]*\} (\d+)$/m)).toBe(1);
    expect(value(/^credex_stage_duration_seconds_count\{stage="fetch",[^}]*\} (\d+)$/m)).toBe(2);
    expect(value(/^credex_exchange_duration_seconds_count\{method="Query",outcome="ok",[^}]*\} (\d+)$/m)).toBe(1);
    expect(value(/^credex_provider_errors_total\{agency="safe",status="UNAVAILABLE",[^}]*\} (\d+)$/m)).toBe(2);
    expect(value(/^credex_provider_call_duration_seconds_count\{agency="csrc",status="OK",[^}]*\} (\d+)$/m)).toBe(2);
    expect(value(/^credex_audit_append_duration_seconds_count\{medium="file",[^}]*\} (\d+)$/m)).toBe(2);
    expect(value(/^credex_audit_queue_depth\{[^}]*\} (\d+)$/m)).toBe(4);
    expect(value(/^credex_audit_spool_records\{[^}]*\} (\d+)$/m)).toBe(2);
    expect(value(/^credex_audit_kafka_reachable\{[^}]*\} (\d+)$/m)).toBe(0);
    expect(value(/^credex_audit_chain_recovered_records\{[^}]*\} (\d+)$/m)).toBe(7);
    expect(text).not.toMatch(/^credex_audit_spool_bytes\{/m);
    expect(value(/^credex_policy_revision_info\{revision="rev-abc",[^}]*\} (\d+)$/m)).toBe(1);
    expect(value(/^credex_incidents_open\{level="IV",[^}]*\} (\d+)$/m)).toBe(3);
    expect(value(/^credex_posture_controls_failing\{[^}]*\} (\d+)$/m)).toBe(1);
    expect(value(/^credex_posture_control_status\{control="key-sizes",[^}]*\} (\d+)$/m)).toBe(1);
  });
});

describe("createOtelTelemetry OTLP export", () => {
  it("posts the exchange's spans to the configured OTLP/HTTP endpoint (flushed at shutdown)", async () => {
    const posts: Array<{ url: string; type: string; bytes: number }> = [];
    const receiver = createServer((req, res) => {
      let bytes = 0;
      req.on("data", (d: Buffer) => (bytes += d.length));
      req.on("end", () => {
        posts.push({ url: req.url ?? "", type: String(req.headers["content-type"]), bytes });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    try {
      const o = createOtelTelemetry({ instance: "gw-1", otlpEndpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces` });
      expect(o.tracesExported).toBe(true);
      await exchange(o.telemetry, context({ outcomes: [] }), []);
      await o.shutdown();
      expect(posts.length).toBeGreaterThanOrEqual(1);
      expect(posts[0]!.url).toBe("/v1/traces");
      expect(posts[0]!.bytes).toBeGreaterThan(0);
    } finally {
      receiver.close();
    }
  });
});
