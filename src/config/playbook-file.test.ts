import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPlaybooks, parsePlaybooks } from "./playbook-file.js";
import { packageRoot } from "./package-root.js";

describe("playbooks.yaml", () => {
  it("ok/the shipped policies/playbooks.yaml is valid", () => {
    const books = loadPlaybooks(join(packageRoot(), "policies", "playbooks.yaml"));
    expect(books.find((b) => b.name === "contain-harvesting")).toMatchObject({ detector: "subject-enumeration", minLevel: "III", actions: [{ type: "suspend-agency" }] });
  });
  it("ok/webhook with a secret file and defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-pb-"));
    writeFileSync(join(dir, "hook.key"), Buffer.alloc(32, 1));
    const [book] = parsePlaybooks(join(dir, "p.yaml"), { playbooks: [{ name: "n", detector: "*", actions: [{ type: "webhook", url: "http://127.0.0.1:9/x", secretFile: "hook.key" }] }] });
    expect(book).toMatchObject({ minLevel: "IV", actions: [{ type: "webhook", maxAttempts: 5, initialBackoffMs: 500, timeoutMs: 5000 }] });
  });
  const cases: Array<[string, unknown, string]> = [
    ["fail/unknown-detector", { playbooks: [{ name: "a", detector: "nope", actions: [{ type: "suspend-agency" }] }] }, 'p.yaml: playbooks[0].detector: "nope" is not one of: *, query-rate'],
    ["fail/bad-level", { playbooks: [{ name: "a", detector: "*", minLevel: "V", actions: [{ type: "suspend-agency" }] }] }, 'p.yaml: playbooks[0].minLevel: "V" is not one of: IV, III, II, I'],
    ["fail/unknown-action", { playbooks: [{ name: "a", detector: "*", actions: [{ type: "reboot" }] }] }, 'p.yaml: playbooks[0].actions[0].type: "reboot" is not one of: webhook'],
    ["fail/action-extra-key", { playbooks: [{ name: "a", detector: "*", actions: [{ type: "suspend-agency", rate: 1 }] }] }, "p.yaml: playbooks[0].actions[0].rate: unknown key (expected one of: type)"],
    ["fail/throttle-rate", { playbooks: [{ name: "a", detector: "*", actions: [{ type: "throttle-agency", ratePerSecond: 0 }] }] }, "p.yaml: playbooks[0].actions[0].ratePerSecond: must be ≥ 1 (got 0)"],
    ["fail/no-actions", { playbooks: [{ name: "a", detector: "*", actions: [] }] }, "p.yaml: playbooks[0].actions: needs at least one action"],
    ["fail/duplicate-name", { playbooks: [{ name: "a", detector: "*", actions: [{ type: "restricted-mode" }] }, { name: "a", detector: "*", actions: [{ type: "restricted-mode" }] }] }, 'p.yaml: playbooks[1].name: duplicate playbook name "a"'],
    ["fail/webhook-missing-secret", { playbooks: [{ name: "a", detector: "*", actions: [{ type: "webhook", url: "http://x/", secretFile: "/nonexistent/k" }] }] }, "p.yaml: playbooks[0].actions[0].secretFile: cannot read /nonexistent/k"],
    ["fail/webhook-url", { playbooks: [{ name: "a", detector: "*", actions: [{ type: "webhook", url: "ftp://x/", secretFile: "k" }] }] }, 'p.yaml: playbooks[0].actions[0].url: "ftp://x/" must be http or https'],
  ];
  for (const [name, doc, message] of cases) {
    it(name, () => {
      expect(() => parsePlaybooks("p.yaml", doc)).toThrowError(message);
    });
  }
});
