import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditDecisionSchema, AuditEventSchema, AuditEventType, DecisionEffect, type AuditEvent } from "../../gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../../gen/credex/v1/types_pb.js";
import type { CredexError } from "../errors.js";
import type { ClientCertificate } from "../client-certificate.js";
import type { Principal } from "../principal.js";
import { auditRequesterOf } from "../audit/audit-requester.js";

/** One step of a special application as the audit sees it: who asked or decided, about which subject (pseudonym), with what outcome. */
export interface SpecialAccessStep {
  readonly callId: string;
  readonly traceId: string;
  readonly gatewayInstance: string;
  readonly method: "RequestSpecialAccess" | "DecideSpecialAccess";
  readonly receivedAt: Date;
  readonly requestBytes: number;
  readonly peerAddress?: string | undefined;
  certificate?: ClientCertificate | undefined;
  principal?: Principal | undefined;
  subjectPseudonym?: string | undefined;
  subjectType?: number | undefined;
  categories?: readonly string[] | undefined;
  purpose?: number | undefined;
  /** application_id, state, grant_id, max_uses, expires_at, owner: ids and counts only. */
  readonly attributes: Record<string, string>;
  error?: CredexError | undefined;
}

/** The audit event of a special-application step (every step is audited: issue 4 §3). */
export function specialAccessEventOf(step: SpecialAccessStep, now = new Date()): AuditEvent {
  const err = step.error;
  return create(AuditEventSchema, {
    schemaVersion: 1,
    exchangeId: step.callId,
    traceId: step.traceId,
    gatewayInstance: step.gatewayInstance,
    type: AuditEventType.SPECIAL_ACCESS,
    method: step.method,
    receivedAt: timestampFromDate(step.receivedAt),
    decidedAt: err ? undefined : timestampFromDate(now),
    repliedAt: timestampFromDate(now),
    requester: auditRequesterOf(step),
    subjectPseudonym: step.subjectPseudonym ?? "",
    subjectType: (step.subjectType ?? SubjectType.UNSPECIFIED) as SubjectType,
    categories: [...(step.categories ?? [])],
    purpose: (step.purpose ?? Purpose.UNSPECIFIED) as Purpose,
    decision: create(AuditDecisionSchema, {
      effect: err ? (err.code === 7 ? DecisionEffect.DENY : DecisionEffect.NONE) : DecisionEffect.ALLOW,
      reason: err?.reason ?? "",
    }),
    statusCode: err?.code ?? 0,
    statusReason: err?.reason ?? "",
    requestBytes: BigInt(step.requestBytes),
    attributes: step.attributes,
  });
}
