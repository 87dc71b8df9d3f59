import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** host:port list of the broker test/setup/kafka-global-setup.ts started or was given. */
    kafkaBrokers: string;
  }
}

/**
 * The Kafka broker for integration tests: the one the global setup provided,
 * else $KAFKA_BROKERS. Throws rather than letting a test skip silently.
 */
export function kafkaBrokers(): string {
  const provided = inject("kafkaBrokers");
  if (typeof provided === "string" && provided !== "") return provided;
  const env = process.env["KAFKA_BROKERS"];
  if (env !== undefined && env !== "") return env;
  throw new Error(
    "no Kafka broker for this test: run it through vitest with test/setup/kafka-global-setup.ts (vitest.config.ts, project \"integration\") or set KAFKA_BROKERS",
  );
}
