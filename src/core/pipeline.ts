import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { QueryResponseSchema, type QueryRequest, type QueryResponse } from "../gen/credex/v1/exchange_pb.js";
import { CredexError, toCredexError } from "./errors.js";
import type { AuditSink } from "./audit-sink.js";
import type { Catalogue } from "./catalogue.js";
import type { ExchangeContext } from "./exchange-context.js";
import type { PeerTls, Principal } from "./principal.js";
import type { CallSlot } from "./limits/agency-concurrency-limiter.js";
import { authenticate, type AuthenticateDeps } from "./stages/authenticate.js";
import { validateQuery } from "./stages/validate.js";
import { authorize, type AuthorizeDeps } from "./stages/authorize.js";
import { route } from "./stages/route.js";
import { fetchFromProviders, type ProviderClient } from "./stages/fetch.js";
import { release, type ProhibitedDataEvent } from "./stages/release.js";
import { audit, auditEventOf, type Pseudonymize } from "./stages/audit.js";

/** What the pipeline needs; built once at start from validated config (src/gateway). */
export interface PipelineDeps {
  readonly authenticate: AuthenticateDeps;
  readonly authorize: AuthorizeDeps;
  readonly catalogue: Catalogue;
  readonly maxCategories: number;
  readonly providers: ProviderClient;
  /** Longest a provider may take, whatever the caller's deadline. */
  readonly providerTimeoutMs: number;
  /** Time kept back from the caller's deadline for release, audit and reply. */
  readonly deadlineReserveMs: number;
  readonly auditSink: () => AuditSink;
  readonly pseudonymize: Pseudonymize;
  readonly isDisputed?: (owner: string, recordId: string) => boolean;
  readonly onProhibited?: (event: ProhibitedDataEvent, ctx: ExchangeContext) => void;
  /**
   * Per-agency concurrency bounds (src/core/limits): a slot taken right after
   * authentication and held until the audit record is durable; throws a
   * RESOURCE_EXHAUSTED CredexError to refuse (the refusal is audited).
   */
  readonly holdCallSlot?: (principal: Principal, peer: PeerTls) => CallSlot;
  /** Observers of every finished exchange (detectors, metrics). Must not throw. */
  readonly onExchange?: (ctx: ExchangeContext) => void;
}

export interface QueryOutcome {
  /** The serialized QueryResponse, exactly the bytes whose digest was audited. */
  readonly responseBytes: Buffer;
  readonly response: QueryResponse;
}

/**
 * One exchange, in the order of DESIGN.md: authenticate → validate →
 * authorize → route → fetch → release → audit → reply. Every outcome
 * (allowed, denied, failed, partial) is audited, and nothing is returned
 * before its audit record is durable: no audit, no answer.
 */
export async function runQuery(
  deps: PipelineDeps,
  ctx: ExchangeContext,
  peer: PeerTls,
  request: QueryRequest | CredexError,
  callerDeadline: Date | undefined,
): Promise<QueryOutcome> {
  let outcome: QueryOutcome | undefined;
  let slot: CallSlot | undefined;
  try {
    ctx.principal = authenticate(deps.authenticate, peer, (cert) => (ctx.certificate = cert));
    slot = deps.holdCallSlot?.(ctx.principal, peer);
    if (request instanceof CredexError) throw request; // undecodable: refused after we know who sent it
    ctx.rawSubject = request.subject ? { type: request.subject.type, id: request.subject.id } : undefined;
    ctx.rawPurpose = request.purpose;
    ctx.rawCategories = request.categories.slice(0, deps.maxCategories);
    const now = new Date();
    ctx.query = validateQuery({ catalogue: deps.catalogue, maxCategories: deps.maxCategories }, request, ctx.principal, now);
    const q = ctx.query;
    ctx.decision = authorize(deps.authorize, { principal: ctx.principal, categories: q.categories, purpose: q.purpose }, now);
    const routes = route(deps.authorize.registry, ctx.decision);
    ctx.outcomes = await fetchFromProviders(
      deps.providers,
      routes,
      { exchangeId: ctx.exchangeId, subjectType: q.subjectType, subjectId: q.subjectId, purpose: request.purpose, requesterAgency: ctx.principal.agencyId },
      providerDeadline(deps, callerDeadline),
    );
    ctx.release = release(ctx.decision, ctx.outcomes, {
      subjectType: q.subjectType,
      subjectId: q.subjectId,
      sensitiveCategories: sensitiveCategoriesOf(q, deps.catalogue),
      now: new Date(),
      isDisputed: deps.isDisputed,
      onProhibited: deps.onProhibited ? (e) => deps.onProhibited!(e, ctx) : undefined,
    });
    const response = create(QueryResponseSchema, { exchangeId: ctx.exchangeId, results: ctx.release.results, policyRevision: ctx.decision.policyRevision });
    const bytes = Buffer.from(toBinary(QueryResponseSchema, response));
    ctx.responseDigest = createHash("sha256").update(bytes).digest();
    ctx.responseBytes = bytes.length;
    outcome = { responseBytes: bytes, response };
  } catch (err) {
    ctx.error = toCredexError(err);
  }
  ctx.repliedAt = new Date();
  try {
    await audit(deps.auditSink(), auditEventOf(ctx, deps.pseudonymize));
  } catch (err) {
    // Fail closed: whatever the exchange produced is dropped.
    ctx.error = toCredexError(err);
    outcome = undefined;
  } finally {
    slot?.();
  }
  deps.onExchange?.(ctx);
  if (ctx.error || !outcome) throw ctx.error ?? new CredexError("INTERNAL");
  return outcome;
}

function providerDeadline(deps: PipelineDeps, callerDeadline: Date | undefined): Date {
  const own = Date.now() + deps.providerTimeoutMs;
  if (!callerDeadline || !Number.isFinite(callerDeadline.getTime())) return new Date(own);
  return new Date(Math.min(own, callerDeadline.getTime() - deps.deadlineReserveMs));
}

/** Level-4 categories whose content may pass: those the written consent names (Art. 14.2). */
function sensitiveCategoriesOf(q: NonNullable<ExchangeContext["query"]>, catalogue: Catalogue): Set<string> {
  const out = new Set<string>();
  if (q.consent?.namesSensitiveCategories) {
    for (const c of q.categories) if (q.consent.categories.has(c) && catalogue.categories.get(c)) out.add(c);
  }
  return out;
}
