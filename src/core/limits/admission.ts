import type { PeerTls, Principal } from "../principal.js";
import type { CallSlot } from "./agency-concurrency-limiter.js";

/**
 * The one admission decision for every call an agency makes to
 * CreditExchange (README "Limits"): queries, special applications, lists and
 * objections alike; health and reflection are not agency calls. It runs right
 * after authenticate, so that a refusal names the agency and is audited like
 * any other outcome of the method; it throws a RESOURCE_EXHAUSTED CredexError
 * (RATE_LIMITED, TOO_MANY_CONCURRENT_CALLS, TOO_MANY_CONNECTIONS) to refuse,
 * and otherwise returns the call's slot, released once the call's audit
 * record is durable (or, for a stream, once the stream ends).
 */
export type Admission = (principal: Principal, peer: PeerTls) => CallSlot;

export interface AdmissionParts {
  /** Per-agency request rate (token bucket, src/core/agency-rate-limiter.ts): throws RATE_LIMITED. */
  readonly rate?: ((principal: Principal) => void) | undefined;
  /** Per-agency concurrent calls and connections (src/core/limits/agency-concurrency-limiter.ts). */
  readonly slots?: ((principal: Principal, peer: PeerTls) => CallSlot) | undefined;
}

const NO_SLOT: CallSlot = () => undefined;

/** Rate first (a call refused for its rate takes no slot), then the concurrency and connection slot. */
export function createAdmission(parts: AdmissionParts): Admission {
  const { rate, slots } = parts;
  return (principal, peer) => {
    rate?.(principal);
    return slots ? slots(principal, peer) : NO_SLOT;
  };
}
