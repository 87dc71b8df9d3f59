import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { QueryResponseSchema, type QueryRequest, type QueryResponse } from "../gen/credex/v1/exchange_pb.js";
import { CredexError, toCredexError } from "./errors.js";
import type { AuditSink } from "./audit-sink.js";
import type { Catalogue } from "./catalogue.js";
import type { ExchangeContext } from "./exchange-context.js";
import type { PeerTls } from "./principal.js";
import type { CallSlot } from "./limits/agency-concurrency-limiter.js";
import type { Admission } from "./limits/admission.js";
import { authenticate, type AuthenticateDeps } from "./stages/authenticate.js";
import { validateQuery } from "./stages/validate.js";
import { authorize, type AuthorizeDeps } from "./stages/authorize.js";
import { route } from "./stages/route.js";
import { fetchFromProviders, type ProviderClient } from "./stages/fetch.js";
import { release, type DataQualityEvent, type ProhibitedDataEvent } from "./stages/release.js";
import { audit, auditEventOf, type PseudonymizeOperator, type Pseudonymize } from "./stages/audit.js";
import type { StatutoryExemptions } from "./consent/statutory-exemption.js";
import { SubjectType } from "../gen/credex/v1/types_pb.js";
import type { GrantUse, SpecialAccessRegistry } from "./special-access/special-access-registry.js";
import { NO_TELEMETRY, type Telemetry } from "./telemetry.js";

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
  /** Keyed pseudonym of the human operator who asked (Art. 22): the audit never holds the id in clear. */
  readonly pseudonymizeOperator: PseudonymizeOperator;
  /** Statutory exemptions from consent (policies/exemptions.yaml); absent: none. */
  readonly exemptions?: StatutoryExemptions | undefined;
  /** Special applications; absent: queries naming a grant are refused (SPECIAL_GRANT_UNKNOWN). */
  readonly specialAccess?: SpecialAccessRegistry;
  readonly isDisputed?: (owner: string, recordId: string) => boolean;
  readonly onProhibited?: (event: ProhibitedDataEvent, ctx: ExchangeContext) => void;
  /** A provider sent data the catalogue does not vouch for: mislabelled, unlisted fields, negative records without an end (once per provider and exchange). */
  readonly onDataQuality?: (event: DataQualityEvent, ctx: ExchangeContext) => void;
  /**
   * The gateway's one admission point (src/core/limits/admission.ts): rate,
   * then a concurrency slot taken right after authentication and held until
   * the audit record is durable; throws a RESOURCE_EXHAUSTED CredexError to
   * refuse (the refusal is audited).
   */
  readonly admission?: Admission;
  /** Observers of every finished exchange (detectors, metrics). Must not throw. */
  readonly onExchange?: (ctx: ExchangeContext) => void;
  /** Spans and timings per stage and per provider call (src/adapters/otel); none by default. */
  readonly telemetry?: Telemetry;
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
  const t = deps.telemetry ?? NO_TELEMETRY;
  t.exchangeStart(ctx);
  let outcome: QueryOutcome | undefined;
  let slot: CallSlot | undefined;
  try {
    ctx.principal = t.stage(ctx, "authenticate", () => authenticate(deps.authenticate, peer, (cert) => (ctx.certificate = cert)));
    slot = deps.admission?.(ctx.principal, peer);
    if (request instanceof CredexError) throw request; // undecodable: refused after we know who sent it
    ctx.rawSubject = request.subject ? { type: request.subject.type, id: request.subject.id } : undefined;
    ctx.rawPurpose = request.purpose;
    ctx.rawCategories = request.categories.slice(0, deps.maxCategories);
    const now = new Date();
    const principal = ctx.principal;
    ctx.query = t.stage(ctx, "validate", () => validateQuery({ catalogue: deps.catalogue, maxCategories: deps.maxCategories, exemptions: deps.exemptions, registry: deps.authorize.registry }, request, principal, now));
    const q = ctx.query;
    const specialGrant = q.specialGrantId === "" ? undefined : useSpecialGrant(deps, ctx, now);
    ctx.decision = t.stage(ctx, "authorize", () => authorize(deps.authorize, { principal, categories: q.categories, purpose: q.purpose, specialGrant, consented: q.consent !== undefined }, now));
    const decision = ctx.decision;
    const routes = t.stage(ctx, "route", () => route(deps.authorize.registry, decision));
    ctx.outcomes = await t.stage(ctx, "fetch", () =>
      fetchFromProviders(
        deps.providers,
        routes,
        { exchangeId: ctx.exchangeId, subjectType: q.subjectType, subjectId: q.subjectId, purpose: request.purpose, requesterAgency: principal.agencyId },
        providerDeadline(deps, callerDeadline),
        (agencyId, call) => t.providerCall(ctx, agencyId, call),
      ),
    );
    const outcomes = ctx.outcomes;
    ctx.release = t.stage(ctx, "release", () =>
      release(decision, outcomes, {
        catalogue: deps.catalogue,
        subjectType: q.subjectType,
        subjectId: q.subjectId,
        sensitiveAllowed: sensitiveAllowedBy(q, specialGrant),
        now: new Date(),
        isDisputed: deps.isDisputed,
        onProhibited: deps.onProhibited ? (e) => deps.onProhibited!(e, ctx) : undefined,
        onDataQuality: deps.onDataQuality ? (e) => deps.onDataQuality!(e, ctx) : undefined,
      }),
    );
    const response = create(QueryResponseSchema, { exchangeId: ctx.exchangeId, results: ctx.release.results, policyRevision: ctx.decision.policyRevision });
    // A view, not Buffer.from(array)'s copy: the encoded answer is fan-out × payload bytes (BENCHMARKS.md).
    // Only fields this gateway knows and released leave it (provider-client.ts drops the rest on decode too).
    const encoded = toBinary(QueryResponseSchema, response, { writeUnknownFields: false });
    const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    ctx.responseDigest = createHash("sha256").update(bytes).digest();
    ctx.responseBytes = bytes.length;
    outcome = { responseBytes: bytes, response };
  } catch (err) {
    ctx.error = toCredexError(err);
  }
  ctx.repliedAt = new Date();
  try {
    await t.stage(ctx, "audit", () => audit(deps.auditSink(), auditEventOf(ctx, deps.pseudonymize, deps.pseudonymizeOperator)));
  } catch (err) {
    // Fail closed: whatever the exchange produced is dropped.
    ctx.error = toCredexError(err);
    outcome = undefined;
  } finally {
    slot?.();
  }
  deps.onExchange?.(ctx);
  t.exchangeEnd(ctx);
  if (ctx.error || !outcome) throw ctx.error ?? new CredexError("INTERNAL");
  return outcome;
}

function providerDeadline(deps: PipelineDeps, callerDeadline: Date | undefined): Date {
  const own = Date.now() + deps.providerTimeoutMs;
  if (!callerDeadline || !Number.isFinite(callerDeadline.getTime())) return new Date(own);
  return new Date(Math.min(own, callerDeadline.getTime() - deps.deadlineReserveMs));
}

/**
 * Level-4 content may pass when the written consent names its category (Art. 14.2), a
 * statutory exemption covers it, or — for a subject that is not a natural person — a
 * special grant of its owner covers it. For a natural person a grant never stands in for
 * the person's consent (Art. 13, 18; PIPL Art. 29): it widens only what the consent names.
 */
function sensitiveAllowedBy(q: NonNullable<ExchangeContext["query"]>, grant: GrantUse | undefined): (owner: string, category: string) => boolean {
  const natural = q.subjectType === SubjectType.NATURAL_PERSON;
  return (owner, category) =>
    (q.consent?.namesSensitiveCategories === true && q.consent.categories.has(category)) ||
    q.exemption?.categories.has(category) === true ||
    (!natural && grant !== undefined && grant.ownerAgency === owner && grant.categories.has(category));
}

function useSpecialGrant(deps: PipelineDeps, ctx: ExchangeContext, now: Date): GrantUse {
  const q = ctx.query!;
  if (!deps.specialAccess) throw new CredexError("SPECIAL_GRANT_UNKNOWN");
  return deps.specialAccess.use(q.specialGrantId, { requesterAgency: ctx.principal!.agencyId, subjectPseudonym: deps.pseudonymize(q.subjectType, q.subjectId), purpose: q.purpose, categories: q.categories }, now);
}
