import { Kafka, logLevel as kafkajsLogLevel } from "kafkajs";

/** How much kafkajs may log; "nothing" by default so tests and the CLI stay readable. */
export type KafkaLogLevel = "nothing" | "error" | "warn" | "info" | "debug";

export interface KafkaClientOptions {
  /** Comma-separated host:port list, as in KAFKA_BROKERS. */
  readonly brokers: string;
  readonly clientId?: string;
  readonly logLevel?: KafkaLogLevel;
  /** Bound on a TCP connect to one broker. */
  readonly connectionTimeoutMs?: number;
  /** Bound on one request (kafkajs default 30 s). */
  readonly requestTimeoutMs?: number;
  /** kafkajs retries per operation; 0 makes one attempt (used for readiness probes). */
  readonly retries?: number;
}

const LEVELS: Record<KafkaLogLevel, kafkajsLogLevel> = {
  nothing: kafkajsLogLevel.NOTHING,
  error: kafkajsLogLevel.ERROR,
  warn: kafkajsLogLevel.WARN,
  info: kafkajsLogLevel.INFO,
  debug: kafkajsLogLevel.DEBUG,
};

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
 * The one place credex configures a kafkajs client. kafkajs is unmaintained
 * (TOOLCHAIN.md), so application code outside src/adapters/kafka/ uses the
 * adapters built on this, never kafkajs types, and a successor can replace it.
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId ?? "credex",
    brokers: parseKafkaBrokers(options.brokers),
    logLevel: LEVELS[options.logLevel ?? "nothing"],
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { retries: options.retries ?? 5 },
  });
}
