import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { GatewayConfig } from "../config/gateway-config.js";
import type { AuditSink } from "../core/audit-sink.js";
import { createCheckpointSigner } from "../core/audit/checkpoint.js";
import { loadKeyRing } from "../core/audit/key-ring.js";

export interface BenchKafkaSinkArgs {
  readonly brokers: string;
  readonly config: GatewayConfig;
  readonly instance: string;
  readonly topic: string;
  readonly checkpointTopic: string;
  /** The gateway's own directory (chain state and spool go to <dir>/audit). */
  readonly dir: string;
}

/** Builds the Kafka audit sink; pluggable so the harness runs where no Kafka sink is built in. */
export type KafkaSinkFactory = (args: BenchKafkaSinkArgs) => Promise<AuditSink>;

/** The Kafka sink as a gateway builds it (acks=all, group commit, checkpoints signed with its key), on the run's own topics. */
export const createBenchKafkaSink: KafkaSinkFactory = async ({ brokers, config, instance, topic, checkpointTopic, dir }) => {
  // Loaded only when asked, so runs without Kafka never load the Kafka client.
  const { createKafkaAuditSink } = await import("../adapters/kafka/kafka-audit-sink.js");
  return createKafkaAuditSink({
    brokers,
    keyRing: await loadKeyRing(config.audit.keyRing),
    suite: config.audit.suite,
    instance,
    chainStatePath: join(dir, "audit", "chain-state.json"),
    spoolPath: join(dir, "audit", "spool"),
    topic,
    checkpointTopic,
    checkpointSigner: createCheckpointSigner({ privateKeyPem: readFileSync(config.tls.key, "utf8"), certificatePem: readFileSync(config.tls.cert, "utf8") }),
    partitions: 3,
  });
};
