import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { stringify as toYaml } from "yaml";
import { createDevPki, type DevPki } from "../adapters/pki/dev-pki.js";
import { writePrivateFile } from "../adapters/pki/pem-files.js";
import { generateKeyRing, serializeKeyRing } from "../core/audit/key-ring.js";
import { recordAuditWaits, type AuditWaitRecorder } from "./audit-wait.js";
import { createBenchKafkaSink, type KafkaSinkFactory } from "./bench-kafka-sink.js";
import { startGatewayProcess } from "./gateway-host.js";
import type { AuditSink } from "../core/audit-sink.js";
import { SECTORS } from "../core/catalogue.js";
import { generateUscc } from "../core/identifiers/uscc.js";
import { createSeededRandom } from "../core/identifiers/random-source.js";
import { loadGatewayConfig } from "../config/gateway-config.js";
import { packageRoot } from "../config/package-root.js";
import { startGateway } from "../gateway/gateway.js";
import { buildGatewayParts } from "../gateway/gateway-parts.js";
import { createPolicyAuthorizerFromSource } from "../adapters/casbin/create-policy-authorizer.js";
import { CreditExchange, QueryRequestSchema } from "../gen/credex/v1/exchange_pb.js";
import { CreditProvider, FetchRequestSchema, FetchResponseSchema } from "../gen/credex/v1/provider_pb.js";
import { Purpose, SubjectType } from "../gen/credex/v1/types_pb.js";
import { startBareProxy, type RunningBareProxy } from "./bare-proxy.js";
import { generateBenchPolicy } from "./bench-policy.js";
import { createProviderHost, type ProviderPlacement } from "./provider-host.js";
import type { LoadJob } from "./load-generator.js";

export const BENCH_TRUST_DOMAIN = "bench.credex.example";
/** The benchmarked category: level 1 (PUBLIC), so no consent is needed and every owner may be asked. */
export const BENCH_CATEGORY = "administrative_penalty";
export const MAX_FANOUT = 8;
const QUERY_PATH = `/${CreditExchange.typeName}/${CreditExchange.method.query.name}`;
const FETCH_PATH = `/${CreditProvider.typeName}/${CreditProvider.method.fetch.name}`;

/** Which audit sink the gateway uses: "none" is a no-op sink, for the audited/unaudited ratio only. */
export type BenchAuditSink = "none" | "file" | "kafka";

export interface BenchGatewayOptions {
  /** Agencies holding the benchmarked category: the query fans out to this many providers. */
  readonly fanout: number;
  readonly audit: BenchAuditSink;
  /** Generate a policy of this many lines instead of the shipped one. */
  readonly policyLines?: number;
  readonly instance?: string;
  /** Kafka topic suffix shared by replicas of one run. */
  readonly kafkaTopicTag?: string;
  /**
   * Run the gateway in a child process of its own (Kafka sink, shipped policy; needs the
   * compiled harness). Its CPU, RSS and audit waits are then not measured by this process.
   */
  readonly ownProcess?: boolean;
}

export interface BenchGateway {
  /** host:port of its CreditExchange listener. */
  readonly address: string;
  /** Times each exchange's wait for its audit event (see audit-wait.ts). */
  readonly auditWaits: AuditWaitRecorder;
  readonly policyRules?: number;
  stop(): Promise<void>;
}

/** Builds the Kafka audit sink; pluggable so the harness runs where no Kafka sink is built in. */
export type { KafkaSinkFactory } from "./bench-kafka-sink.js";

export interface BenchFederationOptions {
  readonly dir: string;
  readonly keyBits?: number;
  readonly kafkaBrokers?: string;
  readonly kafkaSink?: KafkaSinkFactory;
  /** Where the reference providers run (default inline: in this process). */
  readonly providers?: ProviderPlacement;
}

/**
 * The benchmark's world on 127.0.0.1: one dev PKI and key ring (made once, the
 * slow part), MAX_FANOUT reference providers with synthetic datasets (restarted
 * per payload size), and gateways / bare proxies started per scenario so each
 * scenario starts clean.
 */
export interface BenchFederation {
  readonly dir: string;
  readonly pki: DevPki;
  readonly subjects: readonly string[];
  /** host:port of each provider (a1..a8). */
  readonly providerAddresses: readonly string[];
  /** (Re)starts the providers with records of about `payloadBytes` each (`perSubject` records per subject and provider). */
  startProviders(payloadBytes: number, perSubject?: number): Promise<void>;
  startGateway(options: BenchGatewayOptions): Promise<BenchGateway>;
  /** The pass-through baseline; with `decode`, one that decodes and re-encodes every message (and checks nothing). */
  startBareProxy(opts?: { decode?: boolean }): Promise<RunningBareProxy>;
  /** A load job straight to provider 1 (the gateway's identity, as the gateway would call it). */
  directJob(): Omit<LoadJob, "concurrency" | "connections" | "warmupMs" | "durationMs">;
  bareProxyJob(proxy: RunningBareProxy): Omit<LoadJob, "concurrency" | "connections" | "warmupMs" | "durationMs">;
  gatewayJob(addresses: readonly string[]): Omit<LoadJob, "concurrency" | "connections" | "warmupMs" | "durationMs">;
  stop(): Promise<void>;
}

const agencyId = (i: number) => `a${i + 1}`;

export async function startBenchFederation(options: BenchFederationOptions): Promise<BenchFederation> {
  const dir = options.dir;
  await mkdir(join(dir, "audit"), { recursive: true });
  const random = createSeededRandom(11);
  const members = Array.from({ length: MAX_FANOUT }, (_, i) => ({
    id: agencyId(i),
    sector: SECTORS[i % SECTORS.length]!,
    uscc: generateUscc(random),
    name: `Bench agency ${i + 1}`,
  }));
  const pki = await createDevPki(join(dir, "pki"), { trustDomain: BENCH_TRUST_DOMAIN, agencies: members, keyBits: options.keyBits ?? 2048 });
  const keyRingFile = join(dir, "audit", "key-ring.json");
  await writePrivateFile(keyRingFile, serializeKeyRing(generateKeyRing("k1")));
  const policies = join(packageRoot(), "policies");
  const shippedPolicy = await readFile(join(policies, "policy.csv"), "utf8");
  const modelText = await readFile(join(policies, "model.conf"), "utf8");

  const host = createProviderHost(options.providers ?? "inline");
  let providers: readonly string[] = [];
  let subjects: readonly string[] = [];
  let gatewayCount = 0;
  const first = members[0]!;
  const subjectId = () => subjects[0]!;

  const fed: BenchFederation = {
    dir,
    pki,
    get subjects() {
      return subjects;
    },
    get providerAddresses() {
      return providers;
    },
    async startProviders(payloadBytes, perSubject = 1) {
      const hosted = await host.start({
        trustDomain: BENCH_TRUST_DOMAIN,
        category: BENCH_CATEGORY,
        caFile: pki.caBundle,
        members: members.map((m) => ({ id: m.id, cert: pki.agencies[m.id]!.server.cert, key: pki.agencies[m.id]!.server.key })),
        payloadBytes,
        perSubject,
      });
      providers = hosted.addresses;
      subjects = hosted.subjects;
    },

    async startGateway(opts) {
      const instance = opts.instance ?? `gw-bench-${++gatewayCount}`;
      const gwDir = join(dir, instance);
      await mkdir(join(gwDir, "audit"), { recursive: true });
      const configFile = join(gwDir, "gateway.yaml");
      const document = {
        instance,
        trustDomain: BENCH_TRUST_DOMAIN,
        listen: "127.0.0.1:0",
        tls: { cert: pki.gateway.cert, key: pki.gateway.key, ca: pki.caBundle },
        policy: { model: join(policies, "model.conf"), policy: join(policies, "policy.csv"), categories: join(policies, "categories.yaml") },
        // The load comes from one agency: per-agency admission (default 256 in flight, 2,000/s, which
        // refuse the excess with RESOURCE_EXHAUSTED) is raised so the bench measures the pipeline itself.
        limits: { maxConcurrentCallsPerAgency: 100_000, maxRequestsPerSecondPerAgency: 10_000_000 },
        agencies: members.map((m, i) => ({
          id: m.id,
          name: m.name,
          sector: m.sector,
          uscc: m.uscc,
          provider: providers[i]!,
          // Only the first `fanout` agencies hold the benchmarked category, so a query fans out to exactly them.
          categories: i < opts.fanout ? [BENCH_CATEGORY] : [],
          clearance: 4,
          protectionLevel: 3,
        })),
        audit: { sink: "file", file: "audit/audit.log", keyRing: keyRingFile, suite: "AES-256-GCM", chainState: "audit/chain-state.json" },
      };
      await writeFile(configFile, toYaml(document));
      const config = loadGatewayConfig(configFile);

      if (opts.ownProcess) {
        if (opts.audit !== "kafka" || !options.kafkaBrokers || opts.policyLines !== undefined) throw new Error("a gateway in its own process runs the Kafka sink and the shipped policy only");
        const tag = opts.kafkaTopicTag ?? instance;
        const child = await startGatewayProcess({
          configFile,
          instance,
          kafka: { brokers: options.kafkaBrokers, topic: `credex.audit.bench.${tag}`, checkpointTopic: `credex.audit-checkpoints.bench.${tag}`, dir: gwDir },
        });
        return { address: child.address, auditWaits: recordAuditWaits(createNoopAuditSink()), stop: () => child.stop() };
      }

      let auditSink: AuditSink | undefined;
      if (opts.audit === "none") auditSink = createNoopAuditSink();
      if (opts.audit === "kafka") {
        if (!options.kafkaBrokers) throw new Error("the Kafka scenarios need brokers (--kafka)");
        const tag = opts.kafkaTopicTag ?? instance;
        auditSink = await (options.kafkaSink ?? createBenchKafkaSink)({
          brokers: options.kafkaBrokers,
          config,
          instance,
          topic: `credex.audit.bench.${tag}`,
          checkpointTopic: `credex.audit-checkpoints.bench.${tag}`,
          dir: gwDir,
        });
      }
      let policyRules: number | undefined;
      let authorizer;
      if (opts.policyLines !== undefined) {
        const policyText = generateBenchPolicy(shippedPolicy, opts.policyLines, members.map((m) => m.id));
        const built = await createPolicyAuthorizerFromSource({ modelText, policyText, agencies: config.agencies });
        policyRules = built.ruleCount;
        authorizer = built;
      }
      const parts = await buildGatewayParts(config, { ...(auditSink ? { auditSink } : {}), ...(authorizer ? { authorizer } : {}) });
      const auditWaits = recordAuditWaits(parts.auditSink);
      const gateway = await startGateway(config, { ...parts, auditSink: auditWaits.sink });
      return { address: gateway.address, auditWaits, ...(policyRules !== undefined ? { policyRules } : {}), stop: () => gateway.stop(5_000) };
    },

    startBareProxy(opts = {}) {
      return startBareProxy({
        ...(opts.decode ? { decode: { request: FetchRequestSchema, response: FetchResponseSchema } } : {}),
        listen: "127.0.0.1:0",
        tls: { cert: pki.gateway.cert, key: pki.gateway.key, ca: pki.caBundle },
        upstream: providers[0]!,
        upstreamIdentity: `spiffe://${BENCH_TRUST_DOMAIN}/provider/${first.id}`,
        paths: [FETCH_PATH],
      });
    },

    directJob() {
      return {
        addresses: [providers[0]!],
        serverIdentity: `spiffe://${BENCH_TRUST_DOMAIN}/provider/${first.id}`,
        certFile: pki.gateway.cert,
        keyFile: pki.gateway.key,
        caFile: pki.caBundle,
        path: FETCH_PATH,
        requestBase64: fetchRequestBase64(subjectId()),
      };
    },
    bareProxyJob(proxy) {
      return {
        addresses: [proxy.address],
        serverIdentity: `spiffe://${BENCH_TRUST_DOMAIN}/gateway`,
        certFile: pki.gateway.cert,
        keyFile: pki.gateway.key,
        caFile: pki.caBundle,
        path: FETCH_PATH,
        requestBase64: fetchRequestBase64(subjectId()),
      };
    },
    gatewayJob(addresses) {
      const request = create(QueryRequestSchema, {
        subject: { type: SubjectType.LEGAL_PERSON, id: subjectId() },
        categories: [BENCH_CATEGORY],
        purpose: Purpose.LOAN_APPROVAL,
      });
      return {
        addresses,
        serverIdentity: `spiffe://${BENCH_TRUST_DOMAIN}/gateway`,
        certFile: pki.agencies[first.id]!.client.cert,
        keyFile: pki.agencies[first.id]!.client.key,
        caFile: pki.caBundle,
        path: QUERY_PATH,
        requestBase64: Buffer.from(toBinary(QueryRequestSchema, request)).toString("base64"),
      };
    },
    async stop() {
      await host.stop();
      providers = [];
    },
  };
  await fed.startProviders(1024);
  return fed;
}

/** The gateway's own provider request, as it sends it (same fields, same size). */
function fetchRequestBase64(subjectId: string): string {
  const request = create(FetchRequestSchema, {
    exchangeId: "00000000-0000-4000-8000-000000000000",
    subject: { type: SubjectType.LEGAL_PERSON, id: subjectId },
    categories: [BENCH_CATEGORY],
    purpose: Purpose.LOAN_APPROVAL,
    requesterAgency: agencyId(0),
    maxLevel: 4,
  });
  return Buffer.from(toBinary(FetchRequestSchema, request)).toString("base64");
}

/** Accepts and drops every event: bench only, to measure what auditing costs. Never in a gateway config. */
export function createNoopAuditSink(): AuditSink {
  let n = 0;
  return {
    append: () => Promise.resolve({ medium: "none", position: String(n++) }),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    describe: () => "no-op (benchmark only: nothing is kept)",
  };
}

