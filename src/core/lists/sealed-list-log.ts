import { CredexError } from "../errors.js";
import type { ByteSealer } from "../audit/seal.js";
import type { ListLog, LogBatch } from "./list-log.js";

/**
 * The list log as the gateway stores it: keys are list id + subject
 * pseudonym (list-state.ts listEntryKey), values are the entries sealed with
 * the audit key ring (DOMAIN.md: subject ids never in clear at rest; the
 * entry names the subject, the measure and the case). Subscribers still get
 * the subject id: entries are opened here, inside the gateway, on their way
 * to delivery. Each value is bound to its key, so whoever can write the log
 * (disk, Kafka) can neither read an entry nor add, alter or move one: a
 * record that does not open ends the reading subscription with
 * LIST_LOG_UNAVAILABLE rather than being delivered or skipped silently.
 */
export function sealListLog(log: ListLog, sealer: ByteSealer): ListLog {
  const aadOf = (key: string) => Buffer.from(key, "utf8");
  return {
    name: log.name,
    append: (messages) => log.append(messages.map((m) => ({ key: m.key, value: sealer.seal(m.value, aadOf(m.key)) }))),
    endPosition: () => log.endPosition(),
    read: (from, onBatch) =>
      log.read(from, async (batch: LogBatch) => {
        const records = batch.records.map((record) => {
          try {
            return { ...record, value: sealer.open(record.value, aadOf(record.key)) };
          } catch (err) {
            throw new CredexError(
              "LIST_LOG_UNAVAILABLE",
              `list log ${log.name} record ${record.partition}:${record.offset} does not open with the key ring (altered, moved, or written before list entries were sealed)`,
              { partition: String(record.partition), offset: String(record.offset) },
              { cause: err },
            );
          }
        });
        return onBatch({ partition: batch.partition, records });
      }),
    close: () => log.close(),
  };
}
