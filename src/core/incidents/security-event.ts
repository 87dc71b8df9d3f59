import type { ExchangeContext } from "../exchange-context.js";
import type { ProviderStatus } from "../stages/fetch.js";
import type { Pseudonymize } from "../stages/audit.js";

/**
 * One finished exchange as the detectors see it: identities, outcome and a
 * subject pseudonym, never the subject id (DOMAIN.md). Built from the
 * pipeline's ExchangeContext by `observationOf`.
 */
export interface ExchangeObservation {
  readonly exchangeId: string;
  readonly at: Date;
  /** The authenticated agency, else the agency a rejected certificate claimed. */
  readonly agencyId?: string | undefined;
  readonly authenticated: boolean;
  readonly certFingerprint?: string | undefined;
  readonly certSerial?: string | undefined;
  readonly peerAddress?: string | undefined;
  readonly subjectPseudonym?: string | undefined;
  /** The ErrorInfo reason of a refused exchange; undefined when answered. */
  readonly reason?: string | undefined;
  readonly providers: ReadonlyArray<{ readonly agencyId: string; readonly status: ProviderStatus }>;
}

export function observationOf(ctx: ExchangeContext, pseudonymize: Pseudonymize): ExchangeObservation {
  // The same pseudonym as the exchange's audit record, so evidence leads to it.
  const subject = ctx.rawSubject;
  return {
    exchangeId: ctx.exchangeId,
    at: ctx.repliedAt ?? ctx.receivedAt,
    agencyId: ctx.principal?.agencyId ?? ctx.claimedAgency,
    authenticated: ctx.principal !== undefined,
    certFingerprint: ctx.certificate?.fingerprint,
    certSerial: ctx.certificate?.serial,
    peerAddress: ctx.peerAddress,
    subjectPseudonym: subject && subject.id !== "" ? pseudonymize(subject.type, subject.id) : undefined,
    reason: ctx.error?.reason,
    providers: (ctx.outcomes ?? []).map((o) => ({ agencyId: o.agencyId, status: o.status })),
  };
}

/**
 * Security events other modules report outside the exchange stream
 * (the `report*` functions of the incident manager build them).
 */
export type SecurityEvent =
  | { readonly kind: "prohibited-data"; readonly at: Date; readonly provider: string; readonly exchangeId: string; readonly recordId: string; readonly fieldName: string }
  /**
   * A provider sent data the catalogue does not vouch for: labels less strict than the catalogue, fields it
   * does not list, negative records without an end (one event per provider and exchange).
   */
  | {
      readonly kind: "provider-data-quality";
      readonly at: Date;
      readonly provider: string;
      readonly exchangeId: string;
      readonly mislabelledRecords: number;
      readonly mislabelledFields: number;
      readonly properties: readonly string[];
      readonly recordIds: readonly string[];
      readonly unknownFields?: number;
      readonly unknownFieldNames?: readonly string[];
      readonly negativeWithoutEnd?: number;
    }
  | { readonly kind: "audit-degraded"; readonly at: Date; readonly detail: string; readonly spoolBytes?: number; readonly spoolMaxBytes?: number }
  | { readonly kind: "certificate-expiry"; readonly at: Date; readonly fingerprint: string; readonly owner: string; readonly notAfter: Date }
  | { readonly kind: "policy-rejected"; readonly at: Date; readonly revision: string; readonly problem: string }
  /** An objection not answered within 20 days (Art. 25). */
  | { readonly kind: "objection-overdue"; readonly at: Date; readonly objectionId: string; readonly ownerAgency: string; readonly recordId: string; readonly dueAt: Date }
  /** The gateway started a new audit chain (--new-audit-chain) because its chain state was refused. */
  | { readonly kind: "audit-chain-restarted"; readonly at: Date; readonly instance: string; readonly sequence: bigint; readonly reason: string; readonly previousCheckpoint: string }
  /** A posture control (等级保护 check) that passed before now fails. */
  | { readonly kind: "posture-regression"; readonly at: Date; readonly control: string; readonly clause: string; readonly detail: string; readonly critical: boolean }
  /** A suspension, throttle or restricted-mode record on the control topic was refused: forged, signed by a non-replica, or a replay. */
  | { readonly kind: "runtime-setting-refused"; readonly at: Date; readonly key: string; readonly problem: string }
  /** A level-1 decision published past the 7 working days of the double-publicity rule (2700号). */
  | {
      readonly kind: "disclosure-late";
      readonly at: Date;
      readonly ownerAgency: string;
      readonly entryId: string;
      readonly category: string;
      readonly decisionDate: Date;
      readonly lagWorkingDays: number;
      readonly maxLagWorkingDays: number;
    };
