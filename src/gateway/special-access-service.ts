import { randomBytes, randomUUID } from "node:crypto";
import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  DecideSpecialAccessResponseSchema,
  RequestSpecialAccessResponseSchema,
  SpecialAccessApplicationSchema,
  SpecialAccessState,
  type DecideSpecialAccessRequest,
  type RequestSpecialAccessRequest,
  type SpecialAccessApplication,
} from "../gen/credex/v1/special_access_pb.js";
import { Purpose } from "../gen/credex/v1/types_pb.js";
import { CredexError, toCredexError } from "../core/errors.js";
import type { AuditSink } from "../core/audit-sink.js";
import type { Catalogue, PurposeName } from "../core/catalogue.js";
import { missingPurposeRole, type AgencyRegistry } from "../core/registry.js";
import { assertSectorMayAsk } from "../core/sector-rights.js";
import type { Pseudonymize } from "../core/stages/audit.js";
import { authenticate, type AuthenticateDeps } from "../core/stages/authenticate.js";
import { validateSubjectId } from "../core/stages/validate.js";
import type { SpecialAccessRegistry, SpecialApplication } from "../core/special-access/special-access-registry.js";
import { specialAccessEventOf, type SpecialAccessStep } from "../core/special-access/special-access-audit.js";
import { isUndecodable, requestSizeOf, type UndecodableRequest } from "../adapters/grpc/service-definition.js";
import { statusFromError } from "../adapters/grpc/rich-status.js";
import { peerTlsOf } from "../adapters/grpc/peer-tls.js";
import type { Admission } from "../core/limits/admission.js";
import type { CallSlot } from "../core/limits/agency-concurrency-limiter.js";

export interface SpecialAccessServiceDeps {
  readonly instance: string;
  readonly authenticate: AuthenticateDeps;
  readonly registry: AgencyRegistry;
  readonly catalogue: Catalogue;
  readonly specialAccess: SpecialAccessRegistry;
  readonly auditSink: () => AuditSink;
  readonly pseudonymize: Pseudonymize;
  readonly acceptingCalls: () => boolean;
  /** The gateway's one admission point (rate, concurrency): refusals are audited as steps. */
  readonly admission?: Admission | undefined;
}

/**
 * RequestSpecialAccess and DecideSpecialAccess: authenticate, check, record
 * the step in the registry, audit it (no audit, no answer), reply.
 */
export function createSpecialAccessHandlers(deps: SpecialAccessServiceDeps) {
  async function handle<Req extends object>(
    method: SpecialAccessStep["method"],
    call: ServerUnaryCall<Req | UndecodableRequest, unknown>,
    act: (request: Req, step: SpecialAccessStep) => SpecialApplication,
  ): Promise<SpecialAccessApplication> {
    const step: SpecialAccessStep = {
      callId: randomUUID(),
      traceId: randomBytes(16).toString("hex"),
      gatewayInstance: deps.instance,
      method,
      receivedAt: new Date(),
      requestBytes: requestSizeOf(call.request as object),
      peerAddress: call.getPeer(),
      attributes: {},
    };
    let result: SpecialApplication | undefined;
    let slot: CallSlot | undefined;
    try {
      const peer = peerTlsOf(call);
      step.principal = authenticate(deps.authenticate, peer, (cert) => (step.certificate = cert));
      slot = deps.admission?.(step.principal, peer);
      if (!deps.acceptingCalls()) throw new CredexError("SHUTTING_DOWN");
      if (isUndecodable(call.request)) throw new CredexError(call.request.$undecodable, `the request could not be accepted: ${call.request.detail}`);
      result = act(call.request as Req, step);
      Object.assign(step.attributes, attributesOf(result));
    } catch (err) {
      step.error = toCredexError(err);
    }
    try {
      await deps.auditSink().append(specialAccessEventOf(step));
    } catch (err) {
      throw err instanceof CredexError ? err : new CredexError("AUDIT_UNAVAILABLE", undefined, {}, { cause: err });
    } finally {
      slot?.();
    }
    if (step.error || !result) throw step.error ?? new CredexError("INTERNAL");
    return applicationMessage(result);
  }

  const reply = <T>(promise: Promise<T>, callback: sendUnaryData<T>) =>
    promise.then(
      (value) => callback(null, value),
      (err) => callback(statusFromError(toCredexError(err))),
    );

  return {
    requestSpecialAccess(call: ServerUnaryCall<RequestSpecialAccessRequest | UndecodableRequest, unknown>, callback: sendUnaryData<unknown>) {
      const work = handle<RequestSpecialAccessRequest>("RequestSpecialAccess", call, (request, step) => {
        const subject = request.subject;
        if (!subject || subject.id === "") throw new CredexError("SUBJECT_MISSING");
        validateSubjectId(subject.type, subject.id);
        const purpose = Purpose[request.purpose] as PurposeName | undefined;
        if (request.purpose === Purpose.UNSPECIFIED || purpose === undefined) throw new CredexError("PURPOSE_MISSING");
        step.purpose = request.purpose;
        // The same registry rule as authorize: a grant for a purpose the requester may not state is never asked for.
        const missingRole = missingPurposeRole(deps.registry.get(step.principal!.agencyId), purpose);
        if (missingRole !== undefined) {
          throw new CredexError("PURPOSE_NOT_PERMITTED", `purpose ${purpose} needs the "${missingRole}" role in the agency registry`, { purpose, required_role: missingRole, agency: step.principal!.agencyId });
        }
        const owner = deps.registry.get(request.ownerAgency);
        if (!owner) throw new CredexError("FIELD_INVALID", `owner_agency "${request.ownerAgency.slice(0, 64)}" is not a member`, { field: "owner_agency" });
        for (const category of request.categories) {
          if (!deps.catalogue.categories.has(category)) throw new CredexError("CATEGORY_UNKNOWN", `category "${category.slice(0, 64)}" is not in the catalogue`, { category: category.slice(0, 64) });
          if (!owner.categories.includes(category)) throw new CredexError("FIELD_INVALID", `${owner.id} does not provide "${category}"`, { field: "categories" });
        }
        // The sector's bounds, as authorize applies them: a credit bureau never applies for level-4 data.
        assertSectorMayAsk(step.principal!.sector, purpose, request.categories.map((c) => deps.catalogue.categories.get(c)!));
        const subjectPseudonym = deps.pseudonymize(subject.type, subject.id);
        Object.assign(step, { subjectPseudonym, subjectType: subject.type, categories: request.categories, purpose: request.purpose });
        return deps.specialAccess.apply(
          {
            requesterAgency: step.principal!.agencyId,
            requesterCertFingerprint: step.principal!.certFingerprint,
            ownerAgency: owner.id,
            subjectPseudonym,
            categories: [...new Set(request.categories)],
            purpose,
            justification: request.justification,
            durationSeconds: request.durationSeconds,
          },
          new Date(),
        );
      }).then((application) => create(RequestSpecialAccessResponseSchema, { application }));
      reply(work, callback);
    },

    decideSpecialAccess(call: ServerUnaryCall<DecideSpecialAccessRequest | UndecodableRequest, unknown>, callback: sendUnaryData<unknown>) {
      const work = handle<DecideSpecialAccessRequest>("DecideSpecialAccess", call, (request, step) => {
        const pending = deps.specialAccess.get(request.applicationId);
        if (pending) Object.assign(step, { subjectPseudonym: pending.subjectPseudonym, categories: pending.categories, purpose: Purpose[pending.purpose as keyof typeof Purpose] });
        return deps.specialAccess.decide(
          {
            applicationId: request.applicationId,
            approverAgency: step.principal!.agencyId,
            approverCertFingerprint: step.principal!.certFingerprint,
            approve: request.approve,
            maxUses: request.maxUses,
            validSeconds: request.validSeconds,
            note: request.note,
          },
          new Date(),
        );
      }).then((application) => create(DecideSpecialAccessResponseSchema, { application }));
      reply(work, callback);
    },
  };
}

function attributesOf(a: SpecialApplication): Record<string, string> {
  return {
    application_id: a.applicationId,
    state: a.state,
    owner: a.ownerAgency,
    ...(a.grantId ? { grant_id: a.grantId, max_uses: String(a.maxUses), uses_left: String(a.usesLeft), expires_at: a.expiresAt! } : {}),
  };
}

function applicationMessage(a: SpecialApplication): SpecialAccessApplication {
  return create(SpecialAccessApplicationSchema, {
    applicationId: a.applicationId,
    state: SpecialAccessState[a.state],
    requesterAgency: a.requesterAgency,
    ownerAgency: a.ownerAgency,
    categories: [...a.categories],
    purpose: Purpose[a.purpose as keyof typeof Purpose],
    requestedAt: timestampFromDate(new Date(a.requestedAt)),
    decidedAt: a.decidedAt ? timestampFromDate(new Date(a.decidedAt)) : undefined,
    grantId: a.grantId ?? "",
    maxUses: a.maxUses ?? 0,
    usesLeft: a.usesLeft ?? 0,
    expiresAt: a.expiresAt ? timestampFromDate(new Date(a.expiresAt)) : undefined,
  });
}
