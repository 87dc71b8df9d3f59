import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createKafkaTopics, describeKafkaCluster } from "../src/adapters/kafka/kafka-admin.js";
import { createKafkaClient } from "../src/adapters/kafka/kafka-client.js";
import { kafkaBrokers } from "./support/kafka.js";

describe("the Kafka broker of the test run", () => {
  const brokers = kafkaBrokers();
  const kafka = createKafkaClient({ brokers, clientId: "credex-broker-test" });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `credex-broker-test-${randomUUID()}` });

  afterAll(async () => {
    await producer.disconnect();
    await consumer.disconnect();
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
    const admin = kafka.admin();
    await admin.connect();
    try {
      await producer.connect();
      await expect(producer.send({ topic, acks: -1, messages: [{ value: "x" }] })).rejects.toThrow(/does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/i);
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });

  it("carries one message from an idempotent producer to a consumer group", async () => {
    const topic = `credex-test-${randomUUID()}`;
    expect(await createKafkaTopics(brokers, [{ topic }])).toEqual([topic]);
    expect(await createKafkaTopics(brokers, [{ topic }])).toEqual([]);

    const value = `hello ${randomUUID()}`;
    await producer.connect();
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: "k", value }] });
    expect(meta?.errorCode).toBe(0);

    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = await new Promise<{ key: string; value: string; offset: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within 30 s`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve({ key: message.key?.toString() ?? "", value: message.value?.toString() ?? "", offset: message.offset });
        },
      });
    });
    expect(received).toEqual({ key: "k", value, offset: "0" });
  });
});
