import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType, type AuditEvent, type SealedAuditRecord } from "../../gen/credex/v1/audit_pb.js";
import type { Purpose } from "../../gen/credex/v1/types_pb.js";
import type { KeyRing } from "../audit/key-ring.js";
import { openSealedRecord } from "../audit/seal.js";
import { monthsBetween, subjectTag } from "../audit/subject-tag.js";
import { GrpcCode } from "../errors.js";

/** Every sealed record of an audit medium (file or topic) sealed at or after `from`, in log order. */
export type SealedAuditScan = (from: Date, onRecord: (record: SealedAuditRecord) => void) => Promise<void>;

/** One query about the subject, as the audit recorded it (Art. 22: who, when, why, what). */
export interface SubjectQueryEntry {
  readonly agencyId: string;
  readonly queriedAt: Date;
  readonly purpose: Purpose;
  readonly categories: readonly string[];
  readonly answered: boolean;
  readonly statutoryExemption: string;
}

export interface SubjectQueryHistory {
  /** Oldest first; at most `limit`, the most recent kept. */
  readonly queries: readonly SubjectQueryEntry[];
  readonly truncated: boolean;
  /** Records opened (each carried the subject's tag): what the search decrypted, for the audit of the call. */
  readonly opened: number;
}

export interface HistorySearch {
  readonly scan: SealedAuditScan;
  readonly ring: KeyRing;
  readonly subjectPseudonym: string;
  readonly from: Date;
  readonly now: Date;
  readonly limit: number;
}

/** Query methods of CreditExchange: only these are queries about the subject (Art. 22). */
const QUERY_METHODS = new Set(["Query", "QueryStream"]);

/**
 * The queries about one subject, from the audit: the clear header of every
 * record is compared with the subject's keyed monthly tags (subject-tag.ts)
 * and only the records that carry one are opened; of each, only who asked,
 * when, for which purpose and which categories is kept. Records of
 * another subject, and every record's release details, stay sealed or
 * unread. A record that does not open (another key ring, altered) is not
 * something this gateway's audit shows and is skipped. Queries whose caller
 * was not authenticated are not the subject's queries (no verified agency).
 */
export async function subjectQueryHistory(search: HistorySearch): Promise<SubjectQueryHistory> {
  const tags = new Set(monthsBetween(search.from, search.now).map((m) => subjectTag(search.ring.pseudonymKey, search.subjectPseudonym, m).toString("hex")));
  const found: SubjectQueryEntry[] = [];
  let opened = 0;
  await search.scan(search.from, (record) => {
    if (record.eventType !== AuditEventType.EXCHANGE || record.subjectTag.length === 0 || !record.sealedAt) return;
    if (timestampDate(record.sealedAt) < search.from || !tags.has(Buffer.from(record.subjectTag).toString("hex"))) return;
    let event: AuditEvent;
    try {
      event = openSealedRecord(record, search.ring);
    } catch {
      return;
    }
    opened++;
    // The tag is 128 bits of a keyed hash: the pseudonym inside decides.
    if (event.subjectPseudonym !== search.subjectPseudonym || !QUERY_METHODS.has(event.method) || event.statusCode === GrpcCode.UNAUTHENTICATED) return;
    found.push({
      agencyId: event.requester?.agencyId ?? "",
      queriedAt: event.receivedAt ? timestampDate(event.receivedAt) : timestampDate(record.sealedAt),
      purpose: event.purpose,
      categories: [...event.categories],
      answered: event.statusCode === GrpcCode.OK,
      statutoryExemption: event.statutoryExemption,
    });
  });
  found.sort((a, b) => a.queriedAt.getTime() - b.queriedAt.getTime());
  const truncated = found.length > search.limit;
  return { queries: truncated ? found.slice(found.length - search.limit) : found, truncated, opened };
}
