import type { CredexError } from "./errors.js";
import type { ClientCertificate } from "./client-certificate.js";
import type { Principal } from "./principal.js";
import type { ExchangeDecision } from "./stages/authorize.js";
import type { ProviderOutcome } from "./stages/fetch.js";
import type { Release } from "./stages/release.js";
import type { ValidatedQuery } from "./stages/validate.js";

/** Everything known about one exchange as it passes the stages; the audit stage reads it whole. */
export interface ExchangeContext {
  readonly exchangeId: string;
  readonly traceId: string;
  /** The caller's W3C traceparent, when it sent a valid one (the trace continues it). */
  readonly traceparent?: string | undefined;
  readonly gatewayInstance: string;
  readonly method: string;
  readonly receivedAt: Date;
  readonly peerAddress?: string | undefined;
  readonly requestBytes: number;
  /** The subject, purpose and categories as sent, for the audit of refused requests (pseudonymised there). */
  rawSubject?: { type: number; id: string } | undefined;
  rawPurpose?: number | undefined;
  rawCategories?: readonly string[] | undefined;
  /** The agency a rejected certificate claimed, if readable. */
  claimedAgency?: string | undefined;
  certificate?: ClientCertificate | undefined;
  principal?: Principal | undefined;
  query?: ValidatedQuery | undefined;
  decision?: ExchangeDecision | undefined;
  outcomes?: ProviderOutcome[] | undefined;
  release?: Release | undefined;
  policyRevision?: string | undefined;
  responseDigest?: Uint8Array | undefined;
  responseBytes?: number | undefined;
  repliedAt?: Date | undefined;
  error?: CredexError | undefined;
}
