import { existsSync } from "node:fs";
import type { SealedAuditRecord } from "../../gen/credex/v1/audit_pb.js";
import type { SealedAuditScan } from "../../core/subject-queries/subject-query-history.js";
import { decodeSealedRecord } from "../../core/audit/seal.js";
import { scanAuditFile, type AuditSourceEntry } from "./audit-source.js";
import { scanKafkaAudit } from "../kafka/kafka-audit-source.js";

function decoded(entry: AuditSourceEntry): SealedAuditRecord | undefined {
  if (entry.kind !== "record") return undefined;
  try {
    return decodeSealedRecord(entry.bytes);
  } catch {
    return undefined;
  }
}

/** The sealed records of the file sink's log (its sealed_at filter is the caller's: a file has no index). */
export function fileSealedAuditScan(path: string): SealedAuditScan {
  return async (_from, onRecord) => {
    if (!existsSync(path)) return;
    await scanAuditFile(path, (entry) => {
      const record = decoded(entry);
      if (record) onRecord(record);
    });
  };
}

/** The sealed records of the audit topic from `from` on (every gateway of the fleet writes there). */
export function kafkaSealedAuditScan(options: { readonly brokers: string; readonly topic: string }): SealedAuditScan {
  return async (from, onRecord) => {
    await scanKafkaAudit({ brokers: options.brokers, topic: options.topic, checkpointTopic: null, from }, (entry) => {
      const record = decoded(entry);
      if (record) onRecord(record);
    });
  };
}
