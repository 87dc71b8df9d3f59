import { inject } from "vitest";
import { createKafkaProducer } from "../../src/adapters/kafka/kafka-client.js";

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

/**
 * Produces records as anyone with write access to a topic could (a plain producer, not the
 * gateway's): for tests that plant, forge or overwrite records. A null value is a tombstone.
 * Resolves to the base offset of each partition written, in the order the broker answered.
 */
export async function produceRaw(brokers: string, topic: string, messages: ReadonlyArray<{ key?: string; value: Uint8Array | string | null }>): Promise<Array<{ partition: number; baseOffset: bigint }>> {
  const producer = createKafkaProducer({ brokers, clientId: "credex-test-writer", idempotent: false });
  try {
    const result = await producer.send({
      acks: -1,
      messages: messages.map((m) => ({
        topic,
        ...(m.key !== undefined && { key: m.key }),
        ...(m.value !== null && { value: typeof m.value === "string" ? Buffer.from(m.value, "utf8") : Buffer.from(m.value) }),
      })),
    });
    return (result.offsets ?? []).filter((o) => o.topic === topic).map((o) => ({ partition: o.partition, baseOffset: o.offset }));
  } finally {
    await producer.close();
  }
}
