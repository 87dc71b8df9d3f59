import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType } from "../../gen/credex/v1/audit_pb.js";
import {
  FileObjectionResponseSchema,
  ListCorrectionNoticesResponseSchema,
  ListObjectionAnswersResponseSchema,
  ListObjectionsResponseSchema,
  ObjectionAnswerSchema,
  ObjectionResolution,
  ObjectionSchema,
  ObjectionStatus,
  ReceiveObjectionRequestSchema,
  ResolveObjectionResponseSchema,
  type FileObjectionRequest,
  type FileObjectionResponse,
  type ListCorrectionNoticesRequest,
  type ListCorrectionNoticesResponse,
  type ListObjectionAnswersRequest,
  type ListObjectionAnswersResponse,
  type ListObjectionsRequest,
  type ListObjectionsResponse,
  type Objection,
  type ReceiveObjectionRequest,
  type ResolveObjectionRequest,
  type ResolveObjectionResponse,
} from "../../gen/credex/v1/objections_pb.js";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { CredexError, toCredexError } from "../errors.js";
import type { AuditSink } from "../audit-sink.js";
import type { PeerTls, Principal } from "../principal.js";
import type { Admission } from "../limits/admission.js";
import type { CallSlot } from "../limits/agency-concurrency-limiter.js";
import type { AgencyEntry } from "../registry.js";
import { authenticate, type AuthenticateDeps } from "../stages/authenticate.js";
import { audit, type Pseudonymize } from "../stages/audit.js";
import { validateSubjectId } from "../stages/validate.js";
import { memberCallEventOf, type MemberCallContext } from "../audit/member-call-event.js";
import type { ByteSealer } from "../audit/seal.js";
import type { NewCorrectionNotice, ObjectionRegistry } from "./objection-registry.js";
import type { RecordReceipts } from "./record-receipts.js";
import { checkSubjectRequest } from "./subject-request.js";
import { isRecordId } from "../record-id.js";
import { SubjectRequestKind } from "../../gen/credex/v1/types_pb.js";

/** How the gateway hands an objection to the owning agency (CreditProvider.ReceiveObjection). */
export interface ObjectionDelivery {
  receiveObjection(agency: AgencyEntry, request: ReceiveObjectionRequest, deadline: Date): Promise<{ recordFound: boolean }>;
}

export interface ObjectionDeps {
  readonly authenticate: AuthenticateDeps;
  readonly objections: ObjectionRegistry;
  /** Which agency received which record in an audited exchange: standing to object (record-receipts.ts). */
  readonly receipts: RecordReceipts;
  readonly delivery: ObjectionDelivery;
  /** Seals the owner's statement at rest (the audit key ring, use "objections"); opened only to answer its filer. */
  readonly answerSealer: ByteSealer;
  readonly auditSink: () => AuditSink;
  readonly pseudonymize: Pseudonymize;
  readonly newId: () => string;
  readonly providerTimeoutMs: number;
  /** The gateway's one admission point (rate, concurrency): refusals are audited like every outcome. */
  readonly admission?: Admission | undefined;
  /** Raised once per objection not answered in time (Art. 25); the lead wires it to the incident module. Must not throw. */
  readonly onObjectionOverdue?: (objection: Objection) => void;
}

const GROUNDS_LIMIT = 4_096;
const STATEMENT_LIMIT = 4_096;
/** Most answers or notices in one poll; the caller polls again from last_sequence. */
const POLL_LIMIT = 500;

/**
 * How far back a receipt of the record earns a correction notice: the
 * exchange's rule for who is told of a correction (agencies that received the
 * record in the last 90 days). Bounded by objections.receiptDays, how long the
 * gateway keeps receipts at all.
 */
export const CORRECTION_NOTICE_DAYS = 90;
const DAY_MS = 86_400_000;

/** Answers after which the record as released before is no longer right: its recipients are told (Art. 25; PIPL Art. 46). */
const CORRECTING = new Set([ObjectionResolution.CORRECTED, ObjectionResolution.RECORD_DELETED]);

/** The associated data binding a sealed statement to its objection: a statement cannot be moved to another one. */
function statementAad(objectionId: string): Uint8Array {
  return Buffer.from(`objection-answer\u0000${objectionId}`, "utf8");
}

/**
 * The one answer for a record the caller may not object to, whether it exists
 * or not: exactly what the owner's "no such record" becomes (same status,
 * message and metadata), so that FileObjection is no oracle of existence.
 */
function recordNotFound(owner: string, recordId: string): CredexError {
  return new CredexError("RECORD_NOT_FOUND", `"${owner}" holds no record "${recordId}" about that subject`, { owner, record_id: recordId });
}

/**
 * FileObjection: authenticate → validate → standing → deliver to the owner's
 * CreditProvider.ReceiveObjection (the objection exists only once the owner
 * has it) → record it open (the record is released disputed from now on) →
 * audit → reply. The grounds go to the owner only; the gateway keeps the
 * subject as a pseudonym.
 *
 * Standing (Art. 25: the objection is the subject's, filed through an
 * agency): the agency received this record about this subject in an exchange
 * the gateway audited, or presents the subject's request naming the record,
 * attested with its own signature (the form of a consent attestation). Anyone
 * else gets the answer for a record that does not exist, before the owner is
 * asked: which records exist is not disclosed, and no record can be disputed
 * at will. That answer's timing depends only on the caller's own standing,
 * never on whether the record exists (the owner is not consulted).
 */
export async function fileObjection(deps: ObjectionDeps, ctx: MemberCallContext, peer: PeerTls, request: FileObjectionRequest | CredexError): Promise<FileObjectionResponse> {
  return auditedCall(deps, ctx, peer, FileObjectionResponseSchema, async (principal) => {
    if (request instanceof CredexError) throw request;
    ctx.requestId = request.requestId;
    ctx.subject = request.subject;
    ctx.attributes["action"] = "FILE";
    ctx.attributes["record_id"] = isRecordId(request.recordId) ? request.recordId : "";
    ctx.attributes["owner"] = request.ownerAgency;
    const invalid = (field: string, why: string): never => {
      throw new CredexError("OBJECTION_INVALID", `${field} ${why}`, { field });
    };
    if (!isRecordId(request.recordId)) invalid("record_id", "must be 1-128 characters of [A-Za-z0-9._:-]");
    if (!request.subject || request.subject.id === "") throw new CredexError("SUBJECT_MISSING");
    validateSubjectId(request.subject.type, request.subject.id);
    if (request.grounds.trim() === "") invalid("grounds", "are required");
    if (request.grounds.length > GROUNDS_LIMIT) invalid("grounds", `are longer than ${GROUNDS_LIMIT} characters`);
    const owner = deps.authenticate.registry.get(request.ownerAgency);
    if (!owner || owner.providerEndpoint === undefined) invalid("owner_agency", `"${request.ownerAgency}" is not a member that provides records`);
    const subjectPseudonym = deps.pseudonymize(request.subject.type, request.subject.id);
    ctx.decidedAt = new Date();
    if (!hasStanding(deps, ctx, principal, request, subjectPseudonym)) throw recordNotFound(owner!.id, request.recordId);

    const filedAt = deps.objections.clock();
    const dueAt = deps.objections.dueAt(filedAt);
    const objectionId = deps.newId();
    ctx.attributes["objection_id"] = objectionId;
    let delivered;
    try {
      delivered = await deps.delivery.receiveObjection(
        owner!,
        create(ReceiveObjectionRequestSchema, {
          objectionId,
          recordId: request.recordId,
          subject: request.subject,
          grounds: request.grounds,
          filedBy: principal.agencyId,
          filedAt: timestampFromDate(filedAt),
          dueAt: timestampFromDate(dueAt),
        }),
        new Date(Date.now() + deps.providerTimeoutMs),
      );
    } catch (err) {
      throw new CredexError("OWNER_UNAVAILABLE", `"${owner!.id}" could not be reached; the objection was not filed`, { owner: owner!.id }, { cause: err });
    }
    if (!delivered.recordFound) throw recordNotFound(owner!.id, request.recordId);
    const objection = create(ObjectionSchema, {
      objectionId,
      recordId: request.recordId,
      ownerAgency: owner!.id,
      filedBy: principal.agencyId,
      subjectType: request.subject.type,
      subjectPseudonym,
      status: ObjectionStatus.OPEN,
      filedAt: timestampFromDate(filedAt),
      dueAt: timestampFromDate(dueAt),
    });
    await deps.objections.add(objection);
    return create(FileObjectionResponseSchema, { objection });
  });
}

/**
 * Does the caller have standing to object to this record for this subject?
 * Records which ground it has (or why a presented request gave none) in the
 * audit attributes; the caller is told nothing of it.
 */
function hasStanding(deps: ObjectionDeps, ctx: MemberCallContext, principal: Principal, request: FileObjectionRequest, subjectPseudonym: string): boolean {
  // Real time, not the registry's (injectable) deadline clock: receipts and requests carry real times.
  const now = new Date();
  const received = deps.receipts.received({ agency: principal.agencyId, ownerAgency: request.ownerAgency, recordId: request.recordId, subjectPseudonym }, now);
  let requested = false;
  if (request.subjectRequest) {
    const check = checkSubjectRequest(request.subjectRequest, {
      kind: SubjectRequestKind.OBJECTION,
      subjectType: request.subject!.type,
      subjectId: request.subject!.id,
      ownerAgency: request.ownerAgency,
      recordId: request.recordId,
      principal,
      now,
    });
    ctx.attributes["subject_request_sha256"] = check.digest;
    if (check.ok) {
      requested = true;
      ctx.attributes["subject_request_id"] = check.requestId.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
    } else {
      ctx.attributes["subject_request_refused"] = check.refusal;
    }
  }
  ctx.attributes["standing"] = received ? "received" : requested ? "subject_request" : "none";
  return received || requested;
}

/**
 * ResolveObjection: only the owner of the record answers (Art. 25:
 * 信息提供者、征信机构 check and answer; anyone else gets OBJECTION_NOT_OWNER).
 * The answer reaches the filer (ListObjectionAnswers, the statement sealed at
 * rest); the disputed mark follows the resolution (objection-registry.ts); a
 * correction or deletion is noticed to every agency the audited exchanges
 * show received the record about this subject in the last 90 days (PIPL
 * Art. 46: the correction reaches where the record went). Recipients come
 * from the gateway's receipts, never from the owner's or the filer's word.
 */
export async function resolveObjection(deps: ObjectionDeps, ctx: MemberCallContext, peer: PeerTls, request: ResolveObjectionRequest | CredexError): Promise<ResolveObjectionResponse> {
  return auditedCall(deps, ctx, peer, ResolveObjectionResponseSchema, async (principal) => {
    if (request instanceof CredexError) throw request;
    ctx.requestId = request.requestId;
    ctx.attributes["action"] = "RESOLVE";
    ctx.attributes["objection_id"] = request.objectionId.slice(0, 128);
    ctx.attributes["resolution"] = ObjectionResolution[request.resolution] ?? String(request.resolution);
    // The owner's statement is kept sealed for the filer only; its digest proves what was sent.
    if (request.statement !== "") ctx.attributes["statement_sha256"] = createHash("sha256").update(request.statement).digest("hex");
    if (request.statement.length > STATEMENT_LIMIT) throw new CredexError("OBJECTION_INVALID", `statement is longer than ${STATEMENT_LIMIT} characters`, { field: "statement" });
    // Refuse a caller that may not answer before anything else is looked up for it.
    const current = deps.objections.answerable(request.objectionId, request.resolution, principal.agencyId);
    const now = new Date();
    const notices: NewCorrectionNotice[] = !CORRECTING.has(request.resolution)
      ? []
      : deps.receipts
          .receivers({ ownerAgency: current.ownerAgency, recordId: current.recordId, subjectPseudonym: current.subjectPseudonym }, new Date(now.getTime() - CORRECTION_NOTICE_DAYS * DAY_MS), now)
          .filter((r) => r.agency !== current.ownerAgency)
          .sort((a, b) => (a.agency < b.agency ? -1 : 1))
          .map((r) => ({
            noticeId: deps.newId(),
            recipientAgency: r.agency,
            ownerAgency: current.ownerAgency,
            recordId: current.recordId,
            subjectType: current.subjectType,
            resolution: request.resolution,
            issuedAt: timestampFromDate(now),
            receivedAt: timestampFromDate(r.at),
          }));
    const statementSealed = deps.answerSealer.seal(Buffer.from(request.statement, "utf8"), statementAad(current.objectionId));
    const objection = await deps.objections.resolve(request.objectionId, request.resolution, principal.agencyId, { statementSealed, notices });
    ctx.decidedAt = new Date();
    ctx.attributes["record_id"] = objection.recordId;
    ctx.attributes["owner"] = objection.ownerAgency;
    ctx.attributes["filed_by"] = objection.filedBy;
    ctx.attributes["correction_notices"] = notices.map((n) => n.recipientAgency).join(",");
    return create(ResolveObjectionResponseSchema, { objection });
  });
}

/**
 * ListObjectionAnswers: the owners' answers to the objections the caller
 * filed, after a position it keeps (Art. 25: the result is answered to the
 * objector). Nobody else's: another agency polling gets none of them.
 */
export async function listObjectionAnswers(deps: ObjectionDeps, ctx: MemberCallContext, peer: PeerTls, request: ListObjectionAnswersRequest | CredexError): Promise<ListObjectionAnswersResponse> {
  return auditedCall(deps, ctx, peer, ListObjectionAnswersResponseSchema, async (principal) => {
    if (request instanceof CredexError) throw request;
    ctx.attributes["action"] = "ANSWERS";
    ctx.attributes["after_sequence"] = request.afterSequence.toString();
    const found = deps.objections.answersFor(principal.agencyId, request.afterSequence, POLL_LIMIT);
    const answers = found.map(({ objection, answer }) =>
      create(ObjectionAnswerSchema, {
        sequence: answer.sequence,
        objection,
        // A statement that does not open is an error, never an answer without it.
        statement: Buffer.from(deps.answerSealer.open(answer.statementSealed, statementAad(objection.objectionId))).toString("utf8"),
      }),
    );
    ctx.decidedAt = new Date();
    ctx.attributes["answers"] = String(answers.length);
    ctx.attributes["objection_ids"] = answers.map((a) => a.objection!.objectionId).join(",");
    return create(ListObjectionAnswersResponseSchema, { answers, lastSequence: answers.at(-1)?.sequence ?? request.afterSequence });
  });
}

/**
 * ListCorrectionNotices: corrections and deletions of records the caller
 * received in the last 90 days (as the audited exchanges show), after a
 * position it keeps. Only the caller's own notices.
 */
export async function listCorrectionNotices(deps: ObjectionDeps, ctx: MemberCallContext, peer: PeerTls, request: ListCorrectionNoticesRequest | CredexError): Promise<ListCorrectionNoticesResponse> {
  return auditedCall(deps, ctx, peer, ListCorrectionNoticesResponseSchema, async (principal) => {
    if (request instanceof CredexError) throw request;
    ctx.attributes["action"] = "NOTICES";
    ctx.attributes["after_sequence"] = request.afterSequence.toString();
    const notices = deps.objections.noticesFor(principal.agencyId, request.afterSequence, POLL_LIMIT);
    ctx.decidedAt = new Date();
    ctx.attributes["notices"] = String(notices.length);
    ctx.attributes["notice_ids"] = notices.map((n) => n.noticeId).join(",");
    return create(ListCorrectionNoticesResponseSchema, { notices, lastSequence: notices.at(-1)?.sequence ?? request.afterSequence });
  });
}

/** ListObjections: those the caller filed or must answer. */
export async function listObjections(deps: ObjectionDeps, ctx: MemberCallContext, peer: PeerTls, request: ListObjectionsRequest | CredexError): Promise<ListObjectionsResponse> {
  return auditedCall(deps, ctx, peer, ListObjectionsResponseSchema, async (principal) => {
    if (request instanceof CredexError) throw request;
    ctx.attributes["action"] = "LIST";
    const objections = deps.objections.list(
      (o) => (o.ownerAgency === principal.agencyId || o.filedBy === principal.agencyId) && (request.includeResolved || o.status === ObjectionStatus.OPEN),
    );
    ctx.attributes["objections"] = String(objections.length);
    return create(ListObjectionsResponseSchema, { objections });
  });
}

/**
 * Raises every objection past its due date once: audited (OBJECTION,
 * action OVERDUE) and handed to onObjectionOverdue. The gateway runs this on
 * a timer; tests call it with an advanced clock.
 */
export async function raiseOverdueObjections(deps: ObjectionDeps, gatewayInstance: string): Promise<Objection[]> {
  const overdue = await deps.objections.takeOverdue();
  for (const objection of overdue) {
    const ctx: MemberCallContext = {
      callId: deps.newId(),
      traceId: "",
      gatewayInstance,
      method: "ObjectionDeadline",
      receivedAt: deps.objections.clock(),
      requestBytes: 0,
      attributes: { action: "OVERDUE", objection_id: objection.objectionId, record_id: objection.recordId, owner: objection.ownerAgency, filed_by: objection.filedBy },
    };
    await audit(deps.auditSink(), memberCallEventOf(AuditEventType.OBJECTION, ctx, deps.pseudonymize)).catch(() => undefined);
    try {
      deps.onObjectionOverdue?.(objection);
    } catch {
      // An observer's failure must not stop the others from being raised.
    }
  }
  return overdue;
}

/** authenticate → admission → body → audit (no audit, no answer); the admission slot is held until the audit record is durable. */
async function auditedCall<S extends DescMessage>(
  deps: ObjectionDeps,
  ctx: MemberCallContext,
  peer: PeerTls,
  schema: S,
  body: (principal: Principal) => Promise<MessageShape<S>>,
): Promise<MessageShape<S>> {
  let response: MessageShape<S> | undefined;
  let slot: CallSlot | undefined;
  try {
    const principal = authenticate(deps.authenticate, peer, (cert) => (ctx.certificate = cert));
    ctx.principal = principal;
    slot = deps.admission?.(principal, peer);
    response = await body(principal);
    const bytes = toBinary(schema, response);
    ctx.responseDigest = createHash("sha256").update(bytes).digest();
    ctx.responseBytes = bytes.length;
  } catch (err) {
    ctx.error = toCredexError(err);
  }
  try {
    await audit(deps.auditSink(), memberCallEventOf(AuditEventType.OBJECTION, ctx, deps.pseudonymize));
  } catch (err) {
    ctx.error = toCredexError(err);
    response = undefined;
  } finally {
    slot?.();
  }
  if (ctx.error || !response) throw ctx.error ?? new CredexError("INTERNAL");
  return response;
}
