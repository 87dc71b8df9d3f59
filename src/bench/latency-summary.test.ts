import { describe, expect, it } from "vitest";
import { summarizeLatencies } from "./latency-summary.js";

describe("summarizeLatencies", () => {
  it("takes nearest-rank percentiles of 1..100", () => {
    const s = summarizeLatencies(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(s).toEqual({ p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 });
  });

  it("reports zeros for no samples", () => {
    expect(summarizeLatencies([]).max).toBe(0);
  });
});
