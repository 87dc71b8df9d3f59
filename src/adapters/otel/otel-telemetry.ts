import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type IdGenerator, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { AuditReceipt } from "../../core/audit-sink.js";
import type { AuditSinkStats } from "../../core/audit-sink-stats.js";
import type { ExchangeContext } from "../../core/exchange-context.js";
import { exchangeOutcomeOf } from "../../core/exchange-outcome.js";
import { ProviderCallError } from "../../core/stages/fetch.js";
import type { SecurityGauges, StageName, Telemetry } from "../../core/telemetry.js";

export interface OtelTelemetryOptions {
  /** service.instance.id of the resource (the gateway instance). */
  readonly instance: string;
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; traces are exported only when set. */
  readonly otlpEndpoint?: string | undefined;
  /** A span exporter instead of OTLP (tests: InMemorySpanExporter; spans are exported as they end). */
  readonly spanExporter?: SpanExporter;
  /** Backlog of the audit sink, read at each scrape. */
  readonly auditStats?: () => AuditSinkStats | undefined;
  /** Revision of the policy in force, read at each scrape. */
  readonly policyRevision?: () => string;
}

export interface OtelTelemetry {
  readonly telemetry: Telemetry;
  readonly gauges: SecurityGauges;
  /** True when spans leave the process (OTLP or a given exporter). */
  readonly tracesExported: boolean;
  /** Serves the Prometheus text exposition (GET /metrics). */
  handleScrape(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

/** Seconds; from sub-millisecond stages to the provider timeout. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Lets the exchange's root span carry the trace id the gateway already gave
 * the exchange (ctx.traceId, also in the audit record and the logs) when the
 * caller sent no traceparent. Tracer.startSpan asks for a trace id
 * synchronously, so a value set just before the call is the one it takes.
 */
class ExchangeIdGenerator implements IdGenerator {
  next: string | undefined;
  generateTraceId(): string {
    const id = this.next ?? randomBytes(16).toString("hex");
    this.next = undefined;
    return id;
  }
  generateSpanId(): string {
    return randomBytes(8).toString("hex");
  }
}

/**
 * Traces and metrics for the gateway with the OpenTelemetry SDK, kept out of
 * the global API (no global providers: several gateways can live in one
 * process, e.g. in tests). Spans: one per exchange (SERVER), one per stage, one
 * per provider call (CLIENT), parents passed explicitly. Metrics are exposed
 * in Prometheus text format through `handleScrape`, names prefixed `credex_`.
 * RPC metrics are recorded here: the grpc instrumentation gives spans only.
 */
export function createOtelTelemetry(options: OtelTelemetryOptions): OtelTelemetry {
  const resource = resourceFromAttributes({ "service.name": "credex-gateway", "service.instance.id": options.instance });

  const idGenerator = new ExchangeIdGenerator();
  const exporter = options.spanExporter ?? (options.otlpEndpoint ? new OTLPTraceExporter({ url: options.otlpEndpoint }) : undefined);
  const spanProcessors = exporter ? [options.spanExporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)] : [];
  const tracerProvider = new BasicTracerProvider({ resource, idGenerator, spanProcessors });
  // Spans nobody exports are not built (measured: ~110 µs per exchange); timings and the traceparent to providers stay.
  const tracer: Tracer | undefined = exporter ? tracerProvider.getTracer("credex") : undefined;

  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [prometheus] });
  const meter = meterProvider.getMeter("credex");
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, { description, unit: "s", advice: { explicitBucketBoundaries: LATENCY_BUCKETS } });

  const exchanges = meter.createCounter("credex_exchanges", { description: "Exchanges by method, policy decision and outcome (ok, partial or the error reason)" });
  const exchangeDuration = seconds("credex_exchange_duration_seconds", "Exchange latency from receipt to durable audit, by method and outcome (server RPC latency)");
  const stageDuration = seconds("credex_stage_duration_seconds", "Latency of each pipeline stage");
  const providerDuration = seconds("credex_provider_call_duration_seconds", "CreditProvider.Fetch latency by agency and status (client RPC latency)");
  const providerErrors = meter.createCounter("credex_provider_errors", { description: "Failed provider calls by agency and status" });
  const unknownFields = meter.createCounter("credex_provider_unknown_fields", {
    description: "Fields a provider sent that the catalogue does not list for their category, dropped by release (by agency)",
  });
  const auditAppend = seconds(
    "credex_audit_append_duration_seconds",
    "Time until an audit record is durable, by medium (file fsync, kafka acks=all produce, spool)",
  );

  const gauge = (name: string, description: string, read: () => number | undefined) =>
    meter.createObservableGauge(name, { description }).addCallback((r) => {
      const v = read();
      if (v !== undefined && Number.isFinite(v)) r.observe(v);
    });
  const stats = () => options.auditStats?.();
  gauge("credex_audit_queue_depth", "Audit events accepted but not yet durable", () => stats()?.queued);
  gauge("credex_audit_spool_records", "Audit records waiting in the local spool", () => stats()?.spoolDepth);
  gauge("credex_audit_spool_bytes", "Bytes of audit records in the local spool", () => stats()?.spoolBytes);
  gauge("credex_audit_chain_recovered_records", "Records found in Kafka beyond the saved chain head at start (the run before stopped uncleanly)", () => stats()?.recovered);
  gauge("credex_audit_kafka_reachable", "1 when the audit sink reaches Kafka", () => {
    const r = stats()?.kafkaReachable;
    return r === undefined ? undefined : r ? 1 : 0;
  });
  meter.createObservableGauge("credex_policy_revision_info", { description: "The policy revision in force (value 1)" }).addCallback((r) => {
    const revision = options.policyRevision?.();
    if (revision) r.observe(1, { revision });
  });

  let incidentsOpen: Readonly<Record<string, number>> = {};
  let posture: ReadonlyArray<{ id: string; status: string }> = [];
  meter.createObservableGauge("credex_incidents_open", { description: "Open incidents by level (I especially major … IV general)" }).addCallback((r) => {
    for (const [level, n] of Object.entries(incidentsOpen)) r.observe(n, { level });
  });
  meter.createObservableGauge("credex_posture_controls_failing", { description: "Posture controls failing at the last check" }).addCallback((r) => {
    if (posture.length > 0) r.observe(posture.filter((c) => c.status === "fail").length);
  });
  meter.createObservableGauge("credex_posture_control_status", { description: "Per control: 0 pass, 1 warn, 2 fail" }).addCallback((r) => {
    for (const c of posture) r.observe(c.status === "fail" ? 2 : c.status === "warn" ? 1 : 0, { control: c.id });
  });

  const roots = new WeakMap<ExchangeContext, Span>();
  const current = new WeakMap<ExchangeContext, Span>();
  const parentOf = (ctx: ExchangeContext): Context => {
    const span = current.get(ctx) ?? roots.get(ctx);
    return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
  };

  const telemetry: Telemetry = {
    exchangeStart(ctx) {
      if (!tracer) return;
      const remote = remoteParentOf(ctx.traceparent);
      const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
      if (!remote) idGenerator.next = ctx.traceId;
      const span = tracer.startSpan(
        `credex.v1.CreditExchange/${ctx.method}`,
        { kind: SpanKind.SERVER, startTime: ctx.receivedAt, attributes: { "rpc.system": "grpc", "rpc.service": "credex.v1.CreditExchange", "rpc.method": ctx.method, "credex.exchange_id": ctx.exchangeId } },
        parent,
      );
      idGenerator.next = undefined;
      roots.set(ctx, span);
    },
    exchangeEnd(ctx) {
      const { decision, outcome } = exchangeOutcomeOf(ctx);
      exchanges.add(1, { method: ctx.method, decision, outcome });
      const end = ctx.repliedAt ?? new Date();
      exchangeDuration.record(Math.max(0, end.getTime() - ctx.receivedAt.getTime()) / 1000, { method: ctx.method, outcome });
      for (const [agency, n] of ctx.release?.stats.unknownFields ?? []) unknownFields.add(n, { agency });
      const span = roots.get(ctx);
      if (!span) return;
      span.setAttributes({ "credex.decision": decision, "credex.outcome": outcome, ...(ctx.principal ? { "credex.agency": ctx.principal.agencyId } : {}) });
      if (ctx.error) span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.error.reason });
      span.end();
      roots.delete(ctx);
    },
    stage<T>(ctx: ExchangeContext, name: StageName, fn: () => T): T {
      const span = tracer?.startSpan(`credex.${name}`, { attributes: { "credex.stage": name } }, parentOf(ctx));
      const previous = current.get(ctx);
      if (span) current.set(ctx, span);
      const started = performance.now();
      const done = (err: unknown, value?: unknown) => {
        stageDuration.record((performance.now() - started) / 1000, STAGE_ATTRIBUTES[name]);
        if (name === "audit" && isReceipt(value)) auditAppend.record((performance.now() - started) / 1000, { medium: value.medium });
        if (err !== undefined) span?.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        span?.end();
      };
      let result: T;
      try {
        result = fn();
      } catch (err) {
        done(err);
        throw err;
      } finally {
        if (previous) current.set(ctx, previous);
        else if (span) current.delete(ctx);
      }
      if (isPromise(result)) {
        // The stage's span stays the parent of what it starts synchronously (provider calls begin before the first await).
        return result.then(
          (v) => (done(undefined, v), v),
          (err) => {
            done(err);
            throw err;
          },
        ) as T;
      }
      done(undefined, result);
      return result;
    },
    async providerCall(ctx, agencyId, fn) {
      const started = performance.now();
      if (!tracer) {
        // Not traced here, but the provider still joins the exchange's trace id.
        const flags = ctx.traceparent ? ctx.traceparent.slice(-2) : "01";
        let status = "OK";
        try {
          return await fn(`00-${ctx.traceId}-${randomBytes(8).toString("hex")}-${flags}`);
        } catch (err) {
          status = err instanceof ProviderCallError ? err.status : "ERROR";
          providerErrors.add(1, { agency: agencyId, status });
          throw err;
        } finally {
          providerDuration.record((performance.now() - started) / 1000, { agency: agencyId, status });
        }
      }
      const span = tracer.startSpan(
        "credex.v1.CreditProvider/Fetch",
        { kind: SpanKind.CLIENT, attributes: { "rpc.system": "grpc", "rpc.service": "credex.v1.CreditProvider", "rpc.method": "Fetch", "credex.provider": agencyId } },
        parentOf(ctx),
      );
      const sc = span.spanContext();
      const traceparent = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? "01" : "00"}`;
      let status = "OK";
      try {
        return await fn(traceparent);
      } catch (err) {
        status = err instanceof ProviderCallError ? err.status : "ERROR";
        providerErrors.add(1, { agency: agencyId, status });
        span.setStatus({ code: SpanStatusCode.ERROR, message: status });
        throw err;
      } finally {
        providerDuration.record((performance.now() - started) / 1000, { agency: agencyId, status });
        span.setAttribute("credex.provider_status", status);
        span.end();
      }
    },
  };

  return {
    telemetry,
    gauges: {
      setIncidentsOpen(byLevel) {
        incidentsOpen = { ...byLevel };
      },
      setPostureControls(controls) {
        posture = controls.map((c) => ({ id: c.id, status: c.status }));
      },
    },
    tracesExported: exporter !== undefined,
    handleScrape: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** One frozen attribute set per stage: the SDK hashes attributes on every record, reusing the object halves the cost. */
const STAGE_ATTRIBUTES: Record<StageName, { readonly stage: StageName }> = Object.freeze({
  authenticate: Object.freeze({ stage: "authenticate" }),
  validate: Object.freeze({ stage: "validate" }),
  authorize: Object.freeze({ stage: "authorize" }),
  route: Object.freeze({ stage: "route" }),
  fetch: Object.freeze({ stage: "fetch" }),
  release: Object.freeze({ stage: "release" }),
  audit: Object.freeze({ stage: "audit" }),
} as const);

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's span context from a W3C traceparent (version 00), if valid (all-zero ids are invalid). */
function remoteParentOf(traceparent: string | undefined) {
  const m = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16) & TraceFlags.SAMPLED, isRemote: true };
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

function isReceipt(v: unknown): v is AuditReceipt {
  return typeof (v as { medium?: unknown } | null)?.medium === "string";
}
