import { toJson } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, DecisionEffect, type AuditEvent } from "../../gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../../gen/credex/v1/types_pb.js";

/** An opened record with where it was found. */
export interface OpenedAuditEvent {
  readonly event: AuditEvent;
  readonly position: string;
  readonly instance: string;
  readonly sequence: bigint;
  readonly keyId: string;
}

const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : "");
const name = (e: Record<number, string>, v: number) => (e[v] ?? String(v)).toLowerCase();

/** One JSON line: the event in protobuf JSON form plus its location. */
export function auditEventJsonLine(o: OpenedAuditEvent): string {
  return `${JSON.stringify({ position: o.position, instance: o.instance, sequence: o.sequence.toString(), keyId: o.keyId, event: toJson(AuditEventSchema, o.event) })}\n`;
}

export const CSV_COLUMNS = [
  "position", "instance", "sequence", "exchange_id", "trace_id", "type", "method", "received_at", "decided_at", "replied_at",
  "requester_agency", "requester_cert_fingerprint", "subject_type", "subject_pseudonym", "purpose", "categories", "consent_id",
  "special_grant_id", "decision", "matched_policy", "policy_revision", "providers", "records_released", "records_withheld",
  "fields_released", "fields_withheld", "withheld_field_names", "status_code", "status_reason", "request_bytes", "response_bytes",
  "operator_pseudonym", "statutory_exemption", "legal_basis",
] as const;

/** RFC 4180: quote fields holding a comma, quote or line break; double inner quotes. */
function csvField(v: string): string {
  // A leading =, +, - or @ would be run as a formula by spreadsheet programs (CSV injection).
  const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function auditEventCsvHeader(): string {
  return `${CSV_COLUMNS.join(",")}\r\n`;
}

export function auditEventCsvRow(o: OpenedAuditEvent): string {
  const e = o.event;
  const row: Record<(typeof CSV_COLUMNS)[number], string> = {
    position: o.position,
    instance: o.instance,
    sequence: o.sequence.toString(),
    exchange_id: e.exchangeId,
    trace_id: e.traceId,
    type: name(AuditEventType, e.type),
    method: e.method,
    received_at: iso(e.receivedAt),
    decided_at: iso(e.decidedAt),
    replied_at: iso(e.repliedAt),
    requester_agency: e.requester?.agencyId ?? "",
    requester_cert_fingerprint: e.requester?.certFingerprint ?? "",
    subject_type: name(SubjectType, e.subjectType),
    subject_pseudonym: e.subjectPseudonym,
    purpose: name(Purpose, e.purpose),
    categories: e.categories.join(";"),
    consent_id: e.consentId,
    special_grant_id: e.specialGrantId,
    decision: name(DecisionEffect, e.decision?.effect ?? 0),
    matched_policy: e.decision?.matchedPolicy ?? "",
    policy_revision: e.decision?.policyRevision ?? "",
    providers: e.providers.map((p) => `${p.agencyId}:${p.status}`).join(";"),
    records_released: String(e.release?.recordsReleased ?? 0),
    records_withheld: String(e.release?.recordsWithheld ?? 0),
    fields_released: String(e.release?.fieldsReleased ?? 0),
    fields_withheld: String(e.release?.fieldsWithheld ?? 0),
    withheld_field_names: (e.release?.withheldFieldNames ?? []).join(";"),
    status_code: String(e.statusCode),
    status_reason: e.statusReason,
    request_bytes: e.requestBytes.toString(),
    response_bytes: e.responseBytes.toString(),
    operator_pseudonym: e.operatorPseudonym,
    statutory_exemption: e.statutoryExemption,
    legal_basis: e.legalBasis,
  };
  return `${CSV_COLUMNS.map((c) => csvField(row[c])).join(",")}\r\n`;
}

const TABLE = [
  ["RECEIVED", 24], ["AGENCY", 12], ["TYPE", 8], ["DECISION", 8], ["PURPOSE", 22], ["CATEGORIES", 20], ["STATUS", 6], ["SUBJECT", 12], ["EXCHANGE", 16], ["POSITION", 0],
] as const;

export function auditEventTableHeader(): string {
  return `${TABLE.map(([h, w]) => (w ? h.padEnd(w) : h)).join(" ")}\n`;
}

export function auditEventTableRow(o: OpenedAuditEvent): string {
  const e = o.event;
  const cells = [
    iso(e.receivedAt),
    e.requester?.agencyId ?? "",
    name(AuditEventType, e.type),
    name(DecisionEffect, e.decision?.effect ?? 0),
    name(Purpose, e.purpose),
    e.categories.join(","),
    String(e.statusCode),
    e.subjectPseudonym.slice(0, 12),
    e.exchangeId,
    o.position,
  ];
  return `${cells.map((c, i) => { const w = TABLE[i][1]; return w ? (c.length > w ? `${c.slice(0, w - 1)}…` : c.padEnd(w)) : c; }).join(" ")}\n`;
}
