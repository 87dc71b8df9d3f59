import { readFileSync } from "node:fs";
import { DEFAULT_DECLARED_PROTECTION_LEVEL } from "../core/protection-level.js";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError, ConfigReader, type ConfigKeyUse } from "./config-reader.js";
import { SECTORS, type Sector } from "../core/catalogue.js";
import { sectorRights } from "../core/sector-rights.js";
import { AGENCY_ROLES, type AgencyEntry, type AgencyRole } from "../core/registry.js";
import { validateUscc } from "../core/identifiers/uscc.js";
import { parseAdminConfig, parseIncidentsConfig, type AdminConfig, type IncidentsConfig } from "./incidents-config.js";
import { checkKafkaTlsFiles, KafkaTlsFileError, type KafkaTlsFiles } from "./kafka-tls-files.js";

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
  readonly kafka?: {
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly checkpointTopic: string;
    /** Append-only fsync'd spool used while Kafka is unreachable. */
    readonly spoolFile: string;
    /** Beyond this many spooled records the gateway fails closed (AUDIT_SPOOL_FULL). */
    readonly spoolMaxRecords: number;
    /** Create missing audit topics at start (retention ≥ 180 days). */
    readonly createTopics: boolean;
  };
}

/** Metrics, traces, logs and the periodic posture check (docs/observability.md). */
export interface ObservabilityConfig {
  /** host:port of the HTTP listener serving GET /metrics (Prometheus text format). */
  readonly metricsListen: string;
  /** OTLP/HTTP traces endpoint; spans are exported only when set. */
  readonly otlpEndpoint?: string | undefined;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /** Level of the per-exchange log line for exchanges that succeeded (refusals always log at info). */
  readonly exchangeLogLevel: "debug" | "info";
  /** Security protection level declared for this system (GB/T 22239-2019, 1..5). */
  readonly postureLevel: number;
  /** Interval of the in-gateway posture check; 0 turns it off. */
  readonly postureIntervalMs: number;
}
/**
 * The plain-HTTP health listener for orchestrators (GET /healthz: the process answers;
 * GET /readyz: it serves exchanges). Its own port, apart from the mTLS listeners, because a
 * kubelet or load balancer probes without a client certificate; it tells nothing but status.
 */
export interface HealthConfig {
  /** host:port; 127.0.0.1 by default: a Kubernetes probe needs the pod's address (0.0.0.0), set on purpose. */
  readonly listen: string;
  /** How long SIGTERM waits for exchanges in flight to finish before it cuts them off. */
  readonly drainMs: number;
}

export type ControlConfig =
  | { readonly kind: "kafka"; readonly brokers: readonly string[]; readonly topic: string }
  | { readonly kind: "file"; readonly file: string };
/** Joint reward and punishment lists (docs/lists-and-objections.md). */
export interface ListsConfig {
  /** "kafka" when a lists.kafka section (or audit.kafka brokers) is configured, else the embedded "file" log. */
  readonly log: "file" | "kafka";
  readonly file: string;
  readonly kafka?: { readonly brokers: readonly string[]; readonly topic: string; readonly partitions: number };
  readonly maxEntriesPerPublish: number;
  readonly deliveryBatchSize: number;
  readonly maxSubscriptionsPerAgency: number;
}

/** The public disclosure feed and site (docs/disclosure.md). */
export interface DisclosureConfig {
  /** "kafka" when a disclosure.kafka section (or audit.kafka brokers) is configured, else the embedded "file" log. */
  readonly log: "file" | "kafka";
  readonly file: string;
  readonly kafka?: { readonly brokers: readonly string[]; readonly topic: string; readonly partitions: number };
  readonly maxEntriesPerPublish: number;
  /** The public site (`credex disclosure serve`): loopback listener, page size, per-client-IP rate. */
  readonly site: { readonly listen: string; readonly pageSize: number; readonly requestsPerMinute: number };
}

/** Objections (Credit Investigation Regulation Art. 25). */
export interface ObjectionsConfig {
  /** JSON state file in the gateway's data dir. */
  readonly stateFile: string;
  readonly answerDays: number;
  /** How often the 20-day deadline is checked. */
  readonly checkIntervalMs: number;
  /** How long receiving a record in an audited exchange gives an agency standing to object to it. */
  readonly receiptDays: number;
  /** Most receipts (agency, record, subject) the gateway holds for standing; the oldest go first. */
  readonly maxReceipts: number;
  /** Statutory rest days ("YYYY-MM-DD", China time): a deadline ending on one moves to the next working day (Civil Code Art. 203). */
  readonly restDays: readonly string[];
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
    /** CRL files (the root's and the issuing CA's: Node checks the whole chain); empty: no CRL. */
    readonly crl: readonly string[];
    readonly minVersion: "TLSv1.2" | "TLSv1.3";
    /** Reload when the certificate, key, CA bundle or CRL files change (default true). */
    readonly watch: boolean;
  };
  /** The signed control topic (revocations now; policy bundles and suspensions later). */
  readonly control?: ControlConfig | undefined;
  readonly policy: {
    readonly model: string;
    readonly policy: string;
    readonly categories: string;
    readonly lists: string;
    /** Statutory exemptions from consent (default: exemptions.yaml beside the catalogue; a missing file means none). */
    readonly exemptions: string;
    /** Publicity periods of the disclosure feed (default: disclosure.yaml beside the catalogue). */
    readonly disclosure: string;
  };
  readonly agencies: readonly AgencyEntry[];
  readonly audit: AuditConfig;
  readonly limits: GatewayLimits;
  /** Present when the config has an `observability` section. */
  readonly observability?: ObservabilityConfig | undefined;
  readonly incidents: IncidentsConfig;
  /** The GatewayAdmin listener; absent: no admin API. */
  readonly admin?: AdminConfig | undefined;
  readonly lists: ListsConfig;
  readonly objections: ObjectionsConfig;
  /** Present when the config has a `health` section. */
  readonly health?: HealthConfig | undefined;
  readonly disclosure: DisclosureConfig;
  /** What every Kafka connection of the gateway shares (audit, control, incidents, lists); absent: plaintext. */
  readonly kafka?: { readonly tls?: KafkaTlsFiles | undefined } | undefined;
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
/**
 * Kafka's legal topic characters; at most 200 of them (Kafka allows 249) so that the
 * Kafka audit sink's chain state, which records the topic, fits its 512-byte slot.
 */
const AUDIT_TOPIC_NAME = /^[A-Za-z0-9._-]{1,200}$/;
const AGENCY_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * Reads, validates and freezes a gateway config file; relative paths are taken from the file's folder.
 * `overrides.instance` replaces the file's `instance` before validation: replicas that share one
 * config file (a Kubernetes ConfigMap) each name their own audit chain, e.g. after their pod.
 */
export function loadGatewayConfig(file: string, overrides: { readonly instance?: string | undefined } = {}): GatewayConfig {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(file, "", `cannot read: ${(err as Error).message}`);
  }
  if (overrides.instance !== undefined && document !== null && typeof document === "object" && !Array.isArray(document)) {
    document = { ...(document as Record<string, unknown>), instance: overrides.instance };
  }
  return parseGatewayConfig(file, document);
}

export function parseGatewayConfig(file: string, document: unknown, observe?: (use: ConfigKeyUse) => void): GatewayConfig {
  const base = dirname(resolve(file));
  const at = (p: string) => resolve(base, p);
  const root = new ConfigReader(file, document, "", observe).object(["mode", "instance", "trustDomain", "listen", "tls", "policy", "agencies", "audit", "limits", "observability", "control", "incidents", "admin", "lists", "objections", "health", "disclosure", "kafka"]);

  const tls = root.field("tls").object(["cert", "key", "ca", "crl", "minVersion", "watch", "renew"]);
  // A single CRL file stays accepted; a list is what Node needs for a two-level chain.
  const crl = !tls.has("crl") ? [] : typeof tls.field("crl").value === "string" ? [tls.field("crl").string()] : tls.field("crl").stringList();
  if (tls.has("renew")) {
    // The issuing CA's key never enters the gateway process: a gateway that could
    // renew itself from the CA directory could issue any identity. Renewal is the operator's step.
    tls.field("renew").fail(
      "the gateway no longer renews its own certificate and never reads the CA directory or its key: remove this key and renew on the CA host with `credex pki renew gateway --install-cert <tls.cert> --install-key <tls.key>` (README, Rotating and revoking certificates, step 8); the gateway loads the new files when they change",
    );
  }
  let control: ControlConfig | undefined;
  if (root.has("control")) {
    const c = root.field("control").object(["kafka", "file"]);
    if (c.has("kafka") === c.has("file")) c.fail("give exactly one of kafka or file");
    if (c.has("kafka")) {
      const k = c.field("kafka").object(["brokers", "topic"]);
      const brokers = k.field("brokers").stringList();
      if (brokers.length === 0) k.field("brokers").fail("needs at least one broker");
      control = { kind: "kafka", brokers, topic: k.field("topic").string({ default: "credex.control.v1" }) };
    } else {
      control = { kind: "file", file: at(c.field("file").string()) };
    }
  }
  const policy = root.field("policy").object(["model", "policy", "categories", "lists", "exemptions", "disclosure"]);
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
    const k = audit.field("kafka").object(["brokers", "topic", "checkpointTopic", "spoolFile", "spoolMaxRecords", "createTopics"]);
    const brokers = k.field("brokers").stringList();
    if (brokers.length === 0) k.field("brokers").fail("needs at least one broker");
    kafka = {
      brokers,
      topic: k.field("topic").string({ default: "credex.audit.v1", pattern: AUDIT_TOPIC_NAME }),
      checkpointTopic: k.field("checkpointTopic").string({ default: "credex.audit-checkpoints.v1", pattern: AUDIT_TOPIC_NAME }),
      spoolFile: at(k.field("spoolFile").string({ default: "audit/spool.log" })),
      spoolMaxRecords: k.field("spoolMaxRecords").integer({ default: 100_000, min: 1 }),
      createTopics: k.field("createTopics").boolean(true),
    };
  }

  const limits = root.has("limits") ? root.field("limits").object(Object.keys(DEFAULT_LIMITS)) : undefined;
  const limit = (key: keyof GatewayLimits, min: number, max: number) =>
    limits ? limits.field(key).integer({ default: DEFAULT_LIMITS[key], min, max }) : DEFAULT_LIMITS[key];

  let observability: ObservabilityConfig | undefined;
  if (root.has("observability")) {
    const o = root.field("observability").object(["metricsListen", "otlpEndpoint", "logLevel", "exchangeLogLevel", "postureLevel", "postureIntervalMs"]);
    observability = {
      metricsListen: o.field("metricsListen").string({ default: "127.0.0.1:0", pattern: HOST_PORT }),
      otlpEndpoint: o.has("otlpEndpoint") ? o.field("otlpEndpoint").string({ pattern: /^https?:\/\/[^\s]+$/ }) : undefined,
      logLevel: o.field("logLevel").string({ default: "info", oneOf: ["debug", "info", "warn", "error"] }) as ObservabilityConfig["logLevel"],
      exchangeLogLevel: o.field("exchangeLogLevel").string({ default: "info", oneOf: ["debug", "info"] }) as ObservabilityConfig["exchangeLogLevel"],
      postureLevel: o.field("postureLevel").integer({ default: 3, min: 1, max: 5 }),
      postureIntervalMs: o.field("postureIntervalMs").integer({ default: 300_000, min: 0, max: 24 * 3_600_000 }),
    };
    if (observability.postureIntervalMs > 0 && observability.postureIntervalMs < 1_000) o.field("postureIntervalMs").fail("must be 0 (off) or at least 1000");
  }

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
      crl: crl.map(at),
      minVersion: tls.field("minVersion").string({ default: "TLSv1.3", oneOf: ["TLSv1.2", "TLSv1.3"] }) as "TLSv1.2" | "TLSv1.3",
      watch: tls.has("watch") ? tls.field("watch").boolean() : true,
    },
    control,
    policy: {
      model: at(policy.field("model").string()),
      policy: at(policy.field("policy").string()),
      categories: at(policy.field("categories").string()),
      lists: policy.has("lists") ? at(policy.field("lists").string()) : resolve(dirname(at(policy.field("categories").string())), "lists.yaml"),
      exemptions: policy.has("exemptions") ? at(policy.field("exemptions").string()) : resolve(dirname(at(policy.field("categories").string())), "exemptions.yaml"),
      disclosure: policy.has("disclosure") ? at(policy.field("disclosure").string()) : resolve(dirname(at(policy.field("categories").string())), "disclosure.yaml"),
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
    observability,
    incidents: parseIncidentsConfig(root.has("incidents") ? root.field("incidents") : undefined, base),
    admin: root.has("admin") ? parseAdminConfig(root.field("admin"), at, root.field("mode").string({ default: "development" }) as GatewayConfig["mode"]) : undefined,
    lists: parseListsConfig(root, at, kafka?.brokers),
    objections: parseObjectionsConfig(root, at),
    health: root.has("health") ? parseHealthConfig(root.field("health")) : undefined,
    disclosure: parseDisclosureConfig(root, at, kafka?.brokers),
    kafka: root.has("kafka") ? parseKafkaConfig(root.field("kafka"), at) : undefined,
  };
  if (config.limits.maxRequestBytes > config.limits.maxTransportMessageBytes) {
    root.field("limits").field("maxRequestBytes").fail("must not exceed maxTransportMessageBytes");
  }
  return deepFreeze(config);
}

function parseListsConfig(root: ConfigReader, at: (p: string) => string, auditBrokers: readonly string[] | undefined): ListsConfig {
  const section = root.has("lists") ? root.field("lists").object(["log", "file", "kafka", "maxEntriesPerPublish", "deliveryBatchSize", "maxSubscriptionsPerAgency"]) : undefined;
  let kafka: ListsConfig["kafka"];
  if (section?.has("kafka")) {
    const k = section.field("kafka").object(["brokers", "topic", "partitions"]);
    const brokers = k.has("brokers") ? k.field("brokers").stringList() : [...(auditBrokers ?? [])];
    if (brokers.length === 0) k.field("brokers").fail("needs at least one broker (or an audit.kafka section to share)");
    kafka = { brokers, topic: k.field("topic").string({ default: "credex.lists.v1" }), partitions: k.field("partitions").integer({ default: 3, min: 1, max: 1024 }) };
  } else if (auditBrokers && auditBrokers.length > 0) {
    kafka = { brokers: [...auditBrokers], topic: "credex.lists.v1", partitions: 3 };
  }
  const log = (section?.has("log") ? section.field("log").string({ oneOf: ["file", "kafka"] }) : kafka ? "kafka" : "file") as ListsConfig["log"];
  if (log === "kafka" && !kafka) section!.field("log").fail('"kafka" needs a lists.kafka section with brokers');
  return {
    log,
    file: at(section?.has("file") ? section.field("file").string() : "lists/credex.lists.v1.log"),
    kafka,
    maxEntriesPerPublish: section?.has("maxEntriesPerPublish") ? section.field("maxEntriesPerPublish").integer({ min: 1, max: 10_000 }) : 500,
    deliveryBatchSize: section?.has("deliveryBatchSize") ? section.field("deliveryBatchSize").integer({ min: 1, max: 10_000 }) : 500,
    maxSubscriptionsPerAgency: section?.has("maxSubscriptionsPerAgency") ? section.field("maxSubscriptionsPerAgency").integer({ min: 1, max: 1_000 }) : 8,
  };
}

/** Default health listener: loopback only; a probe from outside the host is opted into with an explicit address. */
export const DEFAULT_HEALTH_LISTEN = "127.0.0.1:8080";

function parseHealthConfig(field: ConfigReader): HealthConfig {
  const h = field.object(["listen", "drainMs"]);
  return {
    listen: h.field("listen").string({ default: DEFAULT_HEALTH_LISTEN, pattern: HOST_PORT }),
    drainMs: h.field("drainMs").integer({ default: 10_000, min: 0, max: 600_000 }),
  };
}

function parseDisclosureConfig(root: ConfigReader, at: (p: string) => string, auditBrokers: readonly string[] | undefined): DisclosureConfig {
  const section = root.has("disclosure") ? root.field("disclosure").object(["log", "file", "kafka", "maxEntriesPerPublish", "site"]) : undefined;
  let kafka: DisclosureConfig["kafka"];
  if (section?.has("kafka")) {
    const k = section.field("kafka").object(["brokers", "topic", "partitions"]);
    const brokers = k.has("brokers") ? k.field("brokers").stringList() : [...(auditBrokers ?? [])];
    if (brokers.length === 0) k.field("brokers").fail("needs at least one broker (or an audit.kafka section to share)");
    kafka = { brokers, topic: k.field("topic").string({ default: "credex.disclosure.v1" }), partitions: k.field("partitions").integer({ default: 3, min: 1, max: 1024 }) };
  } else if (auditBrokers && auditBrokers.length > 0) {
    kafka = { brokers: [...auditBrokers], topic: "credex.disclosure.v1", partitions: 3 };
  }
  const log = (section?.has("log") ? section.field("log").string({ oneOf: ["file", "kafka"] }) : kafka ? "kafka" : "file") as DisclosureConfig["log"];
  if (log === "kafka" && !kafka) section!.field("log").fail('"kafka" needs a disclosure.kafka section with brokers');
  const site = section?.has("site") ? section.field("site").object(["listen", "pageSize", "requestsPerMinute"]) : undefined;
  const listen = site?.has("listen") ? site.field("listen").string() : "127.0.0.1:8088";
  // A public site on this machine binds loopback only; a reverse proxy publishes it.
  if (!/^127\.0\.0\.1:\d{1,5}$/.test(listen)) site!.field("listen").fail("must be 127.0.0.1:<port> (loopback only)");
  return {
    log,
    file: at(section?.has("file") ? section.field("file").string() : "disclosure/credex.disclosure.v1.log"),
    kafka,
    maxEntriesPerPublish: section?.has("maxEntriesPerPublish") ? section.field("maxEntriesPerPublish").integer({ min: 1, max: 10_000 }) : 500,
    site: {
      listen,
      pageSize: site?.has("pageSize") ? site.field("pageSize").integer({ min: 1, max: 200 }) : 20,
      requestsPerMinute: site?.has("requestsPerMinute") ? site.field("requestsPerMinute").integer({ min: 1, max: 100_000 }) : 120,
    },
  };
}

/**
 * kafka.tls: one client certificate for every Kafka connection the gateway makes (audit sink,
 * control channel, incidents, list log); the files are checked here, once.
 */
function parseKafkaConfig(section: ConfigReader, at: (p: string) => string): NonNullable<GatewayConfig["kafka"]> {
  section.object(["tls"]);
  if (!section.has("tls")) return {};
  const t = section.field("tls").object(["ca", "cert", "key"]);
  const files: KafkaTlsFiles = { ca: at(t.field("ca").string()), cert: at(t.field("cert").string()), key: at(t.field("key").string()) };
  try {
    checkKafkaTlsFiles(files);
  } catch (err) {
    if (err instanceof KafkaTlsFileError) t.field(err.which).fail(err.message);
    throw err;
  }
  return { tls: files };
}

function parseObjectionsConfig(root: ConfigReader, at: (p: string) => string): ObjectionsConfig {
  const section = root.has("objections") ? root.field("objections").object(["stateFile", "answerDays", "checkIntervalMs", "receiptDays", "maxReceipts", "restDays"]) : undefined;
  return {
    stateFile: at(section?.has("stateFile") ? section.field("stateFile").string() : "objections/objections.json"),
    answerDays: section?.has("answerDays") ? section.field("answerDays").integer({ min: 1, max: 20 }) : 20,
    checkIntervalMs: section?.has("checkIntervalMs") ? section.field("checkIntervalMs").integer({ min: 1_000, max: 86_400_000 }) : 3_600_000,
    // 180 days: the audit's own minimum retention (Cybersecurity Law Art. 21); standing rests on what the audit shows.
    receiptDays: section?.has("receiptDays") ? section.field("receiptDays").integer({ min: 1, max: 3_650 }) : 180,
    maxReceipts: section?.has("maxReceipts") ? section.field("maxReceipts").integer({ min: 1_000, max: 100_000_000 }) : 500_000,
    restDays: section?.has("restDays")
      ? section
          .field("restDays")
          .items()
          .map((item) => {
            const day = item.string({ pattern: /^\d{4}-\d{2}-\d{2}$/ });
            // Only a day that round-trips is a calendar day (no 2026-02-30, no 2026-13-01).
            const parsed = new Date(`${day}T00:00:00Z`);
            if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day) item.fail(`"${day}" is not a calendar day`);
            return day;
          })
      : [],
  };
}

function parseAgency(item: ConfigReader): AgencyEntry {
  item.object(["id", "name", "sector", "uscc", "provider", "categories", "clearance", "protectionLevel", "status", "roles"]);
  const uscc = item.field("uscc").string();
  const check = validateUscc(uscc);
  if (!check.ok) item.field("uscc").fail(`invalid USCC: ${check.problem}`);
  const sector = item.field("sector").string({ oneOf: SECTORS }) as Sector;
  // The gateway caps every exchange at the sector's bound anyway (authorize); a registry
  // entry claiming more is a mistake to name at load, not a grant.
  const maxLevel = sectorRights(sector).maxLevel;
  const clearance = item.field("clearance").integer({ min: 1, max: 4 });
  if (clearance > maxLevel) item.field("clearance").fail(`a ${sector} member never receives more than level ${maxLevel} (got ${clearance}): ${sectorRights(sector).basis}`);
  return {
    id: item.field("id").string({ pattern: AGENCY_ID }),
    name: item.field("name").string(),
    sector,
    uscc,
    providerEndpoint: item.has("provider") ? item.field("provider").string({ pattern: HOST_PORT }) : undefined,
    categories: item.has("categories") ? item.field("categories").stringList() : [],
    clearance,
    protectionLevel: item.field("protectionLevel").integer({ default: DEFAULT_DECLARED_PROTECTION_LEVEL, min: 1, max: 5 }),
    status: item.field("status").string({ default: "active", oneOf: ["active", "suspended"] }) as AgencyEntry["status"],
    roles: item.has("roles") ? parseRoles(item.field("roles")) : [],
  };
}

/** Registry roles (src/core/registry.ts AGENCY_ROLES), each known and listed once. */
function parseRoles(field: ConfigReader): AgencyRole[] {
  const roles = field.stringList();
  for (const role of roles) if (!(AGENCY_ROLES as readonly string[]).includes(role)) field.fail(`unknown role "${role}" (known: ${AGENCY_ROLES.join(", ")})`);
  if (new Set(roles).size !== roles.length) field.fail("lists a role twice");
  return roles as AgencyRole[];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
