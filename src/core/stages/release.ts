import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AgencyResultSchema, AgencyStatus, WithheldCountSchema, type AgencyResult } from "../../gen/credex/v1/exchange_pb.js";
import { Polarity, type CreditRecord, type RecordField } from "../../gen/credex/v1/types_pb.js";
import { isProhibitedFieldName, Level, negativeRecordExpired } from "../classification.js";
import type { ExchangeDecision } from "./authorize.js";
import type { ProviderOutcome } from "./fetch.js";

/** Why a record or field was not released. Counted in the reply and the audit event; never what it contained. */
export type WithholdReason =
  | "SUBJECT_MISMATCH"
  | "OWNER_MISMATCH"
  | "CATEGORY_NOT_GRANTED"
  | "LEVEL_MISSING"
  | "LEVEL_ABOVE_GRANT"
  | "SENSITIVE_NOT_CONSENTED"
  | "PROHIBITED"
  | "NEGATIVE_EXPIRED";

/** A provider sent prohibited data (Art. 14.1): dropped here, raised for incident handling. */
export interface ProhibitedDataEvent {
  readonly provider: string;
  readonly recordId: string;
  readonly fieldName: string;
}

export interface ReleaseInput {
  readonly subjectType: number;
  readonly subjectId: string;
  /** May level-4 content of this owner's category pass? Named in written consent (Art. 14.2) or covered by a special grant. */
  readonly sensitiveAllowed: (owner: string, category: string) => boolean;
  readonly now: Date;
  /** Records under an open objection (Art. 25) are released marked disputed. */
  readonly isDisputed?: (owner: string, recordId: string) => boolean;
  readonly onProhibited?: (event: ProhibitedDataEvent) => void;
}

export interface ReleaseStats {
  recordsReleased: number;
  recordsWithheld: number;
  fieldsReleased: number;
  fieldsWithheld: number;
  readonly releasedFieldNames: Set<string>;
  readonly withheldFieldNames: Set<string>;
  /** reason → [records, fields] */
  readonly withheld: Map<string, [number, number]>;
}

export interface Release {
  readonly results: AgencyResult[];
  readonly stats: ReleaseStats;
}

const OUTCOME_STATUS: Record<ProviderOutcome["status"], AgencyStatus> = {
  OK: AgencyStatus.OK,
  UNAVAILABLE: AgencyStatus.UNAVAILABLE,
  DEADLINE_EXCEEDED: AgencyStatus.DEADLINE_EXCEEDED,
  ERROR: AgencyStatus.ERROR,
};

/**
 * Stage 6: enforce the decision on what came back, record by record and
 * field by field. Providers are not trusted to have filtered: everything
 * above the grant is removed here.
 */
export function release(decision: ExchangeDecision, outcomes: readonly ProviderOutcome[], input: ReleaseInput): Release {
  const stats: ReleaseStats = {
    recordsReleased: 0,
    recordsWithheld: 0,
    fieldsReleased: 0,
    fieldsWithheld: 0,
    releasedFieldNames: new Set(),
    withheldFieldNames: new Set(),
    withheld: new Map(),
  };
  const grantLevel = new Map<string, number>();
  for (const g of decision.grants) grantLevel.set(`${g.owner}\u0000${g.category}`, g.maxLevel);

  const results: AgencyResult[] = [];
  for (const outcome of outcomes) {
    const local = new Map<string, [number, number]>();
    const count = (reason: WithholdReason, records: number, fields: number) => {
      for (const m of [local, stats.withheld]) {
        const c = m.get(reason) ?? [0, 0];
        c[0] += records;
        c[1] += fields;
        m.set(reason, c);
      }
      stats.recordsWithheld += records;
      stats.fieldsWithheld += fields;
    };
    const released: CreditRecord[] = [];
    for (const record of outcome.records) {
      const reason = recordWithholdReason(record, outcome.agencyId, grantLevel, input);
      if (reason) {
        if (reason === "PROHIBITED") input.onProhibited?.({ provider: outcome.agencyId, recordId: record.recordId, fieldName: "" });
        count(reason, 1, 0);
        continue;
      }
      const maxLevel = grantLevel.get(`${record.ownerAgency}\u0000${record.category}`)!;
      const sensitiveOk = input.sensitiveAllowed(record.ownerAgency, record.category);
      const kept: RecordField[] = [];
      for (const field of record.fields) {
        const fieldReason = fieldWithholdReason(field, record.level, maxLevel, sensitiveOk);
        if (fieldReason) {
          if (fieldReason === "PROHIBITED") input.onProhibited?.({ provider: outcome.agencyId, recordId: record.recordId, fieldName: field.name });
          count(fieldReason, 0, 1);
          stats.withheldFieldNames.add(field.name);
          continue;
        }
        kept.push(field);
        stats.releasedFieldNames.add(field.name);
      }
      record.fields = kept;
      stats.fieldsReleased += kept.length;
      if (input.isDisputed?.(record.ownerAgency, record.recordId)) record.disputed = true;
      released.push(record);
    }
    stats.recordsReleased += released.length;
    results.push(
      create(AgencyResultSchema, {
        agencyId: outcome.agencyId,
        status: OUTCOME_STATUS[outcome.status],
        detail: outcome.status === "OK" ? "" : outcome.detail,
        records: released,
        withheld: [...local].map(([reason, [records, fields]]) => create(WithheldCountSchema, { reason, records, fields })),
      }),
    );
  }
  // Owners asked about but refused by the policy appear with their status, so the caller sees a complete picture.
  const deniedOwners = new Map<string, string>();
  for (const d of decision.denials) if (!decision.grants.some((g) => g.owner === d.owner)) deniedOwners.set(d.owner, d.reason);
  for (const [owner, reason] of deniedOwners) {
    results.push(create(AgencyResultSchema, { agencyId: owner, status: AgencyStatus.NOT_PERMITTED, detail: reason }));
  }
  return { results, stats };
}

function recordWithholdReason(record: CreditRecord, provider: string, grantLevel: ReadonlyMap<string, number>, input: ReleaseInput): WithholdReason | undefined {
  // A provider may only answer about the asked subject and its own records.
  if (record.subject?.type !== input.subjectType || record.subject.id !== input.subjectId) return "SUBJECT_MISMATCH";
  if (record.ownerAgency !== provider) return "OWNER_MISMATCH";
  const maxLevel = grantLevel.get(`${record.ownerAgency}\u0000${record.category}`);
  if (maxLevel === undefined) return "CATEGORY_NOT_GRANTED";
  if (record.level === Level.PROHIBITED) return "PROHIBITED";
  if (record.level < Level.PUBLIC || record.level > Level.PROHIBITED) return "LEVEL_MISSING";
  if (record.level > maxLevel) return "LEVEL_ABOVE_GRANT";
  if (record.level === Level.SENSITIVE && !input.sensitiveAllowed(record.ownerAgency, record.category)) return "SENSITIVE_NOT_CONSENTED";
  // Art. 16: negative information is not provided 5 years after the event ended.
  if (record.polarity === Polarity.NEGATIVE && record.endedAt && negativeRecordExpired(timestampDate(record.endedAt), input.now)) return "NEGATIVE_EXPIRED";
  return undefined;
}

function fieldWithholdReason(field: RecordField, recordLevel: number, maxLevel: number, sensitiveOk: boolean): WithholdReason | undefined {
  if (field.level === Level.PROHIBITED || isProhibitedFieldName(field.name)) return "PROHIBITED";
  // A field without its own level carries its record's.
  const level = field.level === 0 ? recordLevel : field.level;
  if (level > maxLevel) return "LEVEL_ABOVE_GRANT";
  if (level === Level.SENSITIVE && !sensitiveOk) return "SENSITIVE_NOT_CONSENTED";
  return undefined;
}
