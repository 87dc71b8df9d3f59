import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType } from "../../gen/credex/v1/audit_pb.js";
import {
  DisclosureAction,
  DisclosureEntrySchema,
  PublishDisclosuresResponseSchema,
  type DisclosureEntry,
  type PublishDisclosuresRequest,
  type PublishDisclosuresResponse,
} from "../../gen/credex/v1/disclosure_pb.js";
import { SubjectSchema } from "../../gen/credex/v1/types_pb.js";
import { CredexError, toCredexError } from "../errors.js";
import type { AuditSink } from "../audit-sink.js";
import type { Catalogue } from "../catalogue.js";
import type { PeerTls, Principal } from "../principal.js";
import { authenticate, type AuthenticateDeps } from "../stages/authenticate.js";
import { audit, type Pseudonymize } from "../stages/audit.js";
import { validateSubjectId } from "../stages/validate.js";
import { memberCallEventOf, type MemberCallContext } from "../audit/member-call-event.js";
import type { Admission } from "../limits/admission.js";
import type { CallSlot } from "../limits/agency-concurrency-limiter.js";
import type { ListLog } from "../lists/list-log.js";
import { isPublicCategory, type DisclosureCatalogue } from "./disclosure-catalogue.js";
import type { DisclosureState } from "./disclosure-state.js";
import { publicSubjectId } from "./mask-identifier.js";
import { disclosureKey, signDisclosure, type DisclosureSigner } from "./signed-disclosure.js";
import { workingDaysBetween } from "./working-days.js";

const TEXT_LIMIT = 512;
const DAY_MS = 86_400_000;

/** What PublishDisclosures needs; built once by the gateway. */
export interface DisclosureDeps {
  readonly authenticate: AuthenticateDeps;
  readonly catalogue: Catalogue;
  readonly disclosure: DisclosureCatalogue;
  /** The feed (Kafka topic credex.disclosure.v1, or the embedded file log). */
  readonly log: ListLog;
  /** The feed as this gateway has read it (its own appends included): CORRECT and WITHDRAW name a current entry of the caller. */
  readonly state: DisclosureState;
  /** The gateway's served certificate and key: every record is signed with them. */
  readonly signer: () => DisclosureSigner;
  readonly auditSink: () => AuditSink;
  readonly pseudonymize: Pseudonymize;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly maxEntriesPerPublish: number;
  readonly admission?: Admission | undefined;
  /** An entry published more than `disclosure.maxLagWorkingDays` after its decision: an incident for its owner. */
  readonly onLatePublication?: ((entry: DisclosureEntry) => void) | undefined;
}

/**
 * PublishDisclosures: authenticate → validate every entry (a level-1
 * category of the disclosure catalogue that the caller's sector owns; CORRECT
 * and WITHDRAW name a current entry of the caller) → stamp (owner from the
 * certificate, publication date, publicity period, lag) → sign and append to
 * the feed → audit → reply → raise a lag incident for each entry published
 * past the seven working days of the double-publicity rule. All entries or none.
 */
export async function publishDisclosures(deps: DisclosureDeps, ctx: MemberCallContext, peer: PeerTls, request: PublishDisclosuresRequest | CredexError): Promise<PublishDisclosuresResponse> {
  let response: PublishDisclosuresResponse | undefined;
  let slot: CallSlot | undefined;
  let stamped: DisclosureEntry[] = [];
  try {
    ctx.principal = authenticate(deps.authenticate, peer, (cert) => (ctx.certificate = cert));
    slot = deps.admission?.(ctx.principal, peer);
    if (request instanceof CredexError) throw request;
    ctx.requestId = request.requestId;
    if (request.entries.length === 0) throw new CredexError("DISCLOSURE_ENTRY_INVALID", "no entries to publish");
    if (request.entries.length > deps.maxEntriesPerPublish) {
      throw new CredexError("TOO_MANY_DISCLOSURE_ENTRIES", `${request.entries.length} entries, at most ${deps.maxEntriesPerPublish}`, { limit: String(deps.maxEntriesPerPublish) });
    }
    ctx.categories = [...new Set(request.entries.map((e) => e.category))];
    const subjects = new Set(request.entries.map((e) => `${e.subject?.type}:${e.subject?.id}`));
    if (subjects.size === 1 && request.entries[0]!.subject) ctx.subject = request.entries[0]!.subject;
    const now = deps.clock();
    const principal = ctx.principal;
    stamped = request.entries.map((entry, i) => stampEntry(deps, principal, entry, i, now));
    ctx.decidedAt = new Date();
    ctx.matchedPolicy = "catalogue: level-1 category owned by the caller's sector";
    const signer = deps.signer();
    const messages = stamped.map((e) => {
      const key = disclosureKey(e.ownerAgency, e.entryId);
      return { key, value: signDisclosure(key, e, signer) };
    });
    let positions;
    try {
      positions = await deps.log.append(messages);
    } catch (err) {
      throw new CredexError("DISCLOSURE_FEED_UNAVAILABLE", "the disclosure feed did not accept the entries", {}, { cause: err });
    }
    // This gateway's own appends count at once (its reader of the feed may not have reached them yet).
    stamped.forEach((e, i) => deps.state.apply(messages[i]!.key, e));
    ctx.attributes["entries"] = String(stamped.length);
    for (const action of [DisclosureAction.PUBLISH, DisclosureAction.CORRECT, DisclosureAction.WITHDRAW]) {
      const n = stamped.filter((e) => e.action === action).length;
      if (n > 0) ctx.attributes[DisclosureAction[action].toLowerCase()] = String(n);
    }
    ctx.attributes["entry_ids"] = stamped.map((e) => e.entryId).join(",");
    ctx.attributes["lag_working_days"] = stamped.map((e) => e.lagWorkingDays).join(",");
    ctx.attributes["log"] = deps.log.name;
    ctx.attributes["positions"] = positions.map((p) => `p${p.partition}:${p.offset}`).join(",");
    response = create(PublishDisclosuresResponseSchema, { entryIds: stamped.map((e) => e.entryId), lagWorkingDays: stamped.map((e) => e.lagWorkingDays) });
    const bytes = toBinary(PublishDisclosuresResponseSchema, response);
    ctx.responseDigest = createHash("sha256").update(bytes).digest();
    ctx.responseBytes = bytes.length;
  } catch (err) {
    ctx.error = toCredexError(err);
  }
  try {
    await audit(deps.auditSink(), memberCallEventOf(AuditEventType.DISCLOSURE, ctx, deps.pseudonymize));
  } catch (err) {
    ctx.error = toCredexError(err);
    response = undefined;
  } finally {
    slot?.();
  }
  if (ctx.error || !response) throw ctx.error ?? new CredexError("INTERNAL");
  for (const entry of stamped) {
    // The 7-working-day rule (2700号) is about licences and penalties; list entries' lag is recorded, not checked.
    const checked = deps.disclosure.categories.get(entry.category)?.kind !== "list";
    if (checked && entry.action === DisclosureAction.PUBLISH && entry.lagWorkingDays > deps.disclosure.maxLagWorkingDays) deps.onLatePublication?.(entry);
  }
  return response;
}

/** Checks one entry and returns it as the feed stores it. */
function stampEntry(deps: DisclosureDeps, principal: Principal, entry: DisclosureEntry, index: number, now: Date): DisclosureEntry {
  const at = { index: String(index) };
  const invalid = (field: string, why: string): never => {
    throw new CredexError("DISCLOSURE_ENTRY_INVALID", `entry ${index}: ${field} ${why}`, { field, ...at });
  };
  const info = deps.catalogue.categories.get(entry.category);
  // The credit catalogue decides what is public, not the publisher (DESIGN.md classification).
  if (info && info.level !== 1) {
    throw new CredexError("DISCLOSURE_NOT_PUBLIC", `category "${entry.category}" is level ${info.level}; only level-1 categories are disclosed`, { category: entry.category, ...at });
  }
  const category = deps.disclosure.categories.get(entry.category);
  if (!category || !isPublicCategory(deps.catalogue, deps.disclosure, entry.category)) {
    throw new CredexError("DISCLOSURE_CATEGORY_UNKNOWN", `category "${entry.category}" is not carried by the disclosure feed`, { category: entry.category, ...at });
  }
  if (!info!.sectors.includes(principal.sector)) {
    throw new CredexError("DISCLOSURE_NOT_OWNER", `sector ${principal.sector} of "${principal.agencyId}" does not own category "${entry.category}"`, { category: entry.category, ...at });
  }
  if (entry.ownerAgency !== "" || entry.publishedAt !== undefined || entry.publicityUntil !== undefined || entry.firstPublishedAt !== undefined || entry.lagWorkingDays !== 0) {
    invalid("owner_agency/published_at/publicity_until/first_published_at/lag_working_days", "are set by the gateway, not the publisher");
  }
  for (const [field, value] of [
    ["subject_name", entry.subjectName],
    ["title", entry.title],
    ["decision_number", entry.decisionNumber],
    ["source_department", entry.sourceDepartment],
    ["legal_basis", entry.legalBasis],
    ["reason", entry.reason],
  ] as const) {
    if (value.length > TEXT_LIMIT) invalid(field, `is longer than ${TEXT_LIMIT} characters`);
  }
  const stampAfter = (previous?: DisclosureEntry) => {
    // A later record of an entry is always later in time: readers ignore one that is not (replay).
    const after = previous?.publishedAt ? timestampDate(previous.publishedAt).getTime() + 1 : 0;
    return { ownerAgency: principal.agencyId, publishedAt: timestampFromDate(new Date(Math.max(now.getTime(), after))) };
  };

  if (entry.action === DisclosureAction.WITHDRAW) {
    const current = currentEntryOf(deps, principal, entry, index);
    const stamp = stampAfter(current);
    if (entry.reason === "") invalid("reason", "is required to withdraw an entry");
    return create(DisclosureEntrySchema, { ...current, ...stamp, action: DisclosureAction.WITHDRAW, reason: entry.reason, firstPublishedAt: current.firstPublishedAt ?? current.publishedAt });
  }
  if (entry.action !== DisclosureAction.PUBLISH && entry.action !== DisclosureAction.CORRECT) invalid("action", "must be PUBLISH, CORRECT or WITHDRAW");
  const subject = entry.subject;
  if (!subject || subject.id === "") throw new CredexError("SUBJECT_MISSING", undefined, at);
  validateSubjectId(subject.type, subject.id);
  for (const [field, value] of [
    ["subject_name", entry.subjectName],
    ["title", entry.title],
    ["decision_number", entry.decisionNumber],
    ["source_department", entry.sourceDepartment],
    ["legal_basis", entry.legalBasis],
  ] as const) {
    if (value.trim() === "") invalid(field, "is required");
  }
  if (!entry.decisionDate) invalid("decision_date", "is required");
  const decided = timestampDate(entry.decisionDate!);
  if (decided.getTime() > now.getTime() + 60_000) invalid("decision_date", "is in the future");
  const publicityUntil = new Date(decided.getTime() + category.publicityDays * DAY_MS);
  if (publicityUntil <= now) invalid("decision_date", `is more than the category's publicity period (${category.publicityDays} days) ago: nothing left to publish`);
  let first: DisclosureEntry | undefined;
  if (entry.action === DisclosureAction.CORRECT) {
    first = currentEntryOf(deps, principal, entry, index);
    if (entry.reason === "") invalid("reason", "is required to correct an entry");
  } else if (entry.entryId !== "" || entry.reason !== "") {
    invalid("entry_id/reason", "are set only to correct or withdraw an entry");
  }
  const stamp = stampAfter(first);
  return create(DisclosureEntrySchema, {
    ...entry,
    entryId: first ? first.entryId : deps.newId(),
    // At rest and in public, a natural person's id only masked (first 6, last 4), as courts publish it.
    subject: create(SubjectSchema, { type: subject.type, id: publicSubjectId(subject.type, subject.id) }),
    ...stamp,
    publicityUntil: timestampFromDate(publicityUntil),
    // The lag of the first publication is what the 7-working-day rule measures; a correction keeps it.
    lagWorkingDays: first ? first.lagWorkingDays : workingDaysBetween(decided, now),
    ...(first ? { firstPublishedAt: first.firstPublishedAt ?? first.publishedAt } : {}),
  });
}

function currentEntryOf(deps: DisclosureDeps, principal: Principal, entry: DisclosureEntry, index: number): DisclosureEntry {
  const current = entry.entryId === "" ? undefined : deps.state.get(disclosureKey(principal.agencyId, entry.entryId));
  if (!current || current.category !== entry.category) {
    throw new CredexError("DISCLOSURE_ENTRY_NOT_FOUND", `"${principal.agencyId}" has no current entry "${entry.entryId}" in category "${entry.category}"`, { index: String(index) });
  }
  return current;
}
