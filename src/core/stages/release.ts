import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AgencyResultSchema, AgencyStatus, WithheldCountSchema, type AgencyResult } from "../../gen/credex/v1/exchange_pb.js";
import { Polarity, SubjectType, type CreditRecord, type RecordField } from "../../gen/credex/v1/types_pb.js";
import { Level } from "../classification.js";
import { judgeNegativeRecord, type NegativeWithholdReason } from "../negative-record.js";
import { isProhibitedFieldName } from "../prohibited-field-name.js";
import type { Catalogue, CategoryInfo } from "../catalogue.js";
import { isRecordId } from "../record-id.js";
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
  /** A field the catalogue does not list for the record's category (the catalogue is the allow-list). */
  | "UNKNOWN_FIELD"
  | NegativeWithholdReason;

/** A provider sent prohibited data (Art. 14.1): dropped here, raised for incident handling. */
export interface ProhibitedDataEvent {
  readonly provider: string;
  readonly recordId: string;
  readonly fieldName: string;
}

/** A property of a record or field that a provider labelled less strictly than the catalogue. */
export type LabelProperty = "level" | "sensitive" | "negative";

/**
 * A provider sent data the catalogue does not vouch for: records or fields
 * labelled less strictly than the catalogue (a level-4 record as level 1, a
 * negative one as positive), fields the catalogue does not list for their
 * category, or negative records without an end or an ongoing confirmation.
 * The gateway applied the catalogue (dropped or withheld what it must) and
 * raises this for incident handling once per provider and exchange, never once
 * per record.
 */
export interface DataQualityEvent {
  readonly provider: string;
  /** Records with at least one property labelled below the catalogue. */
  readonly mislabelledRecords: number;
  /** Fields labelled below the level the catalogue gives them. */
  readonly mislabelledFields: number;
  readonly properties: readonly LabelProperty[];
  /** A few of the records concerned (ids of the record-id form only: src/core/record-id.ts), as evidence. */
  readonly recordIds: readonly string[];
  /** Fields dropped because the catalogue does not list them for their category. */
  readonly unknownFields: number;
  /** A few of their names (printable, shortened), as evidence. */
  readonly unknownFieldNames: readonly string[];
  /** Negative records withheld as NEGATIVE_END_UNKNOWN (Art. 16 term not computable). */
  readonly negativeWithoutEnd: number;
}

const EVIDENCE_RECORD_IDS = 5;
const EVIDENCE_FIELD_NAMES = 5;
const EVIDENCE_FIELD_NAME_CHARS = 64;

export interface ReleaseInput {
  /** The catalogue decides each record's and field's level, sensitivity and negative flag, never the provider alone. */
  readonly catalogue: Catalogue;
  readonly subjectType: number;
  readonly subjectId: string;
  /** May level-4 content of this owner's category pass? Named in written consent (Art. 14.2) or covered by a special grant. */
  readonly sensitiveAllowed: (owner: string, category: string) => boolean;
  readonly now: Date;
  /** Records under an open objection (Art. 25) are released marked disputed. */
  readonly isDisputed?: (owner: string, recordId: string) => boolean;
  readonly onProhibited?: (event: ProhibitedDataEvent) => void;
  readonly onDataQuality?: (event: DataQualityEvent) => void;
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
  /**
   * Ids of the released records, by owner, as the audit records them: who received
   * which record is an agency's standing to object to it (Art. 25). Bounded
   * (AUDITED_RECORD_ID_BYTES); ids beyond the bound, or not objectable, are counted.
   */
  readonly releasedRecords: Map<string, string[]>;
  releasedRecordIdsOmitted: number;
  /** Fields dropped as UNKNOWN_FIELD, by provider (the credex_provider_unknown_fields metric). */
  readonly unknownFields: Map<string, number>;
}

/** Record ids one exchange's audit event may carry: keeps the event well under Kafka's default 1 MiB message size. */
export const AUDITED_RECORD_ID_BYTES = 256 * 1024;

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
 * field by field. Providers are not trusted to have filtered, nor to have
 * labelled: each record and field is judged at the stricter of the
 * provider's label and the catalogue's classification (level, sensitivity,
 * negative flag), and everything above the grant is removed here.
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
    releasedRecords: new Map(),
    releasedRecordIdsOmitted: 0,
    unknownFields: new Map(),
  };
  let recordIdBytes = 0;
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
    const mislabel = { records: 0, fields: 0, properties: new Set<LabelProperty>(), recordIds: [] as string[] };
    const unknown = { fields: 0, names: new Set<string>(), negativeWithoutEnd: 0 };
    for (const record of outcome.records) {
      const judged = judgeRecord(record, outcome.agencyId, grantLevel, input);
      if (judged.understated.size > 0) {
        mislabel.records++;
        for (const p of judged.understated) mislabel.properties.add(p);
        if (mislabel.recordIds.length < EVIDENCE_RECORD_IDS && isRecordId(record.recordId)) mislabel.recordIds.push(record.recordId);
      }
      const reason = judged.reason;
      if (reason) {
        if (reason === "PROHIBITED") input.onProhibited?.({ provider: outcome.agencyId, recordId: record.recordId, fieldName: "" });
        if (reason === "NEGATIVE_END_UNKNOWN") {
          unknown.negativeWithoutEnd++;
          if (mislabel.recordIds.length < EVIDENCE_RECORD_IDS && isRecordId(record.recordId) && !mislabel.recordIds.includes(record.recordId)) mislabel.recordIds.push(record.recordId);
        }
        count(reason, 1, 0);
        continue;
      }
      const maxLevel = grantLevel.get(`${record.ownerAgency}\u0000${record.category}`)!;
      const sensitiveOk = input.sensitiveAllowed(record.ownerAgency, record.category);
      const kept: RecordField[] = [];
      // Judged once per record, and only when a negative field asks; a record negative as a whole already passed it.
      let negativeFieldReason: NegativeWithholdReason | undefined | null = null;
      const negativeReason = () => (negativeFieldReason === null ? (negativeFieldReason = judged.negative ? undefined : negativeReasonOf(record, judged.category!, input)) : negativeFieldReason);
      let fieldsMislabelled = 0;
      for (const field of record.fields) {
        const fieldJudged = judgeField(field, judged.level, judged.category!, maxLevel, sensitiveOk, negativeReason);
        if (fieldJudged.understated) fieldsMislabelled++;
        const fieldReason = fieldJudged.reason;
        if (fieldReason) {
          if (fieldReason === "PROHIBITED") input.onProhibited?.({ provider: outcome.agencyId, recordId: record.recordId, fieldName: field.name });
          count(fieldReason, 0, 1);
          if (fieldReason === "UNKNOWN_FIELD") {
            // Counted, and a few names kept as evidence; not in the audit's field names, which a provider could flood.
            unknown.fields++;
            if (unknown.names.size < EVIDENCE_FIELD_NAMES) unknown.names.add(evidenceName(field.name));
          } else {
            stats.withheldFieldNames.add(field.name);
          }
          continue;
        }
        kept.push(field);
        stats.releasedFieldNames.add(field.name);
      }
      if (negativeFieldReason === "NEGATIVE_END_UNKNOWN") unknown.negativeWithoutEnd++;
      if (fieldsMislabelled > 0) {
        mislabel.fields += fieldsMislabelled;
        mislabel.properties.add("level");
        if (judged.understated.size === 0 && mislabel.recordIds.length < EVIDENCE_RECORD_IDS && isRecordId(record.recordId)) mislabel.recordIds.push(record.recordId);
      }
      record.fields = kept;
      stats.fieldsReleased += kept.length;
      if (input.isDisputed?.(record.ownerAgency, record.recordId)) record.disputed = true;
      released.push(record);
      if (isRecordId(record.recordId) && recordIdBytes + record.recordId.length <= AUDITED_RECORD_ID_BYTES) {
        recordIdBytes += record.recordId.length;
        const ids = stats.releasedRecords.get(record.ownerAgency) ?? [];
        ids.push(record.recordId);
        stats.releasedRecords.set(record.ownerAgency, ids);
      } else {
        stats.releasedRecordIdsOmitted++;
      }
    }
    if (unknown.fields > 0) stats.unknownFields.set(outcome.agencyId, (stats.unknownFields.get(outcome.agencyId) ?? 0) + unknown.fields);
    if (mislabel.records > 0 || mislabel.fields > 0 || unknown.fields > 0 || unknown.negativeWithoutEnd > 0) {
      input.onDataQuality?.({
        provider: outcome.agencyId,
        mislabelledRecords: mislabel.records,
        mislabelledFields: mislabel.fields,
        properties: [...mislabel.properties].sort(),
        recordIds: mislabel.recordIds,
        unknownFields: unknown.fields,
        unknownFieldNames: [...unknown.names],
        negativeWithoutEnd: unknown.negativeWithoutEnd,
      });
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

interface JudgedRecord {
  readonly reason?: WithholdReason | undefined;
  /** The record's effective level: the stricter of the provider's label and the catalogue (set once the category is known). */
  readonly level: number;
  readonly category?: CategoryInfo | undefined;
  /** Negative as a whole (by the catalogue, or the provider's stricter polarity): its dates were judged already. */
  readonly negative?: boolean;
  /** Properties the provider labelled less strictly than the catalogue. */
  readonly understated: ReadonlySet<LabelProperty>;
}

const NONE: ReadonlySet<LabelProperty> = new Set();

function judgeRecord(record: CreditRecord, provider: string, grantLevel: ReadonlyMap<string, number>, input: ReleaseInput): JudgedRecord {
  const withheld = (reason: WithholdReason, understated = NONE, category?: CategoryInfo): JudgedRecord => ({ reason, level: record.level, category, understated });
  // A provider may only answer about the asked subject and its own records.
  if (record.subject?.type !== input.subjectType || record.subject.id !== input.subjectId) return withheld("SUBJECT_MISMATCH");
  if (record.ownerAgency !== provider) return withheld("OWNER_MISMATCH");
  const maxLevel = grantLevel.get(`${record.ownerAgency}\u0000${record.category}`);
  // Granted categories passed validation against the catalogue; one it does not know is never released.
  const category = input.catalogue.categories.get(record.category);
  if (maxLevel === undefined || !category) return withheld("CATEGORY_NOT_GRANTED");
  if (record.level === Level.PROHIBITED) return withheld("PROHIBITED", NONE, category);
  if (record.level < Level.PUBLIC || record.level > Level.PROHIBITED) return withheld("LEVEL_MISSING", NONE, category);
  // The stricter of provider and catalogue, property by property (DESIGN.md "Trust: every node verifies").
  const understated = new Set<LabelProperty>();
  if (record.level < category.level) understated.add("level");
  if (category.sensitive && record.level !== Level.SENSITIVE) understated.add("sensitive");
  if (category.negative && record.polarity !== Polarity.NEGATIVE) understated.add("negative");
  const level = Math.max(record.level, category.level);
  const sensitive = level === Level.SENSITIVE || category.sensitive;
  // The catalogue's negative flag holds whatever polarity the provider gives; a provider may only add to it.
  const negative = category.negative || record.polarity === Polarity.NEGATIVE;
  const judged = (reason?: WithholdReason): JudgedRecord => ({ reason, level, category, negative, understated });
  if (level > maxLevel) return judged("LEVEL_ABOVE_GRANT");
  if (sensitive && !input.sensitiveAllowed(record.ownerAgency, record.category)) return judged("SENSITIVE_NOT_CONSENTED");
  if (negative) {
    const reason = negativeReasonOf(record, category, input);
    if (reason) return judged(reason);
  }
  return judged();
}

/** Art. 15 (notice, unless public by law) and Art. 16 (5 years from the end) for a record's dates: src/core/negative-record.ts. */
function negativeReasonOf(record: CreditRecord, category: CategoryInfo, input: ReleaseInput): NegativeWithholdReason | undefined {
  const date = (t: CreditRecord["endedAt"]) => (t ? timestampDate(t) : undefined);
  return judgeNegativeRecord(
    { endedAt: date(record.endedAt), ongoing: record.ongoing, lastConfirmedAt: date(record.lastConfirmedAt), notifiedAt: date(record.notifiedAt) },
    { naturalPerson: input.subjectType === SubjectType.NATURAL_PERSON, publicByLaw: category.publicByLaw === true, now: input.now },
  );
}

/**
 * Only fields the catalogue lists for the category pass (the allow-list);
 * prohibited names (Art. 14.1) are caught first, under any spelling, so they
 * raise their own incident. A listed field's effective level is the stricter
 * of the provider's label (a field without one carries its record's) and the
 * catalogue's level for it.
 */
function judgeField(
  field: RecordField,
  recordLevel: number,
  category: CategoryInfo,
  maxLevel: number,
  sensitiveOk: boolean,
  /** Why the record's dates do not allow negative content, if they do not (asked only for a negative field). */
  negativeReason: () => NegativeWithholdReason | undefined,
): { reason?: WithholdReason; understated: boolean } {
  if (field.level === Level.PROHIBITED || isProhibitedFieldName(field.name)) return { reason: "PROHIBITED", understated: false };
  const known = category.fields?.get(field.name);
  if (!known) return { reason: "UNKNOWN_FIELD", understated: false };
  const labelled = field.level === 0 ? recordLevel : field.level;
  const level = Math.max(labelled, known.level);
  // A field at its category's level is covered by the record's own check; one classified apart is reported itself.
  const understated = known.level !== category.level && labelled < known.level;
  const sensitive = level === Level.SENSITIVE || known.sensitive;
  if (level > maxLevel) return { reason: "LEVEL_ABOVE_GRANT", understated };
  if (sensitive && !sensitiveOk) return { reason: "SENSITIVE_NOT_CONSENTED", understated };
  // A negative field (an insurance claim's fraud finding) is negative information in a record that is not (Art. 15, 16).
  const negative = known.negative ? negativeReason() : undefined;
  if (negative) return { reason: negative, understated };
  return { understated };
}

/** A provider's field name as incident evidence: control and format characters removed, shortened. */
function evidenceName(name: string): string {
  return name.replace(/[\p{Cc}\p{Cf}]/gu, "").slice(0, EVIDENCE_FIELD_NAME_CHARS);
}
