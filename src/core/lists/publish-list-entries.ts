import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType } from "../../gen/credex/v1/audit_pb.js";
import {
  ListEntryKind,
  ListEntrySchema,
  PublishListEntriesResponseSchema,
  WithdrawalReason,
  type ListEntry,
  type PublishListEntriesRequest,
  type PublishListEntriesResponse,
} from "../../gen/credex/v1/lists_pb.js";
import { Level } from "../../gen/credex/v1/types_pb.js";
import { CredexError, toCredexError } from "../errors.js";
import type { PeerTls, Principal } from "../principal.js";
import { authenticate } from "../stages/authenticate.js";
import { audit } from "../stages/audit.js";
import { validateSubjectId } from "../stages/validate.js";
import { memberCallEventOf, type MemberCallContext } from "../audit/member-call-event.js";
import { LIST_PURPOSE, type ListCatalogue } from "./list-catalogue.js";
import type { ListDeps } from "./list-deps.js";
import type { CallSlot } from "../limits/agency-concurrency-limiter.js";
import { listEntryKey } from "./list-state.js";

const TEXT_LIMIT = 512;

/**
 * PublishListEntries: authenticate → validate and authorize every entry (the
 * list exists, the caller owns it, Casbin allows "publish") → append to the
 * list log (durable) → audit → reply. All entries or none: one refused
 * entry refuses the call before anything is appended.
 */
export async function publishListEntries(deps: ListDeps, ctx: MemberCallContext, peer: PeerTls, request: PublishListEntriesRequest | CredexError): Promise<PublishListEntriesResponse> {
  let response: PublishListEntriesResponse | undefined;
  let slot: CallSlot | undefined;
  try {
    ctx.principal = authenticate(deps.authenticate, peer, (cert) => (ctx.certificate = cert));
    slot = deps.admission?.(ctx.principal, peer);
    if (request instanceof CredexError) throw request;
    ctx.requestId = request.requestId;
    if (request.entries.length === 0) throw new CredexError("LIST_ENTRY_INVALID", "no entries to publish");
    if (request.entries.length > deps.maxEntriesPerPublish) {
      throw new CredexError("TOO_MANY_LIST_ENTRIES", `${request.entries.length} entries, at most ${deps.maxEntriesPerPublish}`, { limit: String(deps.maxEntriesPerPublish) });
    }
    ctx.categories = [...new Set(request.entries.map((e) => e.listId))];
    const subjects = new Set(request.entries.map((e) => `${e.subject?.type}:${e.subject?.id}`));
    if (subjects.size === 1) ctx.subject = request.entries[0]!.subject;
    const now = deps.clock();
    const authorizer = deps.authorizer();
    ctx.policyRevision = authorizer.revision;
    const rules = new Set<string>();
    const stamped: ListEntry[] = request.entries.map((entry, i) => {
      const level = validateListEntry(deps.catalogue, ctx.principal!, entry, i);
      const decision = authorizer.decide({ requester: ctx.principal!.agencyId, owner: ctx.principal!.agencyId, category: entry.listId, action: "publish", purpose: LIST_PURPOSE, level });
      if (!decision.allowed) {
        throw new CredexError("LIST_NOT_PERMITTED", `the policy does not allow "${ctx.principal!.agencyId}" to publish to list "${entry.listId}" at level ${level}`, {
          list: entry.listId,
          index: String(i),
          ...(decision.matchedRule ? { policy_rule: decision.matchedRule } : {}),
        });
      }
      rules.add(decision.matchedRule);
      return create(ListEntrySchema, {
        ...entry,
        entryId: deps.newId(),
        ownerAgency: ctx.principal!.agencyId,
        level,
        effectiveFrom: entry.effectiveFrom ?? timestampFromDate(now),
        publishedAt: timestampFromDate(now),
      });
    });
    ctx.decidedAt = new Date();
    ctx.matchedPolicy = [...rules].join(" | ");
    let positions;
    try {
      positions = await deps.log.append(
        stamped.map((e) => ({ key: listEntryKey(e.listId, deps.pseudonymize(e.subject!.type, e.subject!.id)), value: toBinary(ListEntrySchema, e, { writeUnknownFields: false }) })),
      );
    } catch (err) {
      throw new CredexError("LIST_LOG_UNAVAILABLE", "the list log did not accept the entries", {}, { cause: err });
    }
    ctx.attributes["entries"] = String(stamped.length);
    ctx.attributes["withdrawals"] = String(stamped.filter((e) => e.kind === ListEntryKind.WITHDRAWAL).length);
    ctx.attributes["log"] = deps.log.name;
    ctx.attributes["positions"] = positionRanges(positions);
    response = create(PublishListEntriesResponseSchema, { entryIds: stamped.map((e) => e.entryId) });
    const bytes = toBinary(PublishListEntriesResponseSchema, response);
    ctx.responseDigest = createHash("sha256").update(bytes).digest();
    ctx.responseBytes = bytes.length;
  } catch (err) {
    ctx.error = toCredexError(err);
  }
  try {
    await audit(deps.auditSink(), memberCallEventOf(AuditEventType.LIST, ctx, deps.pseudonymize));
  } catch (err) {
    ctx.error = toCredexError(err);
    response = undefined;
  } finally {
    slot?.();
  }
  if (ctx.error || !response) throw ctx.error ?? new CredexError("INTERNAL");
  return response;
}

/** Checks one entry; returns its effective level. */
export function validateListEntry(catalogue: ListCatalogue, principal: Principal, entry: ListEntry, index: number): number {
  const at = { index: String(index) };
  const list = catalogue.lists.get(entry.listId);
  if (!list) throw new CredexError("LIST_UNKNOWN", `list "${entry.listId}" is not in the list catalogue`, { list: entry.listId, ...at });
  if (!list.owners.includes(principal.agencyId)) {
    throw new CredexError("LIST_NOT_OWNED", `"${principal.agencyId}" is not an owner of list "${entry.listId}"`, { list: entry.listId, ...at });
  }
  const subject = entry.subject;
  if (!subject || subject.id === "") throw new CredexError("SUBJECT_MISSING", undefined, at);
  validateSubjectId(subject.type, subject.id);
  const invalid = (field: string, why: string): never => {
    throw new CredexError("LIST_ENTRY_INVALID", `entry ${index}: ${field} ${why}`, { field, ...at });
  };
  if (entry.entryId !== "" || entry.ownerAgency !== "" || entry.publishedAt !== undefined) invalid("entry_id/owner_agency/published_at", "are set by the gateway, not the publisher");
  for (const [field, value] of [["measure", entry.measure], ["legal_basis", entry.legalBasis]] as const) if (value.length > TEXT_LIMIT) invalid(field, `is longer than ${TEXT_LIMIT} characters`);
  switch (entry.kind) {
    case ListEntryKind.ENTRY:
      if (entry.measure === "") invalid("measure", "is required for an entry");
      if (entry.legalBasis === "") invalid("legal_basis", "is required for an entry");
      if (entry.withdrawalReason !== WithdrawalReason.UNSPECIFIED) invalid("withdrawal_reason", "is only for withdrawals");
      break;
    case ListEntryKind.WITHDRAWAL:
      if (entry.withdrawalReason === WithdrawalReason.UNSPECIFIED || WithdrawalReason[entry.withdrawalReason] === undefined) invalid("withdrawal_reason", "is required for a withdrawal");
      break;
    default:
      invalid("kind", "must be ENTRY or WITHDRAWAL");
  }
  if (entry.effectiveFrom && entry.effectiveTo && timestampDate(entry.effectiveTo) <= timestampDate(entry.effectiveFrom)) invalid("effective_to", "must be after effective_from");
  const level = entry.level === Level.UNSPECIFIED ? list.level : entry.level;
  if (level < Level.PUBLIC || level > Level.SENSITIVE) invalid("level", "must be 1..4 (PROHIBITED data is never listed)");
  if (level > list.level) invalid("level", `is above the list's level ${list.level}`);
  return level;
}

/** "p0:12-15,p1:7" — where the entries landed, for the audit record. */
function positionRanges(positions: ReadonlyArray<{ partition: number; offset: bigint }>): string {
  const byPartition = new Map<number, [bigint, bigint]>();
  for (const { partition, offset } of positions) {
    const r = byPartition.get(partition);
    if (!r) byPartition.set(partition, [offset, offset]);
    else byPartition.set(partition, [r[0] < offset ? r[0] : offset, r[1] > offset ? r[1] : offset]);
  }
  return [...byPartition].sort(([a], [b]) => a - b).map(([p, [lo, hi]]) => (lo === hi ? `p${p}:${lo}` : `p${p}:${lo}-${hi}`)).join(",");
}
