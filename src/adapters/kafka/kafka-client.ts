import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { Admin, Consumer, Producer, stringSerializer, type BaseOptions } from "@platformatic/kafka";

/**
 * PEM files for Kafka over TLS with a client certificate (mTLS): the CA bundle the brokers'
 * certificates lead to, and this client's certificate (chain) and key. Checked once where they are
 * configured (src/config/kafka-tls-files.ts); read again for every connection (kafkaTlsOptions), so
 * that a renewed certificate (a rotated KafkaUser secret) is used without a restart.
 */
export interface KafkaTlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}


export interface KafkaClientOptions {
  /** Comma-separated host:port list, as in KAFKA_BROKERS. */
  readonly brokers: string;
  readonly clientId?: string;
  /** Bound on a TCP connect to one broker. */
  readonly connectionTimeoutMs?: number;
  /** Bound on one request (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Retries per operation; 0 makes one attempt (used for readiness probes). */
  readonly retries?: number;
  /** Pause before a retry (default 300 ms). */
  readonly retryDelayMs?: number;
  /** Absent: plaintext. Present: every connection is TLS 1.2+ with this client certificate. */
  readonly tls?: KafkaTlsFiles | undefined;
}

/** Splits and checks a KAFKA_BROKERS value ("host:port[,host:port...]"). */
export function parseKafkaBrokers(brokers: string): string[] {
  const list = brokers
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b !== "");
  if (list.length === 0) throw new Error("no Kafka broker given (expected host:port[,host:port...])");
  for (const b of list) {
    const m = /^(.+):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`invalid Kafka broker address "${b}" (expected host:port)`);
  }
  return list;
}

/**
 * The one place credex configures a Kafka client (@platformatic/kafka, BENCHMARKS.md "Kafka
 * client"). Application code outside src/adapters/kafka/ uses the adapters built on this, never
 * the client's types, so that the client can be replaced again. Topics are never created by a
 * produce or a metadata request: the adapters create them with their configs.
 */
function baseOptions(options: KafkaClientOptions, clientId: string): BaseOptions {
  return {
    clientId: options.clientId ?? clientId,
    bootstrapBrokers: parseKafkaBrokers(options.brokers),
    connectTimeout: options.connectionTimeoutMs ?? 3_000,
    // Both: `timeout` is what the broker is told to wait (a produce's acks=all), `requestTimeout`
    // how long the client waits for an answer (a broker that stopped answering, SIGSTOP).
    timeout: options.requestTimeoutMs ?? 30_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retries: options.retries ?? 5,
    retryDelay: options.retryDelayMs ?? 300,
    autocreateTopics: false,
    ...(options.tls && kafkaTlsOptions(options.tls, options.brokers)),
  };
}

/**
 * What the client hands to node:tls connect() for each broker (@platformatic/kafka's `tls`
 * connection option). TLS 1.2 or later (RFC 8996 retired 1.0 and 1.1); the broker's certificate must
 * lead to `ca` and name the host connected to (Node's checkServerIdentity, RFC 6125): neither can be
 * turned off here. SNI is sent when every bootstrap broker is a DNS name (Strimzi's route and ingress
 * listeners route on it); RFC 6066 §3 forbids an IP address as a server name.
 */
export function kafkaTlsOptions(files: KafkaTlsFiles, brokers: string): Pick<BaseOptions, "tls" | "tlsServerName"> {
  const tls: TlsConnectionOptions = { minVersion: "TLSv1.2", rejectUnauthorized: true };
  // The client copies these options ({ ...tls }) for every connection it opens: as getters, the files
  // are read then, so a renewed certificate (Strimzi renews a KafkaUser's before it expires) is used
  // from the next connection on, by clients that live as long as the gateway too.
  for (const which of ["ca", "cert", "key"] as const) Object.defineProperty(tls, which, { enumerable: true, get: () => readFileSync(files[which]) });
  const byName = parseKafkaBrokers(brokers).every((b) => isIP(hostOf(b)) === 0);
  return { tls, ...(byName && { tlsServerName: true }) };
}

function hostOf(broker: string): string {
  return broker.slice(0, broker.lastIndexOf(":")).replace(/^\[|\]$/g, "");
}

/** Bound on the handshake made to explain a failure, and on the wait for the broker's verdict after it. */
const TLS_PROBE_CONNECT_MS = 5_000;
const TLS_PROBE_VERDICT_MS = 1_500;
const NOT_TLS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"]);

/**
 * Why a TLS handshake with `broker` fails, or undefined when it succeeds and the broker keeps the
 * connection. Under TLS 1.3 the broker checks the client certificate after the client has finished
 * its handshake (RFC 8446 §4.4.2.4): its refusal is an alert that arrives afterwards, so the wait.
 */
function probeKafkaTls(broker: string, files: KafkaTlsFiles, brokers: string): Promise<string | undefined> {
  const { tls, tlsServerName } = kafkaTlsOptions(files, brokers);
  const host = hostOf(broker);
  const port = Number(broker.slice(broker.lastIndexOf(":") + 1));
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const socket = tlsConnect({ ...tls, host, port, timeout: TLS_PROBE_CONNECT_MS, ...(tlsServerName && { servername: host }) });
    const done = (why: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    // A broker that is down or unknown is no TLS matter: the client's own error says it already.
    socket.once("error", (e: NodeJS.ErrnoException) => done(NOT_TLS.has(e.code ?? "") ? undefined : tlsReason(e)));
    socket.once("timeout", () => done(undefined));
    socket.once("secureConnect", () => {
      socket.setTimeout(0);
      timer = setTimeout(() => done(undefined), TLS_PROBE_VERDICT_MS);
      socket.once("close", () => done("the broker closed the connection after the handshake"));
    });
  });
}

/** TLS alerts (RFC 8446 §6.2) by which a broker refuses the client's certificate. */
const CLIENT_CERTIFICATE_ALERTS = new Set([42, 43, 44, 45, 46, 48, 116]);

/** One line for a failed handshake: OpenSSL's error string cut to its reason, with what it means for a client certificate. */
function tlsReason(e: NodeJS.ErrnoException): string {
  const openssl = /SSL routines:[^:]*:([^:]+):.*?SSL alert number (\d+)/s.exec(e.message);
  if (!openssl) return `${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ""}`;
  const alert = Number(openssl[2]);
  const hint = CLIENT_CERTIFICATE_ALERTS.has(alert) ? ": the broker does not accept this client certificate (not issued by a CA it trusts, expired, or none)" : "";
  return `the broker sent TLS alert ${alert} (${openssl[1]!.trim()})${hint}`;
}

/**
 * The client reports a refused TLS connection only as "Connection closed" (the broker's alert is
 * not passed on). For a TLS client whose request failed without an answer from Kafka, one handshake
 * by hand with the first broker names the TLS reason: a missing or untrusted client certificate, or
 * a broker certificate that does not lead to `ca` or does not name the host. Otherwise `err` as is.
 */
export async function explainKafkaFailure(err: unknown, options: Pick<KafkaClientOptions, "brokers" | "tls">): Promise<unknown> {
  if (!options.tls || kafkaErrorCodes(err).size > 0) return err;
  const broker = parseKafkaBrokers(options.brokers)[0]!;
  const why = await probeKafkaTls(broker, options.tls, options.brokers).catch(() => undefined);
  if (why === undefined) return err;
  return new Error(`TLS connection to Kafka broker ${broker} refused: ${why} (${kafkaErrorMessage(err)})`, { cause: err });
}

/** kafkaFailure (the brokers named), or when a TLS handshake is what failed, explainKafkaFailure's error. */
export async function kafkaFailureExplained(options: Pick<KafkaClientOptions, "brokers" | "tls">, err: unknown): Promise<unknown> {
  const explained = await explainKafkaFailure(err, options);
  return explained !== err ? explained : kafkaFailure(options.brokers, err);
}

/** Runs `work`; a failure is passed through explainKafkaFailure. */
export async function explainingKafkaFailure<T>(options: Pick<KafkaClientOptions, "brokers" | "tls">, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw await explainKafkaFailure(err, options);
  }
}

export function createKafkaAdmin(options: KafkaClientOptions): Admin {
  return new Admin(baseOptions(options, "credex-admin"));
}

/** Keys and header values are strings, values bytes. */
export type KafkaProducer = Producer<string, Buffer, string, string>;

/**
 * A producer. `idempotent` gives the idempotent producer (KIP-98): acks=all (-1) and one request
 * in flight per connection, so a retry is neither duplicated nor reordered.
 */
export function createKafkaProducer(options: KafkaClientOptions & { readonly idempotent: boolean }): KafkaProducer {
  return new Producer<string, Buffer, string, string>({
    ...baseOptions(options, "credex"),
    idempotent: options.idempotent,
    ...(options.idempotent && { acks: -1, maxInflights: 1 }),
    serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
  });
}

/** A consumer of raw records (key, value and headers as bytes) in a group of its own. */
export function createKafkaConsumer(options: KafkaClientOptions & { readonly groupId: string; readonly maxWaitTimeMs?: number }): Consumer {
  return new Consumer({
    ...baseOptions(options, "credex"),
    groupId: options.groupId,
    autocommit: false,
    // Group members are throwaway readers: a short session lets the broker forget one that died.
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 10_000,
    maxWaitTime: options.maxWaitTimeMs ?? 500,
  });
}

/**
 * The Kafka error codes (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_ALREADY_EXISTS, ...) anywhere in an
 * error the client reported: it nests the broker's answers in aggregate errors and causes.
 */
export function kafkaErrorCodes(err: unknown): Set<string> {
  const codes = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (e: unknown) => {
    if (!e || typeof e !== "object" || seen.has(e)) return;
    seen.add(e);
    const x = e as { apiId?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
    if (typeof x.apiId === "string") codes.add(x.apiId);
    // The client answers a Metadata request for an unknown topic with an error of its own.
    if (typeof x.message === "string" && x.message.startsWith("Unknown topic ")) codes.add("UNKNOWN_TOPIC_OR_PARTITION");
    if (Array.isArray(x.errors)) for (const inner of x.errors) visit(inner);
    visit(x.cause);
  };
  visit(err);
  return codes;
}

/** One line naming what failed and why: the client's message with the broker's answers and causes nested in it. */
export function kafkaErrorMessage(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown) => {
    if (!e || typeof e !== "object" || seen.has(e)) return;
    seen.add(e);
    const x = e as { message?: unknown; serverErrorMessage?: unknown; errors?: unknown; cause?: unknown };
    // Retries repeat the same message: each is said once.
    const message = typeof x.message === "string" ? x.message.replace(/\.$/, "") : "";
    if (message !== "" && !parts.includes(message)) parts.push(message);
    if (typeof x.serverErrorMessage === "string" && x.serverErrorMessage !== "") parts.push(x.serverErrorMessage);
    if (Array.isArray(x.errors)) for (const inner of x.errors) visit(inner);
    visit(x.cause);
  };
  visit(err);
  return parts.length > 0 ? parts.join(": ") : String(err);
}

/**
 * An error of the client as one that names the brokers and carries the broker's answers in its
 * message ("Cannot connect to any broker" alone names no address); credex's own errors pass
 * unchanged. The original stays the cause.
 */
export function kafkaFailure(brokers: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  if (typeof code !== "string" || !code.startsWith("PLT_KFK_")) return err;
  return new Error(`Kafka at ${brokers}: ${kafkaErrorMessage(err)}`, { cause: err });
}
