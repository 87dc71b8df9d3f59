import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openSpecialAccessFile } from "../adapters/special-access/special-access-file.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import type { GatewayParts } from "./gateway.js";
import { loadKeyRing } from "../core/audit/key-ring.js";
import { operatorPseudonym, subjectPseudonym } from "../core/audit/pseudonym.js";
import { createByteSealer, sealSuiteFromName } from "../core/audit/seal.js";
import { createRotatingCheckpointSigner, type CheckpointSigner, type CheckpointTrust } from "../core/audit/checkpoint.js";
import { describePreviousCheckpoint, type ChainRestart } from "../core/audit/chain-restart.js";
import { gatewayCheckpointTrust } from "../adapters/audit/gateway-checkpoint-trust.js";
import { createFileAuditSink } from "../adapters/audit/file-audit-sink.js";
import { fileAuditHistory } from "../adapters/audit/file-audit-history.js";
import { fileSealedAuditScan, kafkaSealedAuditScan } from "../adapters/audit/sealed-audit-scan.js";
import { subjectQueryHistory } from "../core/subject-queries/subject-query-history.js";
import { createKafkaAuditSink } from "../adapters/kafka/kafka-audit-sink.js";
import { createPolicyAuthorizer } from "../adapters/casbin/create-policy-authorizer.js";
import type { AuditSink } from "../core/audit-sink.js";

export interface GatewayStartOptions {
  /**
   * `credex gateway start --new-audit-chain`: when the audit chain state is refused (missing
   * while the log or topic holds the chain, failing its key check, not matching), start an
   * announced new chain and raise an incident instead of refusing to start.
   */
  readonly newAuditChain?: boolean;
}

/** The authorizer, audit sink and pseudonymizer a gateway builds from its validated config. */
export async function buildGatewayParts(config: GatewayConfig, extra: Partial<GatewayParts> = {}, options: GatewayStartOptions = {}): Promise<GatewayParts> {
  const keyRing = await loadKeyRing(config.audit.keyRing);
  const authorizer = extra.authorizer ?? (await createPolicyAuthorizer({ modelPath: config.policy.model, policyPath: config.policy.policy, agencies: config.agencies }));
  let checkpointSigner = extra.checkpointSigner;
  let auditSink = extra.auditSink;
  if (!auditSink) {
    // Checkpoints are signed with the gateway's own TLS key, so officers verify them with its
    // certificate (or through the CA: checkpoints carry it); the gateway switches it with each reload.
    checkpointSigner ??= createRotatingCheckpointSigner({ privateKeyPem: readFileSync(config.tls.key, "utf8"), certificatePem: readFileSync(config.tls.cert, "utf8") });
    const sink = await buildAuditSink(config, keyRing, checkpointSigner, await gatewayCheckpointTrust(config), options.newAuditChain === true);
    if (sink.restart) {
      extra.logger?.warn("audit chain restarted: a new chain was started because the chain state was refused", {
        instance: config.instance,
        sequence: sink.restart.sequence.toString(),
        reason: sink.restart.reason,
        previous_checkpoint: describePreviousCheckpoint(sink.restart.previousCheckpoint),
        refused_chain_state: sink.restart.refusedStateKeptAs,
      });
      extra.onAuditChainRestart?.(sink.restart);
    } else if (options.newAuditChain) {
      extra.logger?.info("--new-audit-chain: the chain state is sound, the chain continues (no new chain started)", { instance: config.instance });
    }
    auditSink = sink;
  }
  return {
    ...extra,
    ...(checkpointSigner && { checkpointSigner }),
    authorizer,
    auditSink,
    pseudonymize: extra.pseudonymize ?? ((type, id) => subjectPseudonym(keyRing.pseudonymKey, type, id)),
    pseudonymizeOperator: extra.pseudonymizeOperator ?? ((agency, operator) => operatorPseudonym(keyRing.pseudonymKey, agency, operator)),
    // List entries name their subjects: sealed at rest with the audit key ring, under keys of their own.
    listSealer: extra.listSealer ?? createByteSealer(keyRing, sealSuiteFromName(config.audit.suite), "lists"),
    // The owners' written answers to objections, kept for the filers: sealed at rest the same way.
    objectionSealer: extra.objectionSealer ?? createByteSealer(keyRing, sealSuiteFromName(config.audit.suite), "objections"),
    // The file sink's log is read back at start (who received which record: standing to object).
    // A Kafka-audited gateway starts without it: the fleet-wide state is a later step (docs/lists-and-objections.md).
    ...(!extra.auditHistory && !extra.auditSink && config.audit.sink === "file" ? { auditHistory: fileAuditHistory(config.audit.file, keyRing) } : {}),
    // A subject's query history (Art. 22; PIPL Art. 45) is read from the audit the gateway writes: the
    // file, or the topic every replica of the fleet writes to. Only records carrying the subject's tag are opened.
    ...(!extra.queryHistory && !extra.auditSink
      ? {
          queryHistory: (subjectPseudonym: string, from: Date, now: Date, limit: number) =>
            subjectQueryHistory({
              scan: config.audit.sink === "kafka" ? kafkaSealedAuditScan({ brokers: config.audit.kafka!.brokers.join(","), topic: config.audit.kafka!.topic }) : fileSealedAuditScan(config.audit.file),
              ring: keyRing,
              subjectPseudonym,
              from,
              now,
              limit,
            }),
        }
      : {}),
    // Kept beside the audit chain state: both are the gateway's durable local state.
    specialAccess: extra.specialAccess ?? openSpecialAccessFile(join(dirname(config.audit.chainState), "special-access.json")),
  };
}

async function buildAuditSink(
  config: GatewayConfig,
  keyRing: Awaited<ReturnType<typeof loadKeyRing>>,
  checkpointSigner: CheckpointSigner,
  trust: CheckpointTrust,
  newChain: boolean,
): Promise<AuditSink & { readonly restart: ChainRestart | undefined }> {
  if (config.audit.sink === "kafka") {
    const kafka = config.audit.kafka!;
    return createKafkaAuditSink({
      brokers: kafka.brokers.join(","),
      tls: config.kafka?.tls,
      keyRing,
      suite: config.audit.suite,
      instance: config.instance,
      chainStatePath: config.audit.chainState,
      spoolPath: kafka.spoolFile,
      spoolMaxRecords: kafka.spoolMaxRecords,
      topic: kafka.topic,
      checkpointTopic: kafka.checkpointTopic,
      checkpointSigner,
      production: config.mode === "production",
      createTopics: kafka.createTopics,
      trust,
      newChain,
    });
  }
  return createFileAuditSink({
    path: config.audit.file,
    keyRing,
    suite: config.audit.suite,
    instance: config.instance,
    chainStatePath: config.audit.chainState,
    checkpointSigner,
    trust,
    newChain,
  });
}
