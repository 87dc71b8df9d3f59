import { describe, expect, it } from "vitest";
import { createPostureMonitor } from "./posture-monitor.js";
import type { ControlResult, PostureReport } from "./posture-evidence.js";

const control = (id: string, status: ControlResult["status"]): ControlResult => ({ id, title: id, status, evidence: "", clause: "GB/T 22239-2019 8.1.4.3" });
const report = (...controls: ControlResult[]): PostureReport => ({
  level: 3,
  checkedAt: new Date(0),
  controls,
  failing: controls.filter((c) => c.status === "fail").length,
  warnings: controls.filter((c) => c.status === "warn").length,
});

describe("createPostureMonitor", () => {
  it("calls onRegression once per control going from pass or warn to fail, not for a control failing from the start", async () => {
    const reports = [
      report(control("a", "pass"), control("b", "warn"), control("c", "fail")),
      report(control("a", "fail"), control("b", "fail"), control("c", "fail")),
      report(control("a", "fail"), control("b", "pass"), control("c", "fail")),
    ];
    const regressions: string[] = [];
    const seen: number[] = [];
    const monitor = createPostureMonitor({
      evaluate: async () => reports.shift()!,
      onRegression: (c) => regressions.push(c.id),
      onReport: (r) => seen.push(r.failing),
    });
    await monitor.check();
    expect(regressions).toEqual([]);
    await monitor.check();
    expect(regressions).toEqual(["a", "b"]);
    await monitor.check();
    expect(regressions).toEqual(["a", "b"]);
    expect(seen).toEqual([1, 3, 2]);
    expect(monitor.last()?.failing).toBe(2);
  });

  it("shares a check in progress and reports a check that cannot run", async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const monitor = createPostureMonitor({
      evaluate: async () => {
        calls++;
        throw new Error("config unreadable");
      },
      onError: (err) => errors.push(err),
    });
    const [a, b] = await Promise.all([monitor.check(), monitor.check()]);
    expect([a, b, calls]).toEqual([undefined, undefined, 1]);
    expect((errors[0] as Error).message).toBe("config unreadable");
    expect(monitor.last()).toBeUndefined();
  });
});
