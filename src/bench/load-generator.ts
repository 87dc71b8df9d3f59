import { readFileSync } from "node:fs";
import { Client, Metadata, type ServiceError } from "@grpc/grpc-js";
import { channelCredentials } from "../adapters/grpc/provider-client.js";
import { summarizeLatencies, type LatencySummary } from "./latency-summary.js";

/**
 * One load run, described only with plain data so that it can be posted to a
 * worker thread or a child process (load-worker.ts) unchanged.
 */
export interface LoadJob {
  /** host:port of each server; connections are spread over them round-robin (gateway replicas). */
  readonly addresses: readonly string[];
  /** The spiffe URI the server's certificate must carry. */
  readonly serverIdentity: string;
  /** PEM files of the caller's identity and the CA bundle. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** Full gRPC method path, e.g. /credex.v1.CreditExchange/Query. */
  readonly path: string;
  /** The serialized request, base64: the generator never encodes or decodes, so its own cost stays flat. */
  readonly requestBase64: string;
  /** Calls in flight (closed loop), or the cap on them when `ratePerSecond` is set. */
  readonly concurrency: number;
  /** HTTP/2 connections; calls are spread over them. */
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Open loop: start calls at this rate instead of keeping `concurrency` busy. */
  readonly ratePerSecond?: number;
  readonly callTimeoutMs?: number;
}

export interface LoadResult {
  /** Calls that completed OK inside the measured window. */
  readonly calls: number;
  /** Failed calls over the whole run (warm-up and drain included): a bench run expects none. */
  readonly errors: number;
  /** Failed calls answered inside the measured window. */
  readonly measuredErrors: number;
  /** Error counts by gRPC status code name and the first message of each. */
  readonly errorSamples: Record<string, { count: number; first: string }>;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /** Open-loop runs: calls not started on time because `concurrency` were already in flight. */
  readonly late: number;
  /** Every call answered during the whole run (warm-up and drain included): each is one audited exchange. */
  readonly totalOk: number;
  readonly totalErrors: number;
  /** Bytes of the last OK response, and the response itself (base64) for a content check. */
  readonly responseBytes: number;
  readonly sampleResponseBase64: string;
}

const identity = (b: Buffer) => b;

/** Moments of a run the caller may want to align its own measurements with (server CPU time). */
export type LoadPhase = "measuring" | "measured";

/** Drives one load run over real mTLS and measures it; see LoadJob. */
export async function runLoad(job: LoadJob, onPhase?: (phase: LoadPhase) => void): Promise<LoadResult> {
  const material = { cert: readFileSync(job.certFile), key: readFileSync(job.keyFile), ca: readFileSync(job.caFile) };
  const credentials = channelCredentials(material, job.serverIdentity);
  const clients = Array.from({ length: Math.max(1, job.connections) }, (_, i) =>
    new Client(job.addresses[i % job.addresses.length]!, credentials, {
      "grpc.ssl_target_name_override": "localhost",
      "grpc.default_authority": "localhost",
      "grpc.max_receive_message_length": 256 * 1024 * 1024,
      // One TCP+TLS connection per client: grpc-js otherwise shares subchannels between equal channels.
      "grpc.use_local_subchannel_pool": 1,
    }),
  );
  const request = Buffer.from(job.requestBase64, "base64");
  const timeoutMs = job.callTimeoutMs ?? 30_000;

  // Connect first: handshakes are not part of what is measured.
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())))));

  const latencies: number[] = [];
  const errorSamples: Record<string, { count: number; first: string }> = {};
  let calls = 0;
  let errors = 0;
  let late = 0;
  let responseBytes = 0;
  let sample: Buffer | undefined;
  let totalOk = 0;
  let measuredErrors = 0;
  let inFlight = 0;
  let next = 0;
  let measuring = false;
  let stopping = false;
  let drained: (() => void) | undefined;

  const start = (): void => {
    inFlight++;
    const client = clients[next++ % clients.length]!;
    const began = process.hrtime.bigint();
    client.makeUnaryRequest(job.path, identity, identity, request, new Metadata(), { deadline: Date.now() + timeoutMs }, (err: ServiceError | null, response?: Buffer) => {
      inFlight--;
      const ms = Number(process.hrtime.bigint() - began) / 1e6;
      if (!err) totalOk++;
      if (measuring) {
        if (err) {
          errors++;
          measuredErrors++;
          const key = String(err.code);
          const entry = (errorSamples[key] ??= { count: 0, first: err.details || err.message });
          entry.count++;
        } else {
          calls++;
          latencies.push(ms);
          responseBytes = response?.length ?? 0;
          sample ??= response;
        }
      } else if (err) {
        // Warm-up failures still count: a run that cannot warm up is broken, not slow.
        errors++;
        (errorSamples[String(err.code)] ??= { count: 0, first: err.details || err.message }).count++;
      }
      if (!stopping && job.ratePerSecond === undefined) start();
      else if (stopping && inFlight === 0) drained?.();
    });
  };

  let ticker: NodeJS.Timeout | undefined;
  const t0 = Date.now();
  if (job.ratePerSecond === undefined) {
    for (let i = 0; i < job.concurrency; i++) start();
  } else {
    const rate = job.ratePerSecond;
    let issued = 0;
    ticker = setInterval(() => {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate);
      while (issued < due) {
        issued++;
        if (inFlight < job.concurrency) start();
        else if (measuring) late++;
      }
    }, 1);
  }

  await sleep(job.warmupMs);
  measuring = true;
  onPhase?.("measuring");
  const measuredFrom = process.hrtime.bigint();
  await sleep(job.durationMs);
  measuring = false;
  onPhase?.("measured");
  const seconds = Number(process.hrtime.bigint() - measuredFrom) / 1e9;
  stopping = true;
  if (ticker) clearInterval(ticker);
  if (inFlight > 0) await Promise.race([new Promise<void>((resolve) => (drained = resolve)), sleep(timeoutMs)]);
  clients.forEach((c) => c.close());

  return {
    calls,
    errors,
    errorSamples,
    seconds,
    callsPerSecond: calls / seconds,
    latencyMs: summarizeLatencies(latencies),
    late,
    totalOk,
    totalErrors: errors,
    measuredErrors,
    responseBytes,
    sampleResponseBase64: sample ? sample.toString("base64") : "",
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
