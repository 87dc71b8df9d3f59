import { createServer, type Server } from "node:http";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { GatewayConfig, ObservabilityConfig } from "../config/gateway-config.js";
import type { AuditSink } from "../core/audit-sink.js";
import { auditSinkStatsOf } from "../core/audit-sink-stats.js";
import type { Logger } from "../core/logger.js";
import { evaluatePosture } from "../core/posture/evaluate-posture.js";
import type { ControlResult, PostureReport } from "../core/posture/posture-evidence.js";
import { createPostureMonitor, type PostureMonitor } from "../core/posture/posture-monitor.js";
import type { SecurityGauges, Telemetry } from "../core/telemetry.js";
import { createOtelTelemetry } from "../adapters/otel/otel-telemetry.js";
import { collectPostureEvidence } from "../adapters/posture/collect-posture-evidence.js";

export interface ObservabilityOptions {
  readonly config: GatewayConfig;
  readonly observability: ObservabilityConfig;
  readonly logger: Logger;
  readonly auditSink: () => AuditSink;
  readonly policyRevision: () => string;
  /** Tests: capture spans instead of exporting them over OTLP. */
  readonly spanExporter?: SpanExporter;
}

export interface RunningObservability {
  /** http://host:port/metrics (Prometheus text format). */
  readonly metricsUrl: string;
  readonly telemetry: Telemetry;
  /** Incidents open by level, posture controls: fed by their modules. */
  readonly gauges: SecurityGauges;
  /** Starts the periodic posture check of the running gateway (config observability.postureIntervalMs). */
  startPostureMonitor(address: string, onRegression?: (control: ControlResult) => void): PostureMonitor;
  lastPosture(): PostureReport | undefined;
  /** Runs the posture check now (admin API, tests); undefined before the monitor started or when the check could not run. */
  checkPosture(): Promise<PostureReport | undefined>;
  stop(): Promise<void>;
}

/**
 * The gateway's observability: OpenTelemetry traces and metrics, the
 * Prometheus endpoint on its own HTTP listener (GET /metrics only), and the
 * periodic posture check that feeds the posture gauges and reports regressions.
 */
export async function startObservability(options: ObservabilityOptions): Promise<RunningObservability> {
  const o = options.observability;
  const log = options.logger.child("observability");
  const otel = createOtelTelemetry({
    instance: options.config.instance,
    otlpEndpoint: o.otlpEndpoint,
    ...(options.spanExporter ? { spanExporter: options.spanExporter } : {}),
    auditStats: () => auditSinkStatsOf(options.auditSink()),
    policyRevision: options.policyRevision,
  });

  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && (req.url === "/metrics" || req.url?.startsWith("/metrics?"))) {
      otel.handleScrape(req, res);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  const i = o.metricsListen.lastIndexOf(":");
  const host = o.metricsListen.slice(0, i);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(o.metricsListen.slice(i + 1)), host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const metricsUrl = `http://${host}:${port}/metrics`;
  log.info("metrics endpoint listening", { url: metricsUrl, traces: otel.tracesExported ? (o.otlpEndpoint ?? "exporter") : "off" });

  let monitor: PostureMonitor | undefined;
  let timer: NodeJS.Timeout | undefined;

  return {
    metricsUrl,
    telemetry: otel.telemetry,
    gauges: otel.gauges,
    startPostureMonitor(address, onRegression) {
      monitor = createPostureMonitor({
        evaluate: async () =>
          evaluatePosture(
            await collectPostureEvidence({
              config: options.config,
              level: o.postureLevel,
              address,
              metricsUrl,
              tracesExported: otel.tracesExported,
              verifyAuditNow: false,
            }),
          ),
        onReport: (report) => {
          otel.gauges.setPostureControls(report.controls);
          log.debug("posture checked", { level: report.level, failing: report.failing, warnings: report.warnings });
        },
        onRegression: (control) => {
          log.warn("posture regression", { control: control.id, evidence: control.evidence, clause: control.clause });
          onRegression?.(control);
        },
        onError: (err) => log.error("posture check failed", { error: err instanceof Error ? err.message : String(err) }),
      });
      void monitor.check();
      if (o.postureIntervalMs > 0) {
        timer = setInterval(() => void monitor!.check(), o.postureIntervalMs);
        timer.unref();
      }
      return monitor;
    },
    lastPosture: () => monitor?.last(),
    checkPosture: async () => monitor?.check(),
    async stop() {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await otel.shutdown();
    },
  };
}
