/**
 * The compiled harness as users run it (`credex bench`): providers, load
 * generator and — in the scale-out curve — every gateway replica in a process
 * of its own. The other bench tests run inline from the sources; this one
 * builds dist/ and runs bin/credex.js. Shape and correctness only, nothing timed.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchReport } from "../src/bench/bench-run.js";
import { packageRoot } from "../src/config/package-root.js";
import { kafkaBrokers } from "./support/kafka.js";

const run = promisify(execFile);
const root = packageRoot();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "credex-bench-processes-"));
  await run("npm", ["run", "-s", "build"], { cwd: root });
}, 180_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("credex bench, compiled, with processes", () => {
  it("scale-out: two gateway replicas in processes of their own, every exchange audited exactly once", async () => {
    const out = join(dir, "scale-out.json");
    const { stdout } = await run(
      process.execPath,
      [join(root, "bin", "credex.js"), "bench", "--curve", "scale-out", "--kafka", "--steps", "2", "--duration", "1.5", "--warmup", "0.5", "--concurrency", "8", "--json", out],
      { cwd: root, env: { ...process.env, KAFKA_BROKERS: kafkaBrokers() }, timeout: 150_000 },
    );
    const report = JSON.parse(await readFile(out, "utf8")) as BenchReport;
    const point = report.curve!.points[0]!;
    const scenario = point.scenarios[0]!;
    expect(scenario.gatewaysInOwnProcesses).toBe(true);
    expect(scenario.errors).toBe(0);
    expect(scenario.calls).toBeGreaterThan(0);
    expect(point.audit).toMatchObject({ duplicates: 0, complete: true });
    expect(point.audit!.records).toBe(point.audit!.expected);
    expect(Object.keys(point.audit!.byInstance)).toHaveLength(2);
    expect(stdout).toContain("0 duplicate chain positions");
  }, 200_000);
});
