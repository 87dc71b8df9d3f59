import { describe, expect, it } from "vitest";
import { medianAddedP50, type ScenarioResult } from "./bench-run.js";

const scenario = (p50: number, roundsP50Ms?: number[]) => ({ latencyMs: { p50 }, ...(roundsP50Ms ? { roundsP50Ms } : {}) }) as unknown as ScenarioResult;

describe("medianAddedP50", () => {
  it("takes the median of the round-by-round differences, not the difference of the kept medians", () => {
    // Round 2 ran on a slow machine for both: paired, it adds 1 ms like the others.
    const audited = scenario(3, [3, 9, 2.5]);
    const unaudited = scenario(2, [2, 8, 1.4]);
    expect(medianAddedP50(audited, unaudited)).toBe(1);
  });
  it("averages the middle two of an even number of rounds", () => {
    expect(medianAddedP50(scenario(0, [3, 5]), scenario(0, [1, 2]))).toBe(2.5);
  });
  it("falls back to the two p50s without rounds, and is NaN when a scenario is missing", () => {
    expect(medianAddedP50(scenario(4.5), scenario(1.5))).toBe(3);
    expect(medianAddedP50(undefined, scenario(1))).toBeNaN();
  });
});
