import { existsSync } from "node:fs";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType, type SealedAuditRecord } from "../../gen/credex/v1/audit_pb.js";
import type { AuditHistory } from "../../core/audit-sink.js";
import type { KeyRing } from "../../core/audit/key-ring.js";
import { decodeSealedRecord, openSealedRecord } from "../../core/audit/seal.js";
import { scanAuditFile } from "./audit-source.js";

/**
 * The exchange events of the file sink's log (src/adapters/audit/file-audit-sink.ts).
 * The envelope's clear header (type, sealed_at) skips everything else before
 * any decryption.
 */
export function fileAuditHistory(path: string, ring: KeyRing): AuditHistory {
  return async (from, onEvent) => {
    if (!existsSync(path)) return 0;
    let read = 0;
    await scanAuditFile(path, (entry) => {
      if (entry.kind !== "record") return;
      let sealed: SealedAuditRecord;
      try {
        sealed = decodeSealedRecord(entry.bytes);
      } catch {
        return;
      }
      if (sealed.eventType !== AuditEventType.EXCHANGE || !sealed.sealedAt || timestampDate(sealed.sealedAt) < from) return;
      try {
        onEvent(openSealedRecord(sealed, ring));
        read++;
      } catch {
        // Not sealed with this gateway's key ring, or altered: not something its audit shows.
      }
    });
    return read;
  };
}
