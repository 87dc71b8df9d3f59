import { cpSync, mkdtempSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createCa } from "../../adapters/pki/certificate-authority.js";
import { decodeControlItem, verifyControlItem } from "../../core/control/control-item.js";
import { policyBundleOf } from "../../core/control/policy-bundle-item.js";
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
    expect(out()).toMatch(/^\d+ rules, (\d+)\/\1 tests passed, 0 error\(s\), 0 warning\(s\); revision [0-9a-f]{16}\n$/);
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

  it("fail/check refuses a statutory exemption without a legal basis or naming an unknown category (Regulation Art. 18)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-cli-policy-"));
    cpSync(POLICIES, dir, { recursive: true });
    writeFileSync(join(dir, "exemptions.yaml"), "exemptions:\n  tax_audit:\n    legalBasis: tax law\n    requesterRoles: [judicial]\n    purposes: [ENFORCEMENT]\n    categories: [horoscope]\n");
    const out = captureStdout();
    expect(await command.run(["check", dir])).toBe(1);
    expect(out()).toMatch(/exemptions\.yaml: error: .*exemptions\.tax_audit\.categories: "horoscope" is not in the catalogue/);
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
    await expect(command.run(["publish"])).rejects.toThrow('unknown action "publish" (expected check, diff or apply)');
    await expect(command.run(["diff", "a", "b", "--agencies", "nfra"])).rejects.toThrow('"nfra" is not id:SECTOR');
  });
});

describe("credex policy apply", () => {
  let keyFile: string;
  let certFile: string;
  let certPem: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-cli-apply-"));
    const ca = await createCa({ commonName: "policy operator", keyBits: 2048 });
    certPem = ca.certPem;
    keyFile = join(dir, "operator.key");
    certFile = join(dir, "operator.crt");
    writeFileSync(keyFile, ca.keyPem, { mode: 0o600 });
    writeFileSync(certFile, ca.certPem);
  });
  const signing = () => ["--signing-key", keyFile, "--signing-cert", certFile];

  it("ok/checks, signs and publishes the directory as one bundle on the control file", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "credex-cli-apply-")), "control.jsonl");
    const out = captureStdout();
    expect(await command.run(["apply", POLICIES, "--control-file", file, ...signing(), "--revision", "r-2026.1"])).toBe(0);
    expect(out()).toMatch(/published policy bundle r-2026\.1 \(sequence 1, \d+ bytes gzip'd, signed by policy operator\) to file /);
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { key: string; value: string });
    expect(lines.map((l) => l.key)).toEqual(["policy-bundle/1"]);
    const item = decodeControlItem(Buffer.from(lines[0]!.value, "base64"));
    verifyControlItem(item, [new X509Certificate(certPem)]);
    const bundle = policyBundleOf(item);
    expect([bundle.revision, bundle.sequence, bundle.operator, Object.keys(bundle.tests)]).toEqual(["r-2026.1", 1, "policy operator", ["demo-agencies.yaml"]]);
    expect(bundle.policy).toBe(readFileSync(join(POLICIES, "policy.csv"), "utf8"));
  });

  it("ok/sequence (issue 16, item 4): each apply is numbered one above the highest signed bundle on the channel; a forged higher claim is ignored; --sequence must be above", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "credex-cli-apply-")), "control.jsonl");
    let out = captureStdout();
    const err: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
    expect(await command.run(["apply", POLICIES, "--control-file", file, ...signing(), "--revision", "a"])).toBe(0);
    // A record claiming sequence 99 that this certificate did not sign (here: not signed at all).
    const first = JSON.parse(readFileSync(file, "utf8").trim()) as { key: string; value: string };
    const forged = { ...(JSON.parse(Buffer.from(first.value, "base64").toString()) as Record<string, unknown>), id: "99", signature: "" };
    appendFileSync(file, `${JSON.stringify({ key: "policy-bundle/99", value: Buffer.from(JSON.stringify(forged)).toString("base64") })}\n`);
    expect(await command.run(["apply", POLICIES, "--control-file", file, ...signing(), "--revision", "b"])).toBe(0);
    expect(out()).toContain("published policy bundle b (sequence 2,");
    expect(err.join("")).toContain("a bundle on file " + file + " claims sequence 99 without a valid signature of this certificate; it is ignored");
    await expect(command.run(["apply", POLICIES, "--control-file", file, ...signing(), "--sequence", "2"])).rejects.toThrow(`--sequence 2 is not above 2, the highest bundle on file ${file}: every gateway would refuse it`);
    await expect(command.run(["apply", POLICIES, "--control-file", file, ...signing(), "--sequence", "x"])).rejects.toThrow('--sequence "x" is not a positive integer');
    vi.restoreAllMocks();
    out = captureStdout();
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await command.run(["apply", POLICIES, "--control-file", file, ...signing(), "--sequence", "10", "--revision", "c"])).toBe(0);
    expect(out()).toContain("published policy bundle c (sequence 10,");
    const keys = readFileSync(file, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { key: string }).key);
    expect(keys).toEqual(["policy-bundle/1", "policy-bundle/99", "policy-bundle/2", "policy-bundle/10"]);
  });

  it("fail/a directory that fails its check is not published", async () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-cli-policy-"));
    cpSync(POLICIES, dir, { recursive: true });
    appendFileSync(join(dir, "policy.csv"), "p, csrc, pbccrc, loan_record, query, 3, LOAN_APPROVAL, allow\n");
    const file = join(dir, "control.jsonl");
    const out = captureStdout();
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await command.run(["apply", dir, "--control-file", file, ...signing()])).toBe(1);
    expect(out()).toContain('test "csrc may not read loan records for LOAN_APPROVAL" failed: expected highest level 0, got 3');
    expect(existsSync(file)).toBe(false);
  });

  it("fail/usage: signing material, one channel", async () => {
    await expect(command.run(["apply", POLICIES, "--control-file", "x"])).rejects.toThrow("--signing-key is required");
    await expect(command.run(["apply", POLICIES, "--control-file", "x", "--brokers", "h:1", ...signing()])).rejects.toThrow("give either --control-file or --brokers, not both");
    await expect(command.run(["apply", POLICIES, "--control-file", "x", "--signing-key", keyFile, "--signing-cert", keyFile])).rejects.toThrow("cannot load the signing key or certificate");
  });
});
