import { cpus, loadavg, tmpdir } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { QueryResponseSchema } from "../gen/credex/v1/exchange_pb.js";
import { FetchResponseSchema } from "../gen/credex/v1/provider_pb.js";
import { startBenchFederation, MAX_FANOUT, type BenchAuditSink, type BenchFederation, type BenchGateway, type KafkaSinkFactory } from "./bench-federation.js";
import type { LoadJob, LoadResult } from "./load-generator.js";
import { runLoadIn, type LoadGeneratorPlacement } from "./load-runner.js";
import type { ProviderPlacement } from "./provider-host.js";
import type { LatencySummary } from "./latency-summary.js";
import { startRssSampler, type RssFigures } from "./rss-sampler.js";
import { startMachineCpuWindow, type MachineCpuWindow } from "./machine-cpu.js";
import { measureDecisions, type DecisionFigures } from "./decision-bench.js";
import { checkKafkaAuditCompleteness, type AuditCompleteness } from "./kafka-audit-check.js";

export type CurveName = "policy" | "fanout" | "payload" | "concurrency" | "scale-out" | "rate";
export const CURVE_NAMES: readonly CurveName[] = ["policy", "fanout", "payload", "concurrency", "scale-out", "rate"];

export interface BenchOptions {
  readonly concurrency: number;
  readonly payloadBytes: number;
  /** Agencies in the fan-out scenario compared with the 1-agency one. */
  readonly fanout: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /**
   * Rounds of the saturating scenarios, each round in a rotated order; the run
   * with the median throughput is kept. On a shared machine the load of
   * other processes drifts within a run: rounds spread that drift over every
   * scenario instead of penalising whichever ran at the worst moment.
   */
  readonly rounds?: number;
  readonly loadgen: LoadGeneratorPlacement;
  /** Where the reference providers run (default inline). */
  readonly providers?: ProviderPlacement;
  /** Brokers for the Kafka scenarios; absent: no Kafka scenarios. */
  readonly kafkaBrokers?: string;
  readonly kafkaSink?: KafkaSinkFactory;
  /** Instead of the baseline comparison, a scaling curve. */
  readonly curve?: CurveName;
  /** Steps of the curve (default per curve). */
  readonly steps?: readonly number[];
  readonly keyBits?: number;
  readonly log?: (line: string) => void;
}

export interface ScenarioResult {
  readonly name: string;
  /** decoding-proxy: the bare proxy decoding and re-encoding each message with protobuf-es, checking nothing. */
  readonly target: "direct" | "bare-proxy" | "decoding-proxy" | "gateway";
  readonly audit?: BenchAuditSink;
  readonly fanout: number;
  readonly payloadBytes: number;
  readonly concurrency: number;
  readonly ratePerSecond?: number;
  readonly policyRules?: number;
  readonly replicas?: number;
  /** The gateways ran in child processes of their own: CPU per call and RSS here are not theirs (0 / this process's). */
  readonly gatewaysInOwnProcesses?: boolean;
  readonly callsPerSecond: number;
  readonly calls: number;
  readonly errors: number;
  readonly errorSamples: LoadResult["errorSamples"];
  readonly totalOk: number;
  readonly late: number;
  readonly latencyMs: LoadResult["latencyMs"];
  readonly responseBytes: number;
  /** Records in one (sampled) response: fan-out × records per provider when all went well. */
  readonly recordsPerResponse: number;
  /** RSS of the gateway's (or proxy's) process: with the providers too when they run inline, the load generator too with --loadgen inline. */
  readonly rss: RssFigures;
  /**
   * CPU time (user + system) of the gateway's / proxy's process per call answered in the
   * measured window, in µs. Far less sensitive to other processes on a shared machine than
   * throughput: it is what one call costs, not how much CPU the scheduler happened to give.
   * Meaningful with --providers process and --loadgen process|worker (then the process holds
   * only the gateway or the proxy); 0 for "direct" (nothing runs in this process).
   */
  readonly serverCpuUsPerCall: number;
  /**
   * Share of the whole machine's CPU time (all cores, every process: gateway, providers, load
   * generator, Kafka broker) that was busy over the measured window, 0..1; absent off Linux.
   */
  readonly machineBusy?: number;
  /**
   * Gateway scenarios: what an exchange waited for its audit event to be durable, append to
   * acknowledgement, over the measured window (audit-wait.ts). Absent for the no-op sink's
   * scenarios only when nothing was appended.
   */
  readonly auditWaitMs?: LatencySummary;
  /** Throughput of every round, in the order run (the kept run is the median). */
  readonly roundsCallsPerSecond?: readonly number[];
  /** Server CPU per call of every round; with rounds, serverCpuUsPerCall is their median (independent of the throughput median). */
  readonly roundsServerCpuUsPerCall?: readonly number[];
  /** Median latency of every round (the latency pairs run in rounds too; the kept run is the median). */
  readonly roundsP50Ms?: readonly number[];
}

export interface CurvePoint {
  readonly step: number;
  readonly scenarios: readonly ScenarioResult[];
  readonly decisions?: DecisionFigures;
  readonly audit?: AuditCompleteness;
}

export interface BenchReport {
  readonly schema: "credex-bench/1";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    /** V8/Node flags of the process that ran the gateways and proxies (e.g. --max-semi-space-size). */
    readonly nodeFlags: readonly string[];
    readonly platform: string;
    readonly loadavg: readonly number[];
  };
  readonly options: Omit<BenchOptions, "log" | "kafkaSink" | "kafkaBrokers"> & { readonly kafka: boolean };
  readonly scenarios: readonly ScenarioResult[];
  readonly ratios: Record<string, number>;
  readonly targets: ReadonlyArray<{ readonly name: string; readonly target: string; readonly measured: number; readonly met: boolean }>;
  readonly curve?: { readonly name: CurveName; readonly points: readonly CurvePoint[] };
}

const DEFAULT_STEPS: Record<CurveName, number[]> = {
  policy: [1_000, 10_000, 100_000],
  fanout: [1, 2, 4, 8],
  payload: [1_024, 4_096, 16_384, 65_536, 262_144],
  concurrency: [1, 10, 100, 1_000],
  "scale-out": [1, 2, 3],
  rate: [100, 200, 300, 450, 600],
};

/** Runs the benchmark: the baselines and the gateway in one run (or one curve), and returns every figure. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const dir = await mkdtemp(join(tmpdir(), "credex-bench-"));
  log(`setting up on 127.0.0.1 (dev PKI, ${MAX_FANOUT} reference providers ${options.providers === "process" ? "in a child process" : "in this process"}, load generator: ${options.loadgen}) in ${dir}`);
  const fed = await startBenchFederation({
    dir,
    ...(options.keyBits ? { keyBits: options.keyBits } : {}),
    ...(options.kafkaBrokers ? { kafkaBrokers: options.kafkaBrokers } : {}),
    ...(options.kafkaSink ? { kafkaSink: options.kafkaSink } : {}),
    providers: options.providers ?? "inline",
  });
  const runner = createScenarioRunner(fed, options, log);
  try {
    if (options.payloadBytes !== 1024) await fed.startProviders(options.payloadBytes);
    let scenarios: ScenarioResult[] = [];
    let curve: BenchReport["curve"];
    if (options.curve) curve = { name: options.curve, points: await runCurve(options.curve, options.steps ?? DEFAULT_STEPS[options.curve], fed, runner, options, log) };
    else scenarios = await runBaselines(runner, options);
    const { ratios, targets } = curve ? { ratios: curveRatios(curve), targets: [] } : ratiosOf(scenarios, options);
    return {
      schema: "credex-bench/1",
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, nodeFlags: [...process.execArgv, ...(process.env["NODE_OPTIONS"] ? [process.env["NODE_OPTIONS"]] : [])], platform: `${process.platform}-${process.arch}`, loadavg: loadavg() },
      options: {
        concurrency: options.concurrency,
        payloadBytes: options.payloadBytes,
        fanout: options.fanout,
        durationMs: options.durationMs,
        warmupMs: options.warmupMs,
        rounds: options.rounds ?? 1,
        loadgen: options.loadgen,
        providers: options.providers ?? "inline",
        kafka: options.kafkaBrokers !== undefined,
        ...(options.curve ? { curve: options.curve } : {}),
        ...(options.steps ? { steps: options.steps } : {}),
      },
      scenarios,
      ratios,
      targets,
      ...(curve ? { curve } : {}),
    };
  } finally {
    await fed.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface ScenarioSpec {
  readonly name: string;
  readonly target: ScenarioResult["target"];
  readonly audit?: BenchAuditSink;
  readonly fanout?: number;
  readonly concurrency?: number;
  readonly ratePerSecond?: number;
  readonly policyLines?: number;
  readonly replicas?: number;
  readonly kafkaTopicTag?: string;
  /** Start each gateway in a child process of its own (scale-out with the compiled harness). */
  readonly ownProcess?: boolean;
}

type ScenarioRunner = (spec: ScenarioSpec) => Promise<ScenarioResult & { audited?: number }>;

function createScenarioRunner(fed: BenchFederation, options: BenchOptions, log: (line: string) => void): ScenarioRunner & { payloadBytes: number } {
  const run = async (spec: ScenarioSpec): Promise<ScenarioResult & { audited?: number }> => {
    const concurrency = spec.concurrency ?? options.concurrency;
    const fanout = spec.target === "gateway" ? (spec.fanout ?? 1) : 1;
    let base: Omit<LoadJob, "concurrency" | "connections" | "warmupMs" | "durationMs">;
    let stop: () => Promise<void> = async () => undefined;
    let policyRules: number | undefined;
    const gateways: BenchGateway[] = [];
    if (spec.target === "direct") base = fed.directJob();
    else if (spec.target === "bare-proxy" || spec.target === "decoding-proxy") {
      const proxy = await fed.startBareProxy({ decode: spec.target === "decoding-proxy" });
      base = fed.bareProxyJob(proxy);
      stop = () => proxy.stop();
    } else {
      const replicas = spec.replicas ?? 1;
      const tag = spec.kafkaTopicTag ?? `${Date.now().toString(36)}`;
      for (let i = 0; i < replicas; i++) {
        gateways.push(
          await fed.startGateway({
            fanout,
            audit: spec.audit ?? "file",
            ...(spec.policyLines !== undefined ? { policyLines: spec.policyLines } : {}),
            ...(replicas > 1 || spec.kafkaTopicTag ? { instance: `gw-${tag}-${i + 1}`, kafkaTopicTag: tag } : {}),
            ...(spec.ownProcess ? { ownProcess: true } : {}),
          }),
        );
      }
      policyRules = gateways[0]!.policyRules;
      base = fed.gatewayJob(gateways.map((g) => g.address));
      stop = async () => {
        await Promise.all(gateways.map((g) => g.stop()));
      };
    }
    const job: LoadJob = {
      ...base,
      concurrency,
      // ≤ 100 calls per HTTP/2 connection: under the gateway's 128 concurrent streams per connection.
      connections: Math.max(spec.replicas ?? 1, Math.ceil(concurrency / 100)),
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      ...(spec.ratePerSecond !== undefined ? { ratePerSecond: spec.ratePerSecond } : {}),
    };
    const rss = startRssSampler();
    // Server CPU over the measured window only (no connection set-up, no cold JIT of the warm-up).
    let cpuFrom: NodeJS.CpuUsage | undefined;
    let cpu: NodeJS.CpuUsage | undefined;
    let machine: MachineCpuWindow | undefined;
    let machineBusy: number | undefined;
    let load: LoadResult;
    let figures: RssFigures;
    let auditWaitMs: LatencySummary | undefined;
    try {
      load = await runLoadIn(options.loadgen, job, (phase) => {
        if (phase === "measuring") {
          cpuFrom = process.cpuUsage();
          machine = startMachineCpuWindow();
          for (const g of gateways) g.auditWaits.start();
        } else if (cpuFrom) {
          cpu = process.cpuUsage(cpuFrom);
          machineBusy = machine?.stop();
          auditWaitMs = mergedWaits(gateways.map((g) => g.auditWaits.stop()));
        }
      });
    } finally {
      figures = rss.stop();
      await stop();
    }
    const answered = load.calls + load.measuredErrors;
    const result: ScenarioResult = {
      name: spec.name,
      target: spec.target,
      ...(spec.audit ? { audit: spec.audit } : {}),
      fanout,
      payloadBytes: run.payloadBytes,
      concurrency,
      ...(spec.ratePerSecond !== undefined ? { ratePerSecond: Math.round(spec.ratePerSecond) } : {}),
      ...(policyRules !== undefined ? { policyRules } : {}),
      ...(spec.replicas !== undefined ? { replicas: spec.replicas } : {}),
      callsPerSecond: Math.round(load.callsPerSecond),
      calls: load.calls,
      errors: load.errors,
      errorSamples: load.errorSamples,
      totalOk: load.totalOk,
      late: load.late,
      latencyMs: roundAll(load.latencyMs),
      responseBytes: load.responseBytes,
      recordsPerResponse: recordsIn(spec.target, load.sampleResponseBase64),
      rss: figures,
      serverCpuUsPerCall: spec.target === "direct" || spec.ownProcess || answered === 0 || !cpu ? 0 : Math.round((cpu.user + cpu.system) / answered),
      ...(machineBusy !== undefined ? { machineBusy } : {}),
      ...(spec.ownProcess ? { gatewaysInOwnProcesses: true } : {}),
      ...(auditWaitMs ? { auditWaitMs: roundAll(auditWaitMs) } : {}),
    };
    log(formatScenario(result));
    return result;
  };
  run.payloadBytes = options.payloadBytes;
  return run;
}

async function runBaselines(run: ScenarioRunner, options: BenchOptions): Promise<ScenarioResult[]> {
  const main: BenchAuditSink = options.kafkaBrokers ? "kafka" : "file";
  const specs: ScenarioSpec[] = [
    { name: "direct", target: "direct" },
    { name: "bare-proxy", target: "bare-proxy" },
    { name: "decoding-proxy", target: "decoding-proxy" },
    { name: "gateway-unaudited", target: "gateway", audit: "none" },
    { name: "gateway-file", target: "gateway", audit: "file" },
    ...(options.kafkaBrokers ? [{ name: "gateway-kafka", target: "gateway", audit: "kafka" } as const] : []),
    { name: `gateway-${main}-fanout${options.fanout}`, target: "gateway", audit: main, fanout: options.fanout },
  ];
  const rounds = Math.max(1, options.rounds ?? 1);
  const out: ScenarioResult[] = (await runInRounds(run, rounds, specs)).map((all) => {
    const mid = Math.floor((all.length - 1) / 2);
    const median = [...all].sort((a, b) => a.callsPerSecond - b.callsPerSecond)[mid]!;
    if (rounds === 1) return median;
    const cpus = all.map((r) => r.serverCpuUsPerCall);
    return {
      ...median,
      serverCpuUsPerCall: [...cpus].sort((a, b) => a - b)[mid]!,
      roundsCallsPerSecond: all.map((r) => r.callsPerSecond),
      roundsServerCpuUsPerCall: cpus,
    };
  });
  // Half of the gateway's maximum, open loop: latency without queueing in the generator.
  const max = out.find((s) => s.name === `gateway-${main}`)!.callsPerSecond;
  const rate = Math.max(1, max / 2);
  out.push(
    ...(await runLatencyRounds(run, rounds, [
      { name: "bare-proxy-half-load", target: "bare-proxy", ratePerSecond: rate },
      { name: "gateway-unaudited-half-load", target: "gateway", audit: "none", ratePerSecond: rate },
      { name: `gateway-${main}-half-load`, target: "gateway", audit: main, ratePerSecond: rate },
    ])),
  );
  // One call in flight: what the audit adds when nothing queues and the machine is mostly idle.
  out.push(
    ...(await runLatencyRounds(run, rounds, [
      { name: "gateway-unaudited-one-in-flight", target: "gateway", audit: "none", concurrency: 1 },
      { name: `gateway-${main}-one-in-flight`, target: "gateway", audit: main, concurrency: 1 },
    ])),
  );
  return out;
}

/**
 * Latency scenarios compared with each other (audited against unaudited), run side by side in
 * `rounds` rounds, the order rotated each round: this machine's speed drifts by tens of percent
 * within minutes, and two scenarios run once each, one after the other, would compare two
 * different machines. Each round's figures are kept (roundsP50Ms, aligned by round); the result
 * kept per scenario is its round with the median p50.
 */
async function runLatencyRounds(run: ScenarioRunner, rounds: number, specs: readonly ScenarioSpec[]): Promise<ScenarioResult[]> {
  return (await runInRounds(run, rounds, specs)).map((results) => {
    if (results.length === 1) return results[0]!;
    const kept = [...results].sort((a, b) => a.latencyMs.p50 - b.latencyMs.p50)[Math.floor((results.length - 1) / 2)]!;
    return { ...kept, roundsP50Ms: results.map((r) => r.latencyMs.p50) };
  });
}

/** Runs every spec `rounds` times, the order rotated each round; per spec, its results in round order. */
async function runInRounds(run: ScenarioRunner, rounds: number, specs: readonly ScenarioSpec[]): Promise<ScenarioResult[][]> {
  const all = specs.map(() => [] as ScenarioResult[]);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < specs.length; i++) {
      const k = (i + round) % specs.length;
      all[k]!.push(await run(specs[k]!));
    }
  }
  return all;
}

/** Median over rounds of (a's p50 − b's p50), round by round; without rounds, the two p50s' difference. */
export function medianAddedP50(a: ScenarioResult | undefined, b: ScenarioResult | undefined): number {
  if (!a || !b) return NaN;
  const ra = a.roundsP50Ms;
  const rb = b.roundsP50Ms;
  if (!ra || !rb || ra.length !== rb.length) return a.latencyMs.p50 - b.latencyMs.p50;
  const diffs = ra.map((v, i) => v - rb[i]!).sort((x, y) => x - y);
  const mid = Math.floor(diffs.length / 2);
  return diffs.length % 2 === 1 ? diffs[mid]! : (diffs[mid - 1]! + diffs[mid]!) / 2;
}

function ratiosOf(scenarios: readonly ScenarioResult[], options: BenchOptions): Pick<BenchReport, "ratios" | "targets"> {
  const main = options.kafkaBrokers ? "kafka" : "file";
  const s = (name: string) => scenarios.find((x) => x.name === name);
  const tput = (name: string) => s(name)?.callsPerSecond ?? NaN;
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  const ratios: Record<string, number> = {
    gatewayVsBareProxy: r3(tput(`gateway-${main}`) / tput("bare-proxy")),
    gatewayVsDirect: r3(tput(`gateway-${main}`) / tput("direct")),
    bareProxyVsDirect: r3(tput("bare-proxy") / tput("direct")),
    gatewayUnauditedVsBareProxy: r3(tput("gateway-unaudited") / tput("bare-proxy")),
    // What reading the messages alone costs: the floor of any gateway that inspects what it brokers.
    decodingProxyVsBareProxy: r3(tput("decoding-proxy") / tput("bare-proxy")),
    cpuPerCallBareProxyVsDecodingProxy: r3((s("bare-proxy")?.serverCpuUsPerCall ?? NaN) / (s("decoding-proxy")?.serverCpuUsPerCall ?? NaN)),
    auditedVsUnaudited: r3(tput(`gateway-${main}`) / tput("gateway-unaudited")),
    auditedFileVsUnaudited: r3(tput("gateway-file") / tput("gateway-unaudited")),
    [`fanout${options.fanout}VsFanout1`]: r3(tput(`gateway-${main}-fanout${options.fanout}`) / tput(`gateway-${main}`)),
    // CPU per call of the gateway's process vs the proxy's: the throughput ratio each would reach on a core of its own.
    cpuPerCallBareProxyVsGateway: r3((s("bare-proxy")?.serverCpuUsPerCall ?? NaN) / (s(`gateway-${main}`)?.serverCpuUsPerCall ?? NaN)),
    cpuPerCallUnauditedVsAudited: r3((s("gateway-unaudited")?.serverCpuUsPerCall ?? NaN) / (s(`gateway-${main}`)?.serverCpuUsPerCall ?? NaN)),
    [`cpuPerCallFanout1VsFanout${options.fanout}`]: r3((s(`gateway-${main}`)?.serverCpuUsPerCall ?? NaN) / (s(`gateway-${main}-fanout${options.fanout}`)?.serverCpuUsPerCall ?? NaN)),
    p99AddedOverBareProxyAtHalfLoadMs: r3((s(`gateway-${main}-half-load`)?.latencyMs.p99 ?? NaN) - (s("bare-proxy-half-load")?.latencyMs.p99 ?? NaN)),
    p50AuditWaitAtHalfLoadMs: r3(s(`gateway-${main}-half-load`)?.auditWaitMs?.p50 ?? NaN),
    p50AddedByAuditAtOneInFlightMs: r3(medianAddedP50(s(`gateway-${main}-one-in-flight`), s("gateway-unaudited-one-in-flight"))),
    p50AddedByAuditAtHalfLoadMs: r3(medianAddedP50(s(`gateway-${main}-half-load`), s("gateway-unaudited-half-load"))),
  };
  if (options.kafkaBrokers) ratios["auditedKafkaVsUnaudited"] = ratios["auditedVsUnaudited"]!;
  const t = (name: string, target: string, measured: number, met: boolean) => ({ name, target, measured, met });
  const fanoutKey = `fanout${options.fanout}VsFanout1`;
  const targets = [
    t("full-pipeline throughput vs bare proxy", "≥ 0.85", ratios["gatewayVsBareProxy"]!, ratios["gatewayVsBareProxy"]! >= 0.85),
    t("p99 added over bare proxy at half load (ms)", "≤ 2", ratios["p99AddedOverBareProxyAtHalfLoadMs"]!, ratios["p99AddedOverBareProxyAtHalfLoadMs"]! <= 2),
    t(`${options.fanout}-agency fan-out vs 1 agency`, "≥ 0.5", ratios[fanoutKey]!, ratios[fanoutKey]! >= 0.5),
    t(`audited (${main}) vs unaudited throughput`, "≥ 0.8", ratios["auditedVsUnaudited"]!, ratios["auditedVsUnaudited"]! >= 0.8),
    t(`median added by audit (${main}) at half load (ms)`, "≤ 2", ratios["p50AddedByAuditAtHalfLoadMs"]!, ratios["p50AddedByAuditAtHalfLoadMs"]! <= 2),
    // The same median, split: the exchange's own wait for durability, without what the sink's CPU and
    // broker take from the rest of the pipeline on this shared machine (audit-wait.ts).
    t(`median added by audit (${main}) at one call in flight (ms)`, "≤ 2", ratios["p50AddedByAuditAtOneInFlightMs"]!, ratios["p50AddedByAuditAtOneInFlightMs"]! <= 2),
    t(`median wait for the audit (${main}) at half load (ms)`, "≤ 2", ratios["p50AuditWaitAtHalfLoadMs"]!, ratios["p50AuditWaitAtHalfLoadMs"]! <= 2),
    // The same three throughput targets judged by CPU per call: what each would reach on a core of its own,
    // and far steadier than throughput when other processes share the machine (BENCHMARKS.md).
    t("CPU per call: bare proxy / gateway", "≥ 0.85", ratios["cpuPerCallBareProxyVsGateway"]!, ratios["cpuPerCallBareProxyVsGateway"]! >= 0.85),
    t(`CPU per call: 1 agency / ${options.fanout} agencies`, "≥ 0.5", ratios[`cpuPerCallFanout1VsFanout${options.fanout}`]!, ratios[`cpuPerCallFanout1VsFanout${options.fanout}`]! >= 0.5),
    t(`CPU per call: unaudited / audited (${main})`, "≥ 0.8", ratios["cpuPerCallUnauditedVsAudited"]!, ratios["cpuPerCallUnauditedVsAudited"]! >= 0.8),
  ];
  return { ratios, targets };
}

async function runCurve(
  name: CurveName,
  steps: readonly number[],
  fed: BenchFederation,
  run: ScenarioRunner & { payloadBytes: number },
  options: BenchOptions,
  log: (line: string) => void,
): Promise<CurvePoint[]> {
  const main: BenchAuditSink = options.kafkaBrokers ? "kafka" : "file";
  const points: CurvePoint[] = [];
  for (const step of steps) {
    log(`--- ${name} = ${step}`);
    switch (name) {
      case "policy": {
        // Audit off: the curve isolates what the policy size costs.
        const decisions = await measureDecisions(step);
        log(`    decisions at ${step} lines: p50 ${decisions.p50Us} µs, p99 ${decisions.p99Us} µs, compile ${decisions.compileMs} ms`);
        points.push({ step, decisions, scenarios: [await run({ name: `gateway-unaudited-policy${step}`, target: "gateway", audit: "none", policyLines: step })] });
        break;
      }
      case "fanout":
        points.push({ step, scenarios: [await run({ name: `gateway-${main}-fanout${step}`, target: "gateway", audit: main, fanout: step })] });
        break;
      case "payload":
        await fed.startProviders(step);
        run.payloadBytes = step;
        points.push({
          step,
          scenarios: [await run({ name: `bare-proxy-payload${step}`, target: "bare-proxy" }), await run({ name: `gateway-${main}-payload${step}`, target: "gateway", audit: main })],
        });
        break;
      case "concurrency":
        points.push({
          step,
          scenarios: [
            await run({ name: `bare-proxy-c${step}`, target: "bare-proxy", concurrency: step }),
            await run({ name: `gateway-${main}-c${step}`, target: "gateway", audit: main, concurrency: step }),
          ],
        });
        break;
      case "scale-out": {
        if (!options.kafkaBrokers) throw new Error("--curve scale-out needs Kafka (--kafka)");
        const tag = `so${step}-${Date.now().toString(36)}`;
        // With the compiled harness (providers in their own process) each replica gets a process of
        // its own, as in a deployment; inline (tests), they share this one.
        const ownProcess = (options.providers ?? "inline") === "process";
        const result = await run({ name: `gateway-kafka-replicas${step}`, target: "gateway", audit: "kafka", replicas: step, kafkaTopicTag: tag, ownProcess });
        const audit = await checkKafkaAuditCompleteness({ brokers: options.kafkaBrokers, topic: `credex.audit.bench.${tag}`, expected: result.totalOk + result.errors });
        log(`    audit: ${audit.records} records for ${audit.expected} exchanges, ${audit.duplicates} duplicate chain positions, by instance ${JSON.stringify(audit.byInstance)}`);
        points.push({ step, scenarios: [result], audit });
        break;
      }
      case "rate":
        // Open loop at a fixed offered rate: what the audit adds to the median exchange as the
        // machine fills, unaudited and audited side by side (issue 3's latency target).
        points.push({
          step,
          scenarios: await runLatencyRounds(run, Math.max(1, options.rounds ?? 1), [
            { name: `gateway-unaudited-r${step}`, target: "gateway", audit: "none", ratePerSecond: step },
            { name: `gateway-${main}-r${step}`, target: "gateway", audit: main, ratePerSecond: step },
          ]),
        });
        break;
    }
  }
  return points;
}

function curveRatios(curve: NonNullable<BenchReport["curve"]>): Record<string, number> {
  const ratios: Record<string, number> = {};
  const gw = (p: CurvePoint) => p.scenarios.find((s) => s.target === "gateway")!;
  const first = curve.points[0];
  if (!first) return ratios;
  for (const p of curve.points) {
    ratios[`${curve.name}${p.step}VsFirst`] = Math.round((gw(p).callsPerSecond / gw(first).callsPerSecond) * 1000) / 1000;
    const bare = p.scenarios.find((s) => s.target === "bare-proxy");
    if (bare) ratios[`${curve.name}${p.step}GatewayVsBareProxy`] = Math.round((gw(p).callsPerSecond / bare.callsPerSecond) * 1000) / 1000;
    const unaudited = p.scenarios.find((s) => s.target === "gateway" && s.audit === "none");
    const audited = p.scenarios.find((s) => s.target === "gateway" && s.audit !== undefined && s.audit !== "none");
    if (curve.name === "rate" && unaudited && audited) {
      ratios[`rate${p.step}P50AddedByAuditMs`] = Math.round(medianAddedP50(audited, unaudited) * 1000) / 1000;
      if (audited.auditWaitMs) ratios[`rate${p.step}P50AuditWaitMs`] = audited.auditWaitMs.p50;
    }
  }
  return ratios;
}

function recordsIn(target: ScenarioResult["target"], base64: string): number {
  if (base64 === "") return 0;
  const bytes = Buffer.from(base64, "base64");
  if (target === "gateway") return fromBinary(QueryResponseSchema, bytes).results.reduce((n, r) => n + r.records.length, 0);
  return fromBinary(FetchResponseSchema, bytes).records.length;
}

function roundAll<T extends object>(figures: T): T {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, typeof v === "number" ? Math.round(v * 1000) / 1000 : v])) as T;
}

/** Several replicas' waits as one summary: the replica with the most-delayed median stands for all (conservative). */
function mergedWaits(parts: ReadonlyArray<LatencySummary | undefined>): LatencySummary | undefined {
  const present = parts.filter((p): p is LatencySummary => p !== undefined);
  return present.length === 0 ? undefined : present.reduce((a, b) => (b.p50 > a.p50 ? b : a));
}

export function formatScenario(s: ScenarioResult): string {
  const l = s.latencyMs;
  const rate = s.ratePerSecond !== undefined ? ` @${s.ratePerSecond}/s` : "";
  return (
    `${s.name.padEnd(34)} ${String(s.callsPerSecond).padStart(7)} calls/s${rate}  p50 ${l.p50.toFixed(2)}  p90 ${l.p90.toFixed(2)}  p99 ${l.p99.toFixed(2)}  max ${l.max.toFixed(2)} ms` +
    `  cpu ${s.serverCpuUsPerCall} µs/call${s.machineBusy !== undefined ? `  machine ${Math.round(s.machineBusy * 100)}% busy` : ""}  rss peak ${s.rss.peakMb} MiB  errors ${s.errors}${s.late ? `  late ${s.late}` : ""}` +
    (s.auditWaitMs && s.audit !== "none" ? `  audit wait p50 ${s.auditWaitMs.p50.toFixed(2)} p99 ${s.auditWaitMs.p99.toFixed(2)} ms` : "")
  );
}
