import { describe, expect, it } from "vitest";
import { CredexError } from "../errors.js";
import { createAgencyConcurrencyLimiter } from "./agency-concurrency-limiter.js";

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof CredexError ? err.reason : "not a CredexError";
  }
  return undefined;
}

describe("createAgencyConcurrencyLimiter", () => {
  it("fail/concurrent calls above the limit are refused per agency", () => {
    const limiter = createAgencyConcurrencyLimiter({ maxConcurrentCallsPerAgency: 2, maxConnectionsPerAgency: 10 });
    const a = limiter.enter("pbccrc");
    limiter.enter("pbccrc");
    expect(reasonOf(() => limiter.enter("pbccrc"))).toBe("TOO_MANY_CONCURRENT_CALLS");
    expect(reasonOf(() => limiter.enter("csrc"))).toBeUndefined();
    a();
    a();
    expect(limiter.usage("pbccrc").calls).toBe(1);
    expect(reasonOf(() => limiter.enter("pbccrc"))).toBeUndefined();
  });

  it("fail/a connection above the per-agency limit is refused; calls on admitted connections pass", () => {
    const limiter = createAgencyConcurrencyLimiter({ maxConcurrentCallsPerAgency: 100, maxConnectionsPerAgency: 2 });
    const c1 = {};
    const c2 = {};
    const c3 = {};
    limiter.enter("pbccrc", c1)();
    limiter.enter("pbccrc", c2)();
    expect(reasonOf(() => limiter.enter("pbccrc", c3))).toBe("TOO_MANY_CONNECTIONS");
    expect(reasonOf(() => limiter.enter("pbccrc", c1))).toBeUndefined();
    expect(limiter.usage("pbccrc")).toEqual({ calls: 1, connections: 2 });
    limiter.connectionClosed(c2);
    expect(reasonOf(() => limiter.enter("pbccrc", c3))).toBeUndefined();
    expect(limiter.usage("pbccrc").connections).toBe(2);
  });

  it("ok/a refused call holds no slot", () => {
    const limiter = createAgencyConcurrencyLimiter({ maxConcurrentCallsPerAgency: 1, maxConnectionsPerAgency: 1 });
    limiter.enter("nfra", {});
    expect(reasonOf(() => limiter.enter("nfra", {}))).toBe("TOO_MANY_CONNECTIONS");
    expect(limiter.usage("nfra")).toEqual({ calls: 1, connections: 1 });
  });
});
