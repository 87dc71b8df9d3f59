import { describe, expect, it } from "vitest";
import { benchAuditSinksAtRate } from "../src/bench/audit-sink-bench.js";
import { runBench, type BenchReport } from "../src/bench/bench-run.js";
import { kafkaBrokers } from "./support/kafka.js";

// Shape and correctness only: on a shared machine the figures themselves prove nothing,
// so nothing here is timed. Each scenario runs ~2 s (0.3 s warm-up + 1.5 s measured).
const short = { concurrency: 8, payloadBytes: 512, fanout: 2, durationMs: 1_500, warmupMs: 300, loadgen: "inline" as const, keyBits: 2048 };

function everyScenario(report: BenchReport) {
  return [...report.scenarios, ...(report.curve?.points.flatMap((p) => p.scenarios) ?? [])];
}

function expectAllSucceeded(report: BenchReport) {
  for (const s of everyScenario(report)) {
    expect({ name: s.name, errors: s.errors, errorSamples: s.errorSamples }).toEqual({ name: s.name, errors: 0, errorSamples: {} });
    expect(s.calls, s.name).toBeGreaterThan(0);
    // Every answer carried the records of every provider asked (one record per subject and provider).
    expect(s.recordsPerResponse, s.name).toBe(s.fanout);
    expect(s.latencyMs.p50).toBeLessThanOrEqual(s.latencyMs.p99);
    expect(s.latencyMs.p99).toBeLessThanOrEqual(s.latencyMs.max);
    expect(s.rss.peakMb).toBeGreaterThan(0);
    // The gateway's and the proxy's CPU per call is measured; "direct" runs nothing in this process.
    if (s.target === "direct") expect(s.serverCpuUsPerCall).toBe(0);
    else expect(s.serverCpuUsPerCall, s.name).toBeGreaterThan(0);
  }
}

describe("credex bench harness", () => {
  it("measures direct, bare proxy and gateway (unaudited, file, Kafka, fan-out, half load) in one run and reports the ratios", async () => {
    const report = await runBench({ ...short, kafkaBrokers: kafkaBrokers() });
    expect(report.schema).toBe("credex-bench/1");
    expect(report.scenarios.map((s) => s.name)).toEqual([
      "direct",
      "bare-proxy",
      "decoding-proxy",
      "gateway-unaudited",
      "gateway-file",
      "gateway-kafka",
      "gateway-kafka-fanout2",
      "bare-proxy-half-load",
      "gateway-unaudited-half-load",
      "gateway-kafka-half-load",
      "gateway-unaudited-one-in-flight",
      "gateway-kafka-one-in-flight",
    ]);
    expectAllSucceeded(report);
    for (const key of [
      "gatewayVsBareProxy",
      "gatewayVsDirect",
      "auditedVsUnaudited",
      "auditedKafkaVsUnaudited",
      "fanout2VsFanout1",
      "cpuPerCallBareProxyVsGateway",
      "p99AddedOverBareProxyAtHalfLoadMs",
      "p50AddedByAuditAtHalfLoadMs",
      "p50AuditWaitAtHalfLoadMs",
      "decodingProxyVsBareProxy",
      "p50AddedByAuditAtOneInFlightMs",
    ]) {
      expect(Number.isFinite(report.ratios[key]), key).toBe(true);
    }
    expect(report.targets.map((t) => t.name)).toHaveLength(10);
    // Every audited gateway scenario says how long its exchanges waited for the audit; the
    // proxy and direct scenarios have no audit to wait for.
    for (const s of report.scenarios) {
      if (s.target === "gateway" && s.audit !== "none") expect(s.auditWaitMs?.p50, s.name).toBeGreaterThan(0);
      if (s.target !== "gateway") expect(s.auditWaitMs, s.name).toBeUndefined();
    }
    expect(report.machine.nodeFlags).toBeInstanceOf(Array);
    for (const t of report.targets) expect(typeof t.met, t.name).toBe("boolean");
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("scales out to two gateway replicas on one Kafka with every exchange audited exactly once", async () => {
    const report = await runBench({ ...short, kafkaBrokers: kafkaBrokers(), curve: "scale-out", steps: [2] });
    expectAllSucceeded(report);
    const point = report.curve!.points[0]!;
    expect(point.audit!.duplicates).toBe(0);
    expect(point.audit!.records).toBe(point.audit!.expected);
    expect(Object.keys(point.audit!.byInstance)).toHaveLength(2);
  });

  it("draws the rate curve: unaudited and Kafka-audited at each offered rate, with the median the audit adds", async () => {
    const report = await runBench({ ...short, kafkaBrokers: kafkaBrokers(), curve: "rate", steps: [50] });
    expectAllSucceeded(report);
    const point = report.curve!.points[0]!;
    expect(point.scenarios.map((s) => [s.name, s.ratePerSecond])).toEqual([
      ["gateway-unaudited-r50", 50],
      ["gateway-kafka-r50", 50],
    ]);
    expect(Number.isFinite(report.ratios["rate50P50AddedByAuditMs"])).toBe(true);
    expect(report.ratios["rate50P50AuditWaitMs"]).toBeGreaterThan(0);
    // The whole machine's busy share is measured alongside (Linux /proc/stat).
    if (process.platform === "linux") for (const s of point.scenarios) expect(s.machineBusy, s.name).toBeGreaterThan(0);
  });

  it("draws the policy curve with decision latencies from a generated policy", async () => {
    const report = await runBench({ ...short, curve: "policy", steps: [1_000] });
    expectAllSucceeded(report);
    const point = report.curve!.points[0]!;
    expect(point.decisions!.rules).toBeGreaterThanOrEqual(1_000);
    expect(point.scenarios[0]!.policyRules).toBe(point.decisions!.rules);
  });
});

describe("audit sinks at a fixed rate (node dist/bench/audit-sink-bench.js --rate)", () => {
  it("appends at the rate to each sink in rotated rounds, Kafka's included, and reports CPU per append", async () => {
    const rows = await benchAuditSinksAtRate({ brokers: kafkaBrokers(), rate: 200, seconds: 0.5, rounds: 2, suite: "AES-256-GCM" });
    const sinks = ["no-op", "seal only (AES-256-GCM, no I/O)", "file (AES-256-GCM)", "bare Kafka producer (700 B, 5 headers)", "kafka (AES-256-GCM, acks=all)"];
    expect(rows.map((r) => `${r.round} ${r.sink}`)).toEqual([...sinks.map((s) => `1 ${s}`), ...[...sinks.slice(1), sinks[0]].map((s) => `2 ${s}`)]);
    for (const r of rows) {
      expect(r.appends, r.sink).toBe(100);
      expect(r.p50Ms, r.sink).toBeLessThanOrEqual(r.p99Ms);
      expect(r.cpuUsPerAppend, r.sink).toBeGreaterThan(0);
      expect(r.mainThreadUsPerAppend, r.sink).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);
});
