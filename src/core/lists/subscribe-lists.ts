import { create, fromBinary } from "@bufbuild/protobuf";
import { AuditEventType } from "../../gen/credex/v1/audit_pb.js";
import {
  ListEntrySchema,
  SubscribeListsResponseSchema,
  SubscribePhase,
  type ListEntry,
  type SubscribeListsRequest,
  type SubscribeListsResponse,
} from "../../gen/credex/v1/lists_pb.js";
import { CredexError, toCredexError } from "../errors.js";
import type { PeerTls, Principal } from "../principal.js";
import { authenticate } from "../stages/authenticate.js";
import { audit } from "../stages/audit.js";
import { memberCallEventOf, type MemberCallContext } from "../audit/member-call-event.js";
import { LIST_PURPOSE } from "./list-catalogue.js";
import { decodeListCursor, encodeListCursor } from "./list-cursor.js";
import type { ListDeps } from "./list-deps.js";
import type { CallSlot } from "../limits/agency-concurrency-limiter.js";
import { advance, reached, type LogBatch, type LogPosition, type LogReader } from "./list-log.js";
import { deliveredForm, ListState } from "./list-state.js";
import { sectorCeiling, sectorRights } from "../sector-rights.js";

/** The subscriber's end of the stream, as the transport adapter provides it. */
export interface SubscriptionSink {
  /** Sends one message; resolves once the transport can take more (back-pressure), rejects when the stream is gone. */
  send(message: SubscribeListsResponse): Promise<void>;
  /** Aborted when the subscriber cancels or the gateway stops. */
  readonly signal: AbortSignal;
}

/**
 * SubscribeLists: authenticate → resolve the lists asked for (each must be
 * in the catalogue and, when named, allowed) → snapshot (empty cursor only):
 * the current state of the lists up to the log's end at the start → live
 * tail from the cursor or that end. Every entry is checked against the policy
 * ("subscribe", the list as category, the entry's owner and level) when it
 * is delivered, with the policy in force then. Each message carries the
 * cursor after its entries, and its delivery is audited before it is sent.
 * Resolves when the subscriber goes away; rejects with the reason the stream ends otherwise.
 */
export async function subscribeLists(deps: ListDeps, ctx: MemberCallContext, peer: PeerTls, request: SubscribeListsRequest | CredexError, sink: SubscriptionSink): Promise<void> {
  let start: Map<number, bigint> | undefined;
  let wanted: ReadonlySet<string> = new Set();
  let admitted: string | undefined;
  let slot: CallSlot | undefined;
  try {
    ctx.principal = authenticate(deps.authenticate, peer, (cert) => (ctx.certificate = cert));
    slot = deps.admission?.(ctx.principal, peer);
    if (request instanceof CredexError) throw request;
    admitted = admitSubscription(deps, ctx.principal.agencyId);
    wanted = resolveLists(deps, ctx.principal, request.listIds);
    ctx.categories = [...wanted];
    start = decodeListCursor(deps.log.name, request.cursor);
    ctx.attributes["start"] = start ? "cursor" : "snapshot";
    ctx.attributes["log"] = deps.log.name;
    ctx.policyRevision = deps.authorizer().revision;
    ctx.decidedAt = new Date();
  } catch (err) {
    ctx.error = toCredexError(err);
  }
  await auditOrFail(deps, ctx);
  try {
    if (ctx.error) throw ctx.error;
    await follow(deps, ctx, ctx.principal!, wanted, start, sink);
  } finally {
    if (admitted !== undefined) releaseSubscription(deps, admitted);
    slot?.();
  }
}

/** Open subscriptions per agency, per ListDeps (one gateway). */
const openSubscriptions = new WeakMap<ListDeps, Map<string, number>>();

function admitSubscription(deps: ListDeps, agencyId: string): string {
  const counts = openSubscriptions.get(deps) ?? new Map<string, number>();
  openSubscriptions.set(deps, counts);
  const open = counts.get(agencyId) ?? 0;
  if (open >= deps.maxSubscriptionsPerAgency) {
    throw new CredexError("TOO_MANY_CONCURRENT_CALLS", `agency "${agencyId}" already holds ${open} list subscriptions (limit ${deps.maxSubscriptionsPerAgency})`, { limit: String(deps.maxSubscriptionsPerAgency) });
  }
  counts.set(agencyId, open + 1);
  return agencyId;
}

function releaseSubscription(deps: ListDeps, agencyId: string): void {
  const counts = openSubscriptions.get(deps);
  const open = counts?.get(agencyId) ?? 0;
  if (open <= 1) counts?.delete(agencyId);
  else counts!.set(agencyId, open - 1);
}

async function follow(deps: ListDeps, ctx: MemberCallContext, principal: Principal, wanted: ReadonlySet<string>, start: Map<number, bigint> | undefined, sink: SubscriptionSink): Promise<void> {
  const subscription = new Delivery(deps, ctx, principal, wanted, sink);
  try {
    let position: Map<number, bigint>;
    if (start) {
      // A cursor ahead of the log means the log was reset or replaced under the same name: reading on would skip entries silently.
      const end = await deps.log.endPosition();
      for (const [partition, offset] of start) {
        if (!end.has(partition) || offset > end.get(partition)!) {
          throw new CredexError("CURSOR_INVALID", `the cursor is ahead of the log (partition ${partition}): the log was reset; start again without a cursor`, { partition: String(partition) });
        }
      }
      position = start;
    } else {
      const end = await deps.log.endPosition();
      const state = await readState(deps, end, sink.signal);
      if (sink.signal.aborted) return;
      await subscription.deliver(SubscribePhase.SNAPSHOT, state.current(deps.clock()), undefined);
      await subscription.send(SubscribePhase.SNAPSHOT_COMPLETE, [], encodeListCursor(deps.log.name, end));
      position = new Map(end);
    }
    await subscription.live(position);
  } catch (err) {
    if (sink.signal.aborted) return;
    ctx.error = toCredexError(err);
    ctx.attributes = { ...ctx.attributes, ended: ctx.error.reason };
    await auditOrFail(deps, ctx).catch(() => undefined);
    throw ctx.error;
  }
}

/** Reads the log from its start up to `end` and keeps the latest entry per list + subject. */
async function readState(deps: ListDeps, end: LogPosition, signal: AbortSignal): Promise<ListState> {
  const state = new ListState();
  const position = new Map<number, bigint>();
  if (reached(position, end)) return state;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const reader = await deps.log.read(new Map(), async (batch) => {
    for (const record of batch.records) {
      if (record.offset >= (end.get(record.partition) ?? 0n)) continue; // the live phase reads it
      state.apply(record.key, fromBinary(ListEntrySchema, record.value));
      advance(position, record);
    }
    if (reached(position, end)) finished();
  });
  const onAbort = () => finished();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await Promise.race([done, reader.done]);
  } finally {
    signal.removeEventListener("abort", onAbort);
    await reader.close();
  }
  return state;
}

async function auditOrFail(deps: ListDeps, ctx: MemberCallContext): Promise<void> {
  try {
    await audit(deps.auditSink(), memberCallEventOf(AuditEventType.LIST, ctx, deps.pseudonymize));
  } catch (err) {
    ctx.error = toCredexError(err);
  }
}

/** The lists a subscription covers: those named (each must exist and be receivable), or every list in the catalogue. */
function resolveLists(deps: ListDeps, principal: Principal, listIds: readonly string[]): Set<string> {
  if (listIds.length === 0) return new Set(deps.catalogue.lists.keys());
  const authorizer = deps.authorizer();
  for (const id of listIds) {
    const list = deps.catalogue.lists.get(id);
    if (!list) throw new CredexError("LIST_UNKNOWN", `list "${id}" is not in the list catalogue`, { list: id });
    const any = list.owners.some((owner) => authorizer.decide({ requester: principal.agencyId, owner, category: id, action: "subscribe", purpose: LIST_PURPOSE, level: 1 }).allowed);
    if (!any) throw new CredexError("LIST_NOT_PERMITTED", `the policy does not allow "${principal.agencyId}" to receive list "${id}"`, { list: id });
  }
  return new Set(listIds);
}

/** One subscription's delivery: filtering, batching, audit-before-send, cursor bookkeeping. */
class Delivery {
  private delivered = 0;
  private readonly decisions = new Map<string, boolean>();
  private decisionsRevision = "";

  constructor(
    private readonly deps: ListDeps,
    private readonly ctx: MemberCallContext,
    private readonly principal: Principal,
    private readonly wanted: ReadonlySet<string>,
    private readonly sink: SubscriptionSink,
  ) {}

  /** May the subscriber receive this entry under the policy in force now? */
  private permitted(entry: ListEntry): boolean {
    if (!this.wanted.has(entry.listId)) return false;
    // The requester's sector bounds lists as it bounds queries (src/core/sector-rights.ts): a list
    // carries no subject's consent, so a credit bureau receives public and shared entries only.
    if (entry.level > sectorCeiling(sectorRights(this.principal.sector), false)) return false;
    const authorizer = this.deps.authorizer();
    if (authorizer.revision !== this.decisionsRevision) {
      this.decisions.clear();
      this.decisionsRevision = authorizer.revision;
    }
    const key = `${entry.listId}\u0000${entry.ownerAgency}\u0000${entry.level}`;
    let allowed = this.decisions.get(key);
    if (allowed === undefined) {
      allowed = authorizer.decide({ requester: this.principal.agencyId, owner: entry.ownerAgency, category: entry.listId, action: "subscribe", purpose: LIST_PURPOSE, level: entry.level }).allowed;
      this.decisions.set(key, allowed);
    }
    return allowed;
  }

  /** A suspended agency or a revoked certificate ends the stream (checked per batch, not only at the start). */
  private checkStillAllowed(): void {
    const suspension = this.deps.authenticate.registry.suspensionOf(this.principal.agencyId);
    if (suspension !== undefined) throw new CredexError("AGENCY_SUSPENDED", `agency "${this.principal.agencyId}" is suspended: ${suspension}`, { agency: this.principal.agencyId });
    const revoked = this.deps.authenticate.revocations.lookup(this.principal.certSerial);
    if (revoked) throw new CredexError("CLIENT_CERT_REVOKED", `the client certificate was revoked: ${revoked.reason}`, { serial: this.principal.certSerial });
  }

  async deliver(phase: SubscribePhase, entries: readonly ListEntry[], cursor: string | undefined): Promise<void> {
    const now = this.deps.clock();
    const mine = entries.filter((e) => this.permitted(e)).map((e) => deliveredForm(e, now));
    for (let i = 0; i < mine.length; i += this.deps.deliveryBatchSize) {
      const chunk = mine.slice(i, i + this.deps.deliveryBatchSize);
      await this.send(phase, chunk, i + this.deps.deliveryBatchSize >= mine.length ? cursor : undefined);
    }
  }

  /** Audits the delivery (no audit, no delivery), then sends. */
  async send(phase: SubscribePhase, entries: ListEntry[], cursor: string | undefined): Promise<void> {
    if (entries.length > 0) {
      this.delivered += entries.length;
      const event: MemberCallContext = {
        ...this.ctx,
        categories: [...new Set(entries.map((e) => e.listId))],
        subject: entries.length === 1 ? entries[0]!.subject : undefined,
        attributes: {
          ...this.ctx.attributes,
          phase: SubscribePhase[phase],
          delivered: String(entries.length),
          delivered_total: String(this.delivered),
          ...(cursor ? { cursor_after: cursor } : {}),
        },
      };
      await audit(this.deps.auditSink(), memberCallEventOf(AuditEventType.LIST, event, this.deps.pseudonymize));
    }
    await this.sink.send(create(SubscribeListsResponseSchema, { phase, entries, cursor: cursor ?? "" }));
  }

  /** Follows the log from `position` until the subscriber goes away or delivery fails. */
  async live(position: Map<number, bigint>): Promise<void> {
    let failed: ((err: unknown) => void) | undefined;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    // Batches are handled one at a time, so the cursor in each message covers everything sent before it.
    let queue = Promise.resolve();
    // A failed delivery ends the subscription through `failure`; the reader itself is never handed the error.
    const onBatch = (batch: LogBatch) => {
      queue = queue.then(() => this.liveBatch(position, batch)).catch((err) => failed?.(err));
      return queue;
    };
    let reader: LogReader | undefined;
    const aborted = new Promise<void>((resolve) => {
      if (this.sink.signal.aborted) resolve();
      this.sink.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    try {
      reader = await this.deps.log.read(new Map(position), onBatch);
      await Promise.race([aborted, failure, reader.done]);
    } finally {
      await reader?.close();
    }
  }

  private async liveBatch(position: Map<number, bigint>, batch: LogBatch): Promise<void> {
    if (this.sink.signal.aborted) return;
    this.checkStillAllowed();
    const now = this.deps.clock();
    let chunk: ListEntry[] = [];
    let sawRecords = false;
    for (const record of batch.records) {
      if (record.offset < (position.get(record.partition) ?? 0n)) continue; // already delivered (a reader may redeliver after a rebalance)
      sawRecords = true;
      advance(position, record);
      const entry = fromBinary(ListEntrySchema, record.value);
      if (this.permitted(entry)) chunk.push(deliveredForm(entry, now));
      if (chunk.length >= this.deps.deliveryBatchSize) {
        await this.send(SubscribePhase.LIVE, chunk, encodeListCursor(this.deps.log.name, position));
        chunk = [];
        sawRecords = false;
      }
    }
    // Entries the caller may not receive still move its cursor on, so a resume does not read them again.
    if (chunk.length > 0 || sawRecords) await this.send(SubscribePhase.LIVE, chunk, encodeListCursor(this.deps.log.name, position));
  }
}
