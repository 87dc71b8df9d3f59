import { fromBinary } from "@bufbuild/protobuf";
import { SealedAuditRecordSchema, type AuditEvent } from "../../src/gen/credex/v1/audit_pb.js";
import { scanKafkaAudit } from "../../src/adapters/kafka/kafka-audit-source.js";
import type { KeyRing } from "../../src/core/audit/key-ring.js";
import { openSealedRecord } from "../../src/core/audit/seal.js";
import type { VerifyEntry } from "../../src/core/audit/verify-chain.js";

/**
 * One gateway instance's share of a Kafka audit stream: its events, decrypted, and its records
 * and the checkpoints as verifier entries. A topic may hold other gateways' chains sealed under
 * other key rings (other test files on the same broker): records are kept by their clear header
 * before they are opened.
 */
export async function readInstanceKafkaAudit(
  source: { readonly brokers: string; readonly topic: string; readonly checkpointTopic: string | null },
  instance: string,
  ring: KeyRing,
): Promise<{ events: AuditEvent[]; entries: VerifyEntry[] }> {
  const events: AuditEvent[] = [];
  const entries: VerifyEntry[] = [];
  await scanKafkaAudit(source, (e) => {
    if (e.kind === "record") {
      const record = fromBinary(SealedAuditRecordSchema, e.bytes);
      if (record.gatewayInstance !== instance) return;
      events.push(openSealedRecord(record, ring));
    }
    if (e.kind === "record" || e.kind === "checkpoint") entries.push({ kind: e.kind, bytes: e.bytes, position: e.position, stream: e.stream });
  });
  return { events, entries };
}
