import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createKafkaTopics, describeKafkaCluster, waitForKafka } from "../src/adapters/kafka/kafka-admin.js";
import { createKafkaControlChannel } from "../src/adapters/kafka/kafka-control-channel.js";
import { createKafkaAdmin, createKafkaProducer, kafkaErrorCodes } from "../src/adapters/kafka/kafka-client.js";
import { readKafkaTopic, type KafkaRecordRead } from "../src/adapters/kafka/kafka-topic-reader.js";
import { kafkaBrokers } from "./support/kafka.js";

describe("the Kafka broker of the test run", () => {
  const brokers = kafkaBrokers();
  const producer = createKafkaProducer({ brokers, clientId: "credex-broker-test", idempotent: true });

  afterAll(async () => {
    await producer.close();
  });

  it("reaches forked workers both through inject() and through KAFKA_BROKERS", () => {
    expect(inject("kafkaBrokers")).toBe(brokers);
    expect(process.env["KAFKA_BROKERS"]).toBe(brokers);
    expect(brokers).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("answers DescribeCluster with one broker on loopback", async () => {
    const cluster = await describeKafkaCluster(brokers, 10_000);
    expect(cluster.brokers).toEqual([brokers]);
    expect(cluster.clusterId).not.toBe("");
  });

  it("does not create topics on first use (the gateway creates its own)", async () => {
    const topic = `credex-test-absent-${randomUUID()}`;
    const admin = createKafkaAdmin({ brokers });
    try {
      const refused = await producer.send({ messages: [{ topic, value: Buffer.from("x") }] }).then(() => undefined, (err: unknown) => err);
      expect([...kafkaErrorCodes(refused)]).toContain("UNKNOWN_TOPIC_OR_PARTITION");
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.close();
    }
  });

  it("carries one message from an idempotent producer (acks=all) to a reader", async () => {
    const topic = `credex-test-${randomUUID()}`;
    expect(await createKafkaTopics(brokers, [{ topic }])).toEqual([topic]);
    expect(await createKafkaTopics(brokers, [{ topic }])).toEqual([]);

    const value = `hello ${randomUUID()}`;
    const result = await producer.send({ messages: [{ topic, key: "k", value: Buffer.from(value) }] });
    expect(result.offsets).toEqual([{ topic, partition: 0, offset: 0n }]);

    const received: KafkaRecordRead[] = [];
    await readKafkaTopic({ brokers, topic, idleTimeoutMs: 30_000, onRecord: (r) => void received.push(r) });
    expect(received.map((r) => ({ key: r.key, value: r.value.toString(), offset: r.offset }))).toEqual([{ key: "k", value, offset: "0" }]);
  });

  it("connects, writes, reads and follows on Node 24 without a process warning (kafkajs armed timers with a negative delay: TimeoutNegativeWarning)", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      await waitForKafka(brokers, 10_000);
      const topic = `credex-test-warn-${randomUUID()}`;
      await createKafkaTopics(brokers, [{ topic, partitions: 2 }]);
      await producer.send({ messages: [{ topic, key: "k", value: Buffer.from("v") }] });
      await readKafkaTopic({ brokers, topic, onRecord: () => undefined });
      const channel = createKafkaControlChannel({ brokers, topic: `credex-test-warn-control-${randomUUID()}` });
      await channel.publish({ key: "k", value: new Uint8Array([1]) });
      const subscription = await channel.subscribe(() => undefined);
      await subscription.close();
      await channel.close();
      // Warnings are emitted on a later tick.
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it("fail/an unreachable broker: the error names its address and the cause (the officers' tools print it as is)", async () => {
    await expect(readKafkaTopic({ brokers: "127.0.0.1:1", topic: "credex.audit.v1", onRecord: () => undefined })).rejects.toThrow(
      /^Kafka at 127\.0\.0\.1:1: .*Cannot connect to any broker: Connection to 127\.0\.0\.1:1 failed: connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
  });
});
