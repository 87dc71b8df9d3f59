import { AuditEventType, type AuditEvent } from "../../gen/credex/v1/audit_pb.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ExchangeContext } from "../exchange-context.js";
import type { Pseudonymize } from "../stages/audit.js";

/** One record an agency received in an exchange the gateway audited. */
export interface RecordReceipt {
  readonly agency: string;
  readonly ownerAgency: string;
  readonly recordId: string;
  /** The keyed pseudonym of the record's subject (the exchange's subject). */
  readonly subjectPseudonym: string;
  readonly at: Date;
}

/**
 * Which agency received which record, from the exchanges the gateway
 * audited: an agency that received a record has standing to object to it for
 * its subject (Credit Investigation Regulation Art. 25). Fed from the same
 * list of released records the audit event carries, so it never knows more
 * than the audit shows. An interface, so that a fleet can share it (a Kafka
 * topic read by every replica) instead of each replica keeping its own.
 */
export interface RecordReceipts {
  note(receipt: RecordReceipt): void;
  /** Did `agency` receive this record about this subject within the retention window? */
  received(receipt: Omit<RecordReceipt, "at">, now: Date): boolean;
  /**
   * The agencies that received this record about this subject at or after
   * `since` (and within the retention window), each with its latest receipt:
   * who gets a correction notice when the record is corrected (Art. 25).
   */
  receivers(record: Omit<RecordReceipt, "at" | "agency">, since: Date, now: Date): { readonly agency: string; readonly at: Date }[];
  /** Receipts held now. */
  size(): number;
}

export interface RecordReceiptsOptions {
  /** How long a receipt gives standing (config objections.receiptDays); the audit's own retention bounds it anyway. */
  readonly retentionMs: number;
  /** Most receipts held; the oldest go first (config objections.maxReceipts). */
  readonly maxEntries: number;
}

/**
 * The receipts of one gateway, in memory. Bounded in time and count: a
 * receipt past the window or pushed out by newer ones no longer gives
 * standing (the agency then needs the subject's signed request), which fails
 * closed. A receipt costs about 130 bytes of heap (its key is the plain
 * identity: no hashing on the exchange path, no collisions to craft).
 */
export function createRecordReceipts(options: RecordReceiptsOptions): RecordReceipts {
  // Insertion order is receipt order: note() moves a key to the end, so the oldest are first.
  const receipts = new Map<string, number>();
  const expire = (nowMs: number) => {
    for (const [key, at] of receipts) {
      if (receipts.size <= options.maxEntries && at >= nowMs - options.retentionMs) break;
      receipts.delete(key);
    }
  };
  return {
    note(receipt) {
      const key = receiptKey(receipt);
      const at = receipt.at.getTime();
      const known = receipts.get(key);
      if (known !== undefined && known >= at) return;
      receipts.delete(key);
      receipts.set(key, at);
      expire(at);
    },
    received(receipt, now) {
      const at = receipts.get(receiptKey(receipt));
      return at !== undefined && at >= now.getTime() - options.retentionMs;
    },
    receivers(record, since, now) {
      // A scan: answers are rare next to exchanges, and a second index would double the heap per receipt.
      const from = Math.max(since.getTime(), now.getTime() - options.retentionMs);
      const suffix = `\u0000${record.ownerAgency}\u0000${record.recordId}\u0000${record.subjectPseudonym}`;
      const found: { agency: string; at: Date }[] = [];
      for (const [key, at] of receipts) {
        if (at >= from && key.endsWith(suffix)) found.push({ agency: key.slice(0, key.length - suffix.length), at: new Date(at) });
      }
      return found;
    },
    size: () => receipts.size,
  };
}

/** Unambiguous: agency and owner ids, record ids (src/core/record-id.ts) and pseudonyms (hex) contain no NUL. */
function receiptKey(r: Omit<RecordReceipt, "at">): string {
  return `${r.agency}\u0000${r.ownerAgency}\u0000${r.recordId}\u0000${r.subjectPseudonym}`;
}

/** The receipts an exchange's audit event shows: the records it released to the requester, when the exchange was answered. */
export function receiptsOfAuditEvent(event: AuditEvent): RecordReceipt[] {
  if (event.type !== AuditEventType.EXCHANGE || event.statusCode !== 0 || !event.release || !event.requester || event.subjectPseudonym === "") return [];
  const at = event.repliedAt ? timestampDate(event.repliedAt) : undefined;
  if (!at) return [];
  const agency = event.requester.agencyId;
  return event.release.releasedRecords.flatMap((r) => r.recordIds.map((recordId) => ({ agency, ownerAgency: r.ownerAgency, recordId, subjectPseudonym: event.subjectPseudonym, at })));
}

/** The same receipts, read from the exchange as it finishes (its audit record is durable once ctx.error is unset). */
export function receiptsOfExchange(ctx: ExchangeContext, pseudonymize: Pseudonymize): RecordReceipt[] {
  const released = ctx.release?.stats.releasedRecords;
  if (ctx.error || !ctx.principal || !released || released.size === 0 || !ctx.rawSubject || ctx.rawSubject.id === "" || !ctx.repliedAt) return [];
  const agency = ctx.principal.agencyId;
  const subjectPseudonym = pseudonymize(ctx.rawSubject.type, ctx.rawSubject.id);
  const at = ctx.repliedAt;
  return [...released].flatMap(([ownerAgency, ids]) => ids.map((recordId) => ({ agency, ownerAgency, recordId, subjectPseudonym, at })));
}
