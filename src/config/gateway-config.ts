import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError, ConfigReader } from "./config-reader.js";
import { SECTORS, type Sector } from "../core/catalogue.js";
import type { AgencyEntry } from "../core/registry.js";
import { validateUscc } from "../core/identifiers/uscc.js";

export interface GatewayLimits {
  /** Requests larger than this are refused with REQUEST_TOO_LARGE (and audited). */
  readonly maxRequestBytes: number;
  /** Transport ceiling: grpc-js drops anything larger before any handler runs. */
  readonly maxTransportMessageBytes: number;
  readonly maxCategories: number;
  readonly providerTimeoutMs: number;
  readonly deadlineReserveMs: number;
  readonly maxProviderResponseBytes: number;
  readonly maxConcurrentCallsPerAgency: number;
  readonly maxRequestsPerSecondPerAgency: number;
  readonly maxConcurrentStreamsPerConnection: number;
  readonly maxConnectionAgeMs: number;
  readonly queryStreamBatchSize: number;
  /** Connections one agency may hold open at once; a call on one more is refused (TOO_MANY_CONNECTIONS). */
  readonly maxConnectionsPerAgency: number;
  /** HTTP/2 PINGs a peer may send per second on one connection; above it the connection is closed (GOAWAY ENHANCE_YOUR_CALM). */
  readonly maxPingsPerSecondPerConnection: number;
  /** Time a caller has to send its whole request once a call is opened; slower streams are cancelled. */
  readonly requestReceiveTimeoutMs: number;
}

export interface AuditConfig {
  readonly sink: "file" | "kafka";
  readonly file: string;
  readonly keyRing: string;
  readonly suite: "AES-256-GCM" | "SM4-CTR+HMAC-SM3";
  readonly chainState: string;
  readonly kafka?: { readonly brokers: readonly string[]; readonly topic: string; readonly checkpointTopic: string; readonly spoolDir: string; readonly spoolMaxBytes: number };
}

export interface GatewayConfig {
  readonly file: string;
  readonly mode: "development" | "production";
  readonly instance: string;
  readonly trustDomain: string;
  readonly listen: string;
  readonly tls: {
    readonly cert: string;
    readonly key: string;
    readonly ca: string;
    readonly crl?: string | undefined;
    readonly minVersion: "TLSv1.2" | "TLSv1.3";
  };
  readonly policy: { readonly model: string; readonly policy: string; readonly categories: string };
  readonly agencies: readonly AgencyEntry[];
  readonly audit: AuditConfig;
  readonly limits: GatewayLimits;
}

export const DEFAULT_LIMITS: GatewayLimits = Object.freeze({
  maxRequestBytes: 64 * 1024,
  maxTransportMessageBytes: 4 * 1024 * 1024,
  maxCategories: 32,
  providerTimeoutMs: 3_000,
  deadlineReserveMs: 100,
  maxProviderResponseBytes: 16 * 1024 * 1024,
  maxConcurrentCallsPerAgency: 256,
  maxRequestsPerSecondPerAgency: 2_000,
  maxConcurrentStreamsPerConnection: 128,
  maxConnectionAgeMs: 30 * 60_000,
  queryStreamBatchSize: 100,
  maxConnectionsPerAgency: 64,
  maxPingsPerSecondPerConnection: 10,
  requestReceiveTimeoutMs: 10_000,
});

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const AGENCY_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Reads, validates and freezes a gateway config file; relative paths are taken from the file's folder. */
export function loadGatewayConfig(file: string): GatewayConfig {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(file, "", `cannot read: ${(err as Error).message}`);
  }
  return parseGatewayConfig(file, document);
}

export function parseGatewayConfig(file: string, document: unknown): GatewayConfig {
  const base = dirname(resolve(file));
  const at = (p: string) => resolve(base, p);
  const root = new ConfigReader(file, document).object(["mode", "instance", "trustDomain", "listen", "tls", "policy", "agencies", "audit", "limits"]);

  const tls = root.field("tls").object(["cert", "key", "ca", "crl", "minVersion"]);
  const policy = root.field("policy").object(["model", "policy", "categories"]);
  const agencies = root.field("agencies").items().map(parseAgency);
  const ids = new Set<string>();
  for (const [i, a] of agencies.entries()) {
    if (ids.has(a.id)) root.field("agencies").items()[i]!.field("id").fail(`duplicate agency id "${a.id}"`);
    ids.add(a.id);
  }
  const audit = root.field("audit").object(["sink", "file", "keyRing", "suite", "chainState", "kafka"]);
  const sink = audit.field("sink").string({ oneOf: ["file", "kafka"] }) as AuditConfig["sink"];
  const auditFile = at(audit.field("file").string({ default: "audit/audit.log" }));
  let kafka: AuditConfig["kafka"];
  if (sink === "kafka" || audit.has("kafka")) {
    const k = audit.field("kafka").object(["brokers", "topic", "checkpointTopic", "spoolDir", "spoolMaxBytes"]);
    const brokers = k.field("brokers").stringList();
    if (brokers.length === 0) k.field("brokers").fail("needs at least one broker");
    kafka = {
      brokers,
      topic: k.field("topic").string({ default: "credex.audit.v1" }),
      checkpointTopic: k.field("checkpointTopic").string({ default: "credex.audit-checkpoints.v1" }),
      spoolDir: at(k.field("spoolDir").string({ default: "audit/spool" })),
      spoolMaxBytes: k.field("spoolMaxBytes").integer({ default: 256 * 1024 * 1024, min: 1024 }),
    };
  }

  const limits = root.has("limits") ? root.field("limits").object(Object.keys(DEFAULT_LIMITS)) : undefined;
  const limit = (key: keyof GatewayLimits, min: number, max: number) =>
    limits ? limits.field(key).integer({ default: DEFAULT_LIMITS[key], min, max }) : DEFAULT_LIMITS[key];

  const config: GatewayConfig = {
    file,
    mode: root.field("mode").string({ default: "development", oneOf: ["development", "production"] }) as GatewayConfig["mode"],
    instance: root.field("instance").string({ pattern: /^[A-Za-z0-9._-]{1,64}$/ }),
    trustDomain: root.field("trustDomain").string({ pattern: /^[a-z0-9.-]{1,253}$/ }),
    listen: root.field("listen").string({ pattern: HOST_PORT }),
    tls: {
      cert: at(tls.field("cert").string()),
      key: at(tls.field("key").string()),
      ca: at(tls.field("ca").string()),
      crl: tls.has("crl") ? at(tls.field("crl").string()) : undefined,
      minVersion: tls.field("minVersion").string({ default: "TLSv1.3", oneOf: ["TLSv1.2", "TLSv1.3"] }) as "TLSv1.2" | "TLSv1.3",
    },
    policy: {
      model: at(policy.field("model").string()),
      policy: at(policy.field("policy").string()),
      categories: at(policy.field("categories").string()),
    },
    agencies,
    audit: {
      sink,
      file: auditFile,
      keyRing: at(audit.field("keyRing").string()),
      suite: audit.field("suite").string({ default: "AES-256-GCM", oneOf: ["AES-256-GCM", "SM4-CTR+HMAC-SM3"] }) as AuditConfig["suite"],
      chainState: at(audit.field("chainState").string({ default: "audit/chain-state.json" })),
      kafka,
    },
    limits: {
      maxRequestBytes: limit("maxRequestBytes", 1024, 64 * 1024 * 1024),
      maxTransportMessageBytes: limit("maxTransportMessageBytes", 1024, 256 * 1024 * 1024),
      maxCategories: limit("maxCategories", 1, 1024),
      providerTimeoutMs: limit("providerTimeoutMs", 10, 600_000),
      deadlineReserveMs: limit("deadlineReserveMs", 0, 60_000),
      maxProviderResponseBytes: limit("maxProviderResponseBytes", 1024, 1024 * 1024 * 1024),
      maxConcurrentCallsPerAgency: limit("maxConcurrentCallsPerAgency", 1, 1_000_000),
      maxRequestsPerSecondPerAgency: limit("maxRequestsPerSecondPerAgency", 1, 10_000_000),
      maxConcurrentStreamsPerConnection: limit("maxConcurrentStreamsPerConnection", 1, 10_000),
      maxConnectionAgeMs: limit("maxConnectionAgeMs", 1_000, 7 * 24 * 3_600_000),
      queryStreamBatchSize: limit("queryStreamBatchSize", 1, 100_000),
      maxConnectionsPerAgency: limit("maxConnectionsPerAgency", 1, 100_000),
      maxPingsPerSecondPerConnection: limit("maxPingsPerSecondPerConnection", 1, 10_000),
      requestReceiveTimeoutMs: limit("requestReceiveTimeoutMs", 100, 600_000),
    },
  };
  if (config.limits.maxRequestBytes > config.limits.maxTransportMessageBytes) {
    root.field("limits").field("maxRequestBytes").fail("must not exceed maxTransportMessageBytes");
  }
  return deepFreeze(config);
}

function parseAgency(item: ConfigReader): AgencyEntry {
  item.object(["id", "name", "sector", "uscc", "provider", "categories", "clearance", "protectionLevel", "status"]);
  const uscc = item.field("uscc").string();
  const check = validateUscc(uscc);
  if (!check.ok) item.field("uscc").fail(`invalid USCC: ${check.problem}`);
  return {
    id: item.field("id").string({ pattern: AGENCY_ID }),
    name: item.field("name").string(),
    sector: item.field("sector").string({ oneOf: SECTORS }) as Sector,
    uscc,
    providerEndpoint: item.has("provider") ? item.field("provider").string({ pattern: HOST_PORT }) : undefined,
    categories: item.has("categories") ? item.field("categories").stringList() : [],
    clearance: item.field("clearance").integer({ min: 1, max: 4 }),
    protectionLevel: item.field("protectionLevel").integer({ default: 3, min: 1, max: 5 }),
    status: item.field("status").string({ default: "active", oneOf: ["active", "suspended"] }) as AgencyEntry["status"],
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
