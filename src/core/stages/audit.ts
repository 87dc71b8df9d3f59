import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AuditDecisionSchema,
  AuditEventSchema,
  AuditEventType,
  AuditProviderCallSchema,
  AuditReleasedRecordsSchema,
  AuditReleaseSchema,
  AuditWithheldSchema,
  DecisionEffect,
  type AuditEvent,
} from "../../gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../../gen/credex/v1/types_pb.js";
import { CredexError } from "../errors.js";
import type { AuditReceipt, AuditSink } from "../audit-sink.js";
import type { ExchangeContext } from "../exchange-context.js";
import { auditRequesterOf } from "../audit/audit-requester.js";

/** Keyed pseudonym of a subject (DOMAIN.md: subject ids never appear in clear in audit or logs). */
export type Pseudonymize = (subjectType: number, subjectId: string) => string;

/** Keyed pseudonym of an agency's human operator (Art. 22: who queried; never in clear). */
export type PseudonymizeOperator = (agencyId: string, operator: string) => string;

/**
 * The audit record of one exchange: who (agency, certificate), when
 * (received, decided, replied, each provider call), what (subject
 * pseudonym, categories, counts and names of fields released and withheld,
 * ids of the records released: never values), why (purpose, consent), the decision and the outcome
 * (Credit Investigation Regulation Art. 22).
 */
export function auditEventOf(ctx: ExchangeContext, pseudonymize: Pseudonymize, pseudonymizeOperator?: PseudonymizeOperator): AuditEvent {
  const q = ctx.query;
  const stats = ctx.release?.stats;
  const decision = ctx.decision;
  const effect = decision && !ctx.error ? DecisionEffect.ALLOW : decision || isPolicyDenial(ctx.error) ? DecisionEffect.DENY : DecisionEffect.NONE;
  const rawSubject = ctx.rawSubject;
  return create(AuditEventSchema, {
    schemaVersion: 1,
    exchangeId: ctx.exchangeId,
    traceId: ctx.traceId,
    gatewayInstance: ctx.gatewayInstance,
    type: AuditEventType.EXCHANGE,
    method: ctx.method,
    receivedAt: timestampFromDate(ctx.receivedAt),
    decidedAt: decision ? timestampFromDate(decision.decidedAt) : undefined,
    repliedAt: timestampFromDate(ctx.repliedAt ?? new Date()),
    requester: auditRequesterOf(ctx),
    subjectPseudonym: rawSubject && rawSubject.id !== "" ? pseudonymize(rawSubject.type, rawSubject.id) : "",
    subjectType: (rawSubject?.type ?? SubjectType.UNSPECIFIED) as SubjectType,
    categories: q ? [...q.categories] : [...(ctx.rawCategories ?? [])],
    purpose: (ctx.rawPurpose ?? Purpose.UNSPECIFIED) as Purpose,
    consentId: q?.consent?.consentId ?? "",
    specialGrantId: q?.specialGrantId ?? "",
    requestId: q?.requestId ?? "",
    decision: create(AuditDecisionSchema, {
      effect,
      matchedPolicy: decision ? [...new Set(decision.grants.map((g) => g.matchedRule))].join(" | ") : String(ctx.error?.metadata["policy_rule"] ?? ""),
      policyRevision: decision?.policyRevision ?? ctx.error?.metadata["policy_revision"] ?? ctx.policyRevision ?? "",
      reason: ctx.error?.reason ?? "",
    }),
    providers: (ctx.outcomes ?? []).map((o) =>
      create(AuditProviderCallSchema, {
        agencyId: o.agencyId,
        requestedAt: timestampFromDate(o.requestedAt),
        respondedAt: timestampFromDate(o.respondedAt),
        status: o.status,
        detail: o.detail,
        recordsReceived: o.records.length,
        responseBytes: BigInt(o.bytes),
      }),
    ),
    release: stats
      ? create(AuditReleaseSchema, {
          recordsReleased: stats.recordsReleased,
          recordsWithheld: stats.recordsWithheld,
          fieldsReleased: stats.fieldsReleased,
          fieldsWithheld: stats.fieldsWithheld,
          releasedFieldNames: [...stats.releasedFieldNames].sort(),
          withheldFieldNames: [...stats.withheldFieldNames].sort(),
          withheld: [...stats.withheld].map(([reason, [records, fields]]) => create(AuditWithheldSchema, { reason, records, fields })),
          releasedRecords: [...stats.releasedRecords].map(([ownerAgency, recordIds]) => create(AuditReleasedRecordsSchema, { ownerAgency, recordIds })),
          releasedRecordIdsOmitted: stats.releasedRecordIdsOmitted,
        })
      : undefined,
    responseDigest: ctx.responseDigest,
    statusCode: ctx.error?.code ?? 0,
    statusReason: ctx.error?.reason ?? "",
    requestBytes: BigInt(ctx.requestBytes),
    responseBytes: BigInt(ctx.responseBytes ?? 0),
    // Only a validated operator is recorded, and only as a keyed pseudonym (bound to its agency).
    operatorPseudonym: q && q.operator !== "" && pseudonymizeOperator && ctx.principal ? pseudonymizeOperator(ctx.principal.agencyId, q.operator) : "",
    statutoryExemption: q?.exemption?.id ?? "",
    legalBasis: q?.exemption?.legalBasis ?? "",
  });
}

export function isPolicyDenial(err: CredexError | undefined): boolean {
  return err !== undefined && (err.reason === "PURPOSE_NOT_PERMITTED" || err.reason === "CATEGORY_NOT_PERMITTED" || err.reason === "EXPLICITLY_DENIED" || err.reason === "RESTRICTED_MODE" || err.reason === "PROTECTION_LEVEL_INSUFFICIENT" || err.reason === "SECTOR_LEVEL_NOT_PERMITTED" || err.reason === "SECTOR_CONSENT_REQUIRED");
}

/**
 * Stage 7: make the record durable before anything is released. A sink that
 * cannot (Kafka away and spool full, disk failing) fails the exchange closed.
 */
export async function audit(sink: AuditSink, event: AuditEvent): Promise<AuditReceipt> {
  try {
    return await sink.append(event);
  } catch (err) {
    if (err instanceof CredexError) throw err;
    throw new CredexError("AUDIT_UNAVAILABLE", undefined, {}, { cause: err });
  }
}
