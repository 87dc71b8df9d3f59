import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType } from "../../gen/credex/v1/audit_pb.js";
import { ListSubjectQueriesResponseSchema, SubjectQuerySchema, type ListSubjectQueriesRequest, type ListSubjectQueriesResponse } from "../../gen/credex/v1/subject_queries_pb.js";
import { SubjectRequestKind } from "../../gen/credex/v1/types_pb.js";
import { CredexError, toCredexError } from "../errors.js";
import type { AuditSink } from "../audit-sink.js";
import type { PeerTls } from "../principal.js";
import type { Admission } from "../limits/admission.js";
import type { CallSlot } from "../limits/agency-concurrency-limiter.js";
import { authenticate, type AuthenticateDeps } from "../stages/authenticate.js";
import { audit, type Pseudonymize } from "../stages/audit.js";
import { validateSubjectId } from "../stages/validate.js";
import { memberCallEventOf, type MemberCallContext } from "../audit/member-call-event.js";
import { checkSubjectRequest } from "../objections/subject-request.js";
import type { SubjectQueryHistory } from "./subject-query-history.js";

/** The subject's queries in [from, now] from the gateway's audit (subject-query-history.ts). */
export type QueryHistorySource = (subjectPseudonym: string, from: Date, now: Date, limit: number) => Promise<SubjectQueryHistory>;

export interface SubjectQueriesDeps {
  readonly authenticate: AuthenticateDeps;
  readonly auditSink: () => AuditSink;
  readonly pseudonymize: Pseudonymize;
  /** Absent when the gateway's audit cannot be read back (an embedding program's own sink): refused with AUDIT_UNAVAILABLE. */
  readonly history?: QueryHistorySource | undefined;
  readonly admission?: Admission | undefined;
  /** How far back a subject may look, and the default window (days). */
  readonly windowDays: number;
  /** Most queries in one answer (the most recent are kept). */
  readonly maxQueries: number;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{0,64}$/;

/**
 * ListSubjectQueries (Credit Investigation Regulation Art. 22: every query is
 * recorded with who, when, what and why; PIPL Art. 45: a person may see what
 * is processed about them): authenticate → the subject's request, signed by
 * the calling agency (kind QUERY_HISTORY, naming this subject, within its
 * validity) → read the audit for this subject only → audit this call → reply.
 * The answer names the agency, time, purpose and categories of each query
 * and whether it was answered; never the operator, the records or anything a
 * query released.
 */
export async function listSubjectQueries(
  deps: SubjectQueriesDeps,
  ctx: MemberCallContext,
  peer: PeerTls,
  request: ListSubjectQueriesRequest | CredexError,
): Promise<ListSubjectQueriesResponse> {
  let response: ListSubjectQueriesResponse | undefined;
  let slot: CallSlot | undefined;
  try {
    const principal = authenticate(deps.authenticate, peer, (cert) => (ctx.certificate = cert));
    ctx.principal = principal;
    slot = deps.admission?.(principal, peer);
    if (request instanceof CredexError) throw request;
    if (!REQUEST_ID_PATTERN.test(request.requestId)) throw new CredexError("FIELD_INVALID", "request_id must be at most 64 characters of [A-Za-z0-9._:-]", { field: "request_id" });
    ctx.requestId = request.requestId;
    const subject = request.subject;
    if (!subject || subject.id === "") throw new CredexError("SUBJECT_MISSING");
    validateSubjectId(subject.type, subject.id);
    ctx.subject = subject;
    if (!request.subjectRequest) throw new CredexError("SUBJECT_REQUEST_REQUIRED");
    const now = new Date();
    const check = checkSubjectRequest(request.subjectRequest, { kind: SubjectRequestKind.QUERY_HISTORY, subjectType: subject.type, subjectId: subject.id, ownerAgency: "", recordId: "", principal, now });
    ctx.attributes["subject_request_sha256"] = check.digest;
    if (!check.ok) {
      // The agency's own statement: it may learn what is wrong with it (no one else's data is at stake).
      throw new CredexError("SUBJECT_REQUEST_INVALID", `the subject's request was refused: ${check.refusal}`, { refusal: check.refusal });
    }
    ctx.attributes["subject_request_id"] = check.requestId.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
    const earliest = new Date(now.getTime() - deps.windowDays * 86_400_000);
    const asked = request.since ? timestampDate(request.since) : earliest;
    if (!Number.isFinite(asked.getTime()) || asked > now) throw new CredexError("FIELD_INVALID", "since must be a time in the past", { field: "since" });
    const from = asked < earliest ? earliest : asked;
    if (!deps.history) throw new CredexError("AUDIT_UNAVAILABLE", "this gateway's audit cannot be read back for a query history");
    ctx.decidedAt = now;
    const history = await deps.history(deps.pseudonymize(subject.type, subject.id), from, now, deps.maxQueries);
    Object.assign(ctx.attributes, { from: from.toISOString(), queries: String(history.queries.length), records_opened: String(history.opened), truncated: String(history.truncated) });
    response = create(ListSubjectQueriesResponseSchema, {
      queries: history.queries.map((q) =>
        create(SubjectQuerySchema, { agencyId: q.agencyId, queriedAt: timestampFromDate(q.queriedAt), purpose: q.purpose, categories: [...q.categories], answered: q.answered, statutoryExemption: q.statutoryExemption }),
      ),
      truncated: history.truncated,
    });
    const bytes = toBinary(ListSubjectQueriesResponseSchema, response);
    ctx.responseDigest = createHash("sha256").update(bytes).digest();
    ctx.responseBytes = bytes.length;
  } catch (err) {
    ctx.error = toCredexError(err);
  }
  try {
    await audit(deps.auditSink(), memberCallEventOf(AuditEventType.SUBJECT_ACCESS, ctx, deps.pseudonymize));
  } catch (err) {
    ctx.error = toCredexError(err);
    response = undefined;
  } finally {
    slot?.();
  }
  if (ctx.error || !response) throw ctx.error ?? new CredexError("INTERNAL");
  return response;
}
