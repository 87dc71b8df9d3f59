import { describe, expect, it } from "vitest";
import { createAgencyRateLimiter } from "./agency-rate-limiter.js";
import type { Principal } from "./principal.js";

const p = (agencyId: string) => ({ agencyId }) as Principal;

describe("agency rate limiter (token bucket)", () => {
  it("admits a burst, refuses with RATE_LIMITED, refills with time", () => {
    let now = 0;
    const l = createAgencyRateLimiter({ defaultRatePerSecond: 3, clock: () => now });
    for (let i = 0; i < 3; i++) l.admit(p("a"));
    expect(() => l.admit(p("a"))).toThrowError(expect.objectContaining({ reason: "RATE_LIMITED", code: 8 }));
    l.admit(p("b"));
    now = 400; // 1.2 tokens accrued
    l.admit(p("a"));
    expect(() => l.admit(p("a"))).toThrowError(expect.objectContaining({ reason: "RATE_LIMITED" }));
  });
  it("throttles one agency below the default and lifts it again", () => {
    let now = 0;
    const l = createAgencyRateLimiter({ defaultRatePerSecond: 100, clock: () => now });
    l.throttle("a", { ratePerSecond: 1, burst: 1 });
    l.admit(p("a"));
    expect(() => l.admit(p("a"))).toThrowError(expect.objectContaining({ reason: "RATE_LIMITED" }));
    expect([...l.throttled().keys()]).toEqual(["a"]);
    l.unthrottle("a");
    for (let i = 0; i < 50; i++) l.admit(p("a"));
    now = 1;
    expect(() => l.throttle("a", { ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});
