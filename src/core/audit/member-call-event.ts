import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditDecisionSchema, AuditEventSchema, DecisionEffect, type AuditEvent, type AuditEventType } from "../../gen/credex/v1/audit_pb.js";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";
import type { CredexError } from "../errors.js";
import type { ClientCertificate } from "../client-certificate.js";
import type { Principal } from "../principal.js";
import type { Pseudonymize } from "../stages/audit.js";
import { auditRequesterOf } from "./audit-requester.js";

/**
 * One list or objection call as the audit sees it (the counterpart of
 * ExchangeContext for queries). Filled as the call proceeds; the builder
 * below reads it whole.
 */
export interface MemberCallContext {
  readonly callId: string;
  readonly traceId: string;
  readonly gatewayInstance: string;
  readonly method: string;
  readonly receivedAt: Date;
  readonly peerAddress?: string | undefined;
  readonly requestBytes: number;
  certificate?: ClientCertificate | undefined;
  principal?: Principal | undefined;
  /** The one subject the call is about, pseudonymised in the event; never written in clear. */
  subject?: { type: number; id: string } | undefined;
  /** List ids (lists) or the record's category-free id set (objections). */
  categories?: readonly string[] | undefined;
  requestId?: string | undefined;
  matchedPolicy?: string | undefined;
  policyRevision?: string | undefined;
  decidedAt?: Date | undefined;
  /** Value-free details: counts, ids, log positions, outcome names. */
  attributes: Record<string, string>;
  responseDigest?: Uint8Array | undefined;
  responseBytes?: number | undefined;
  error?: CredexError | undefined;
}

const POLICY_DENIALS = new Set(["LIST_NOT_PERMITTED", "LIST_NOT_OWNED", "OBJECTION_NOT_OWNER", "DISCLOSURE_NOT_PUBLIC", "DISCLOSURE_NOT_OWNER"]);

/**
 * The audit event of a list or objection call (Credit Investigation
 * Regulation Art. 22: who, when, what, why, outcome). Like auditEventOf for
 * exchanges it carries names, counts and positions, never values, and the
 * subject only as its keyed pseudonym.
 */
export function memberCallEventOf(type: AuditEventType, ctx: MemberCallContext, pseudonymize: Pseudonymize, now: Date = new Date()): AuditEvent {
  const err = ctx.error;
  const effect = err ? (POLICY_DENIALS.has(err.reason) ? DecisionEffect.DENY : ctx.decidedAt ? DecisionEffect.DENY : DecisionEffect.NONE) : ctx.decidedAt ? DecisionEffect.ALLOW : DecisionEffect.NONE;
  const subject = ctx.subject;
  return create(AuditEventSchema, {
    schemaVersion: 1,
    exchangeId: ctx.callId,
    traceId: ctx.traceId,
    gatewayInstance: ctx.gatewayInstance,
    type,
    method: ctx.method,
    receivedAt: timestampFromDate(ctx.receivedAt),
    decidedAt: ctx.decidedAt ? timestampFromDate(ctx.decidedAt) : undefined,
    repliedAt: timestampFromDate(now),
    requester: auditRequesterOf(ctx),
    subjectPseudonym: subject && subject.id !== "" && SubjectType[subject.type] !== undefined && subject.type !== 0 ? pseudonymize(subject.type, subject.id) : "",
    subjectType: (subject?.type ?? SubjectType.UNSPECIFIED) as SubjectType,
    categories: [...(ctx.categories ?? [])],
    requestId: ctx.requestId ?? "",
    decision: create(AuditDecisionSchema, {
      effect,
      matchedPolicy: ctx.matchedPolicy ?? "",
      policyRevision: ctx.policyRevision ?? "",
      reason: err?.reason ?? "",
    }),
    responseDigest: ctx.responseDigest,
    statusCode: err?.code ?? 0,
    statusReason: err?.reason ?? "",
    requestBytes: BigInt(ctx.requestBytes),
    responseBytes: BigInt(ctx.responseBytes ?? 0),
    attributes: { ...ctx.attributes },
  });
}
