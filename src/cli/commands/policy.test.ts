import { cpSync, mkdtempSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UsageError } from "../command.js";
import { command } from "./policy.js";

const POLICIES = join(__dirname, "..", "..", "..", "policies");

function captureStdout(): () => string {
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  return () => out;
}

afterEach(() => vi.restoreAllMocks());

describe("credex policy", () => {
  it("ok/check of the shipped policies exits 0", async () => {
    const out = captureStdout();
    expect(await command.run(["check", POLICIES])).toBe(0);
    expect(out()).toMatch(/^\d+ rules, 20\/20 tests passed, 0 error\(s\), 0 warning\(s\); revision [0-9a-f]{16}\n$/);
  });

  it("fail/check exits 1 with file:line, and --strict fails on warnings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-cli-policy-"));
    cpSync(POLICIES, dir, { recursive: true });
    appendFileSync(join(dir, "policy.csv"), "p, pbccrc, csrc, securities_violation, query, 2, LOAN_APPROVAL, allow\n");
    let out = captureStdout();
    expect(await command.run(["check", dir])).toBe(0);
    expect(out()).toMatch(/policy\.csv:\d+: warning: shadowed by line \d+/);
    vi.restoreAllMocks();
    out = captureStdout();
    expect(await command.run(["check", dir, "--strict"])).toBe(1);
    appendFileSync(join(dir, "policy.csv"), "p, pbccrc, csrc, securities_violation, query, 9, LOAN_APPROVAL, allow\n");
    vi.restoreAllMocks();
    out = captureStdout();
    expect(await command.run(["check", dir])).toBe(1);
    expect(out()).toMatch(/policy\.csv:\d+: error: level "9" is not one of 1, 2, 3, 4/);
  });

  it("ok/diff exits 1 and words the change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-cli-policy-"));
    cpSync(POLICIES, dir, { recursive: true });
    appendFileSync(join(dir, "policy.csv"), "p, nfra, csrc, securities_holding, query, 4, GUARANTEE, allow\n");
    const out = captureStdout();
    expect(await command.run(["diff", POLICIES, dir, "--agencies", "nfra:INSURANCE,csrc:SECURITIES"])).toBe(1);
    expect(out()).toContain("+ nfra may now receive securities_holding of csrc up to level 4 (SENSITIVE) for GUARANTEE; before: nothing\n");
  });

  it("fail/usage errors", async () => {
    await expect(command.run([])).rejects.toThrow(UsageError);
    await expect(command.run(["diff", POLICIES])).rejects.toThrow("diff needs <old-dir> and <new-dir>");
    await expect(command.run(["apply"])).rejects.toThrow('unknown action "apply"');
    await expect(command.run(["diff", "a", "b", "--agencies", "nfra"])).rejects.toThrow('"nfra" is not id:SECTOR');
  });
});
