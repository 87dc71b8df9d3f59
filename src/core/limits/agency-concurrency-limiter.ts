import { CredexError } from "../errors.js";

export interface AgencyConcurrencyLimits {
  /** Exchanges one agency may have in progress at once, over all its connections. */
  readonly maxConcurrentCallsPerAgency: number;
  /** Transport connections one agency may hold open at once. */
  readonly maxConnectionsPerAgency: number;
}

/** A slot held by one admitted call; release it exactly once (later calls are no-ops). */
export type CallSlot = () => void;

/**
 * Per-agency bounds on concurrency: calls in progress and open connections.
 * Distinct from request *rate* (a token bucket, pipeline `admit` hook): a
 * slow or hostile agency can hold resources without a high rate, so both are
 * needed. Limits apply per authenticated agency, never per IP, because one
 * regulator's traffic may come from many addresses behind one NAT.
 *
 * Connections are opaque objects (an HTTP/2 session in the grpc adapter); a
 * connection is counted from the first call it carries until
 * `connectionClosed`. Core code: no transport import.
 */
export interface AgencyConcurrencyLimiter {
  /**
   * Admits one call of `agencyId` arriving on `connection`, or throws
   * TOO_MANY_CONNECTIONS / TOO_MANY_CONCURRENT_CALLS (RESOURCE_EXHAUSTED).
   */
  enter(agencyId: string, connection?: object): CallSlot;
  /** Forgets a connection (its transport closed). */
  connectionClosed(connection: object): void;
  /** Current figures, for metrics and tests. */
  usage(agencyId: string): { calls: number; connections: number };
}

export function createAgencyConcurrencyLimiter(limits: AgencyConcurrencyLimits): AgencyConcurrencyLimiter {
  const calls = new Map<string, number>();
  const connections = new Map<string, Set<object>>();
  const agencyOfConnection = new WeakMap<object, string>();

  return {
    enter(agencyId, connection) {
      if (connection !== undefined && agencyOfConnection.get(connection) !== agencyId) {
        const open = connections.get(agencyId) ?? new Set<object>();
        if (open.size >= limits.maxConnectionsPerAgency) {
          throw new CredexError("TOO_MANY_CONNECTIONS", undefined, { agency: agencyId, limit: String(limits.maxConnectionsPerAgency) });
        }
        // A connection re-used by another agency's certificate cannot happen over TLS; tolerate it by moving it.
        const previous = agencyOfConnection.get(connection);
        if (previous !== undefined) connections.get(previous)?.delete(connection);
        open.add(connection);
        connections.set(agencyId, open);
        agencyOfConnection.set(connection, agencyId);
      }
      const inFlight = calls.get(agencyId) ?? 0;
      if (inFlight >= limits.maxConcurrentCallsPerAgency) {
        throw new CredexError("TOO_MANY_CONCURRENT_CALLS", undefined, { agency: agencyId, limit: String(limits.maxConcurrentCallsPerAgency) });
      }
      calls.set(agencyId, inFlight + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (calls.get(agencyId) ?? 1) - 1;
        if (left > 0) calls.set(agencyId, left);
        else calls.delete(agencyId);
      };
    },
    connectionClosed(connection) {
      const agencyId = agencyOfConnection.get(connection);
      if (agencyId === undefined) return;
      agencyOfConnection.delete(connection);
      const open = connections.get(agencyId);
      open?.delete(connection);
      if (open && open.size === 0) connections.delete(agencyId);
    },
    usage(agencyId) {
      return { calls: calls.get(agencyId) ?? 0, connections: connections.get(agencyId)?.size ?? 0 };
    },
  };
}
