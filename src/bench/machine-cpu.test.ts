import { describe, expect, it } from "vitest";
import { parseProcStatCpu, startMachineCpuWindow } from "./machine-cpu.js";

describe("machine CPU window", () => {
  it("counts idle and iowait as not busy and ignores guest time (already in user)", () => {
    const stat = "cpu  100 10 40 800 50 0 0 0 7 3\ncpu0 50 5 20 400 25 0 0 0 0 0\nintr 1\n";
    expect(parseProcStatCpu(stat)).toEqual({ busy: 150, total: 1000 });
  });

  it("refuses a stat without an aggregate cpu line or with non-numbers", () => {
    expect(parseProcStatCpu("cpu0 1 2 3 4\n")).toBeUndefined();
    expect(parseProcStatCpu("cpu  1 x 3 4\n")).toBeUndefined();
  });

  it("measures a share between 0 and 1 on Linux", async () => {
    const window = startMachineCpuWindow();
    const until = Date.now() + 100;
    while (Date.now() < until) Math.sqrt(Math.random());
    await new Promise((r) => setTimeout(r, 20));
    const busy = window.stop();
    if (process.platform !== "linux") expect(busy).toBeUndefined();
    else {
      expect(busy).toBeGreaterThan(0);
      expect(busy).toBeLessThanOrEqual(1);
    }
  });
});
