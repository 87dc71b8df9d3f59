import type { CreditRecord } from "../../gen/credex/v1/types_pb.js";
import type { AgencyEntry } from "../registry.js";
import type { ProviderRoute } from "./route.js";

export type ProviderStatus = "OK" | "UNAVAILABLE" | "DEADLINE_EXCEEDED" | "ERROR";

/** What the gateway asks one provider (mirrors credex.v1.FetchRequest). */
export interface ProviderQuery {
  readonly exchangeId: string;
  readonly subjectType: number;
  readonly subjectId: string;
  readonly categories: readonly string[];
  readonly purpose: number;
  readonly requesterAgency: string;
  readonly maxLevel: number;
  /** W3C traceparent of the provider-call span, passed on in the call's metadata. */
  readonly traceparent?: string | undefined;
}

export interface ProviderReply {
  readonly records: CreditRecord[];
  readonly bytes: number;
}

/** A provider call that failed, classified by the adapter. */
export class ProviderCallError extends Error {
  constructor(
    readonly status: Exclude<ProviderStatus, "OK">,
    message: string,
  ) {
    super(message);
    this.name = "ProviderCallError";
  }
}

/** The CreditProvider client (adapter: src/adapters/grpc/provider-client.ts). */
export interface ProviderClient {
  fetch(agency: AgencyEntry, query: ProviderQuery, deadline: Date): Promise<ProviderReply>;
}

export interface ProviderOutcome {
  readonly agencyId: string;
  readonly status: ProviderStatus;
  readonly detail: string;
  readonly records: CreditRecord[];
  readonly bytes: number;
  readonly requestedAt: Date;
  readonly respondedAt: Date;
}

export interface FetchInput {
  readonly exchangeId: string;
  readonly subjectType: number;
  readonly subjectId: string;
  readonly purpose: number;
  readonly requesterAgency: string;
}

/** Wraps one provider call (tracing, timing); passes the traceparent to send. */
export type ProviderCallObserver = (agencyId: string, call: (traceparent: string | undefined) => Promise<ProviderReply>) => Promise<ProviderReply>;

/**
 * Stage 5: ask the owners, all at once. Each provider gets the same deadline
 * (derived from the caller's); one that is down, slow or broken yields its own
 * status and never fails the exchange (a partial answer).
 */
export async function fetchFromProviders(
  client: ProviderClient,
  routes: readonly ProviderRoute[],
  input: FetchInput,
  deadline: Date,
  observe: ProviderCallObserver = (_agencyId, call) => call(undefined),
): Promise<ProviderOutcome[]> {
  return Promise.all(
    routes.map(async (r): Promise<ProviderOutcome> => {
      const requestedAt = new Date();
      try {
        const reply = await observe(r.agency.id, (traceparent) =>
          client.fetch(r.agency, { ...input, categories: r.categories, maxLevel: r.maxLevel, traceparent }, deadline),
        );
        return { agencyId: r.agency.id, status: "OK", detail: "", records: reply.records, bytes: reply.bytes, requestedAt, respondedAt: new Date() };
      } catch (err) {
        const status = err instanceof ProviderCallError ? err.status : "ERROR";
        const detail = err instanceof Error ? err.message : String(err);
        return { agencyId: r.agency.id, status, detail, records: [], bytes: 0, requestedAt, respondedAt: new Date() };
      }
    }),
  );
}
