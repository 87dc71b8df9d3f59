import { describe, expect, it } from "vitest";
import { createIncidentManager } from "./incident-manager.js";
import { createMemoryIncidentStore } from "./incident-store.js";
import { createPlaybookRunner, type ContainmentPorts, type NotificationPorts } from "./playbook-runner.js";
import type { Detector } from "./detector.js";
import type { Playbook } from "./playbook.js";
import { verifyWebhookSignature } from "./webhook-signature.js";

const at = new Date("2026-01-05T09:00:00Z");
const harvest: Detector = {
  name: "subject-enumeration",
  observeExchange: (o) => [{ detector: "subject-enumeration", key: o.agencyId!, category: "information-destruction", level: "III", summary: "harvest", exchangeIds: [o.exchangeId], count: 1 }],
};
const secret = Buffer.alloc(32, 7);

function setup(playbooks: Playbook[], statuses: Array<number | Error>) {
  const calls: string[] = [];
  const posts: Array<{ body: string; headers: Record<string, string> }> = [];
  const sleeps: number[] = [];
  const containment: ContainmentPorts = {
    suspendAgency: (a) => calls.push(`suspend ${a}`),
    throttleAgency: (a, l) => calls.push(`throttle ${a} ${l.ratePerSecond}`),
    revokeCertificate: (s) => calls.push(`revoke ${s}`),
    setRestrictedMode: (on) => calls.push(`restricted ${on}`),
  };
  const notifications: NotificationPorts = {
    postJson: async (_url, body, headers) => {
      posts.push({ body, headers });
      const next = statuses.shift() ?? 200;
      if (next instanceof Error) throw next;
      return next;
    },
    runCommand: async () => ({ exitCode: 0, timedOut: false }),
  };
  const audited: string[] = [];
  const manager = createIncidentManager({ detectors: [harvest], store: createMemoryIncidentStore(), gatewayInstance: "gw", operatorClass: "critical-infrastructure", clock: () => at, newId: () => "inc-1" });
  const runner = createPlaybookRunner({
    playbooks,
    manager,
    containment,
    notifications,
    audit: async (action, attrs) => void audited.push(`${action} ${attrs["target"]} ${attrs["incident"]}`),
    clock: () => at,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { manager, runner, calls, posts, sleeps, audited };
}

const webhook = { type: "webhook" as const, url: "http://127.0.0.1:1/x", secret, maxAttempts: 3, initialBackoffMs: 100, timeoutMs: 1000 };

describe("playbook runner", () => {
  it("suspends the agency at once, marks the incident contained, audits it, then delivers a signed webhook", async () => {
    const s = setup([{ name: "contain", detector: "subject-enumeration", minLevel: "III", actions: [webhook, { type: "suspend-agency" }] }], [200]);
    s.manager.observe({ exchangeId: "x1", at, agencyId: "bank-a", authenticated: true, providers: [] });
    expect(s.calls).toEqual(["suspend bank-a"]);
    expect(s.manager.get("inc-1")!.state).toBe("contained");
    await s.runner.idle();
    expect(s.audited).toEqual(["suspend-agency bank-a inc-1"]);
    expect(s.posts).toHaveLength(1);
    const { body, headers } = s.posts[0]!;
    expect(verifyWebhookSignature(secret, headers["x-credex-timestamp"]!, body, headers["x-credex-signature"]!)).toBe(true);
    expect(JSON.parse(body)).toMatchObject({ id: "inc-1", state: "contained" });
    const kinds = s.manager.get("inc-1")!.timeline.map((t) => `${t.kind}:${t.details?.["outcome"] ?? t.details?.["action"] ?? ""}`);
    expect(kinds).toEqual(["opened:", "action:suspend-agency", "state:", "delivery:delivered"]);
    // Runs once per incident, not again on more evidence.
    s.manager.observe({ exchangeId: "x2", at, agencyId: "bank-a", authenticated: true, providers: [] });
    expect(s.calls).toEqual(["suspend bank-a"]);
  });

  it("retries a failing webhook with exponential backoff and records every attempt and the failure", async () => {
    const s = setup([{ name: "notify", detector: "*", minLevel: "IV", actions: [webhook] }], [new Error("connect ECONNREFUSED"), 503, new Error("timeout")]);
    s.manager.observe({ exchangeId: "x1", at, agencyId: "bank-a", authenticated: true, providers: [] });
    await s.runner.idle();
    expect(s.sleeps).toEqual([100, 200]);
    const deliveries = s.manager.get("inc-1")!.timeline.filter((t) => t.kind === "delivery");
    expect(deliveries.map((d) => [d.details!["attempt"], d.details!["outcome"], d.details!["error"]])).toEqual([
      ["1", "retrying", "connect ECONNREFUSED"],
      ["2", "retrying", "HTTP 503"],
      ["3", "failed", "timeout"],
    ]);
    expect(s.manager.get("inc-1")!.state).toBe("open");
  });

  it("skips playbooks below their level and records actions that have no target", async () => {
    const s = setup(
      [
        { name: "too-high", detector: "*", minLevel: "I", actions: [{ type: "restricted-mode" }] },
        { name: "revoke", detector: "*", minLevel: "IV", actions: [{ type: "revoke-certificate" }] },
      ],
      [],
    );
    s.manager.observe({ exchangeId: "x1", at, agencyId: "bank-a", authenticated: true, providers: [] });
    expect(s.calls).toEqual([]);
    expect(s.manager.get("inc-1")!.timeline[1]).toMatchObject({ kind: "action", details: { action: "revoke-certificate", outcome: "skipped" } });
  });
});
