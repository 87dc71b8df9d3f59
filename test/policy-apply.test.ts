/**
 * `credex policy apply` end to end (issue 4): signed policy bundles on the
 * Kafka control topic reach running gateway replicas, which compile, test and
 * swap them atomically under continuous queries, or refuse them and keep the
 * policy in force.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceError } from "@grpc/grpc-js";
import { AuditEventType, DecisionEffect, type AuditEvent } from "../src/gen/credex/v1/audit_pb.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { errorInfoOf } from "../src/adapters/grpc/rich-status.js";
import { createKafkaControlChannel } from "../src/adapters/kafka/kafka-control-channel.js";
import { createCa } from "../src/adapters/pki/certificate-authority.js";
import { readPolicyBundle } from "../src/adapters/casbin/policy-bundle-check.js";
import { controlItemKey, encodeControlItem, signControlItem } from "../src/core/control/control-item.js";
import { policyBundleItem } from "../src/core/control/policy-bundle-item.js";
import { highestPolicySequence } from "../src/core/control/highest-policy-sequence.js";
import type { ControlChannel } from "../src/core/control/control-channel.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import { buildGatewayParts } from "../src/gateway/gateway-parts.js";
import { startGateway, type RunningGateway } from "../src/gateway/gateway.js";
import type { PolicyApplied, PolicyRejected } from "../src/gateway/policy-updates.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { copyPolicyDir } from "./support/policy-dir.js";
import { auditEvents, startTestFederation } from "./support/federation.js";
import { kafkaBrokers } from "./support/kafka.js";
import { credex, until } from "./support/certificate-ops.js";
import { generatedPolicyLines } from "./support/generated-policy.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let publisher: ControlChannel;
let issuer: { cert: X509Certificate; key: KeyObject };
const topic = `credex.control.v1.policy-${Date.now().toString(36)}`;
const applied: PolicyApplied[] = [];
const rejected: PolicyRejected[] = [];
const replicas: RunningGateway[] = [];

beforeAll(async () => {
  fed = await startTestFederation({
    gatewayConfig: { control: { kafka: { brokers: [kafkaBrokers()], topic } } },
    parts: { onPolicyApplied: (e) => applied.push(e), onPolicyRejected: (e) => rejected.push(e) },
  });
  publisher = createKafkaControlChannel({ brokers: kafkaBrokers(), topic });
  issuer = { cert: new X509Certificate(readFileSync(fed.pki.issuingCaCert)), key: createPrivateKey(readFileSync(fed.pki.issuingCaKey, "utf8")) };
}, 120_000);
afterAll(async () => {
  await Promise.all(replicas.map((g) => g.stop(2_000)));
  await publisher?.close();
  await fed?.cleanup();
});

const company = DEMO_SUBJECTS.tradingCompany;
/** The decision the bundles change: csrc asks for bank overdue records to approve a loan (Art. 20 purpose limit). */
const CSRC_OVERDUE = { subject: company, categories: ["loan_overdue"], purpose: Purpose.LOAN_APPROVAL };
const PUBLIC = { subject: company, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL };
const CSRC_CASE = `agencies:
  - { id: pbccrc, sector: BANKING }
  - { id: csrc, sector: SECURITIES }
cases:
  - name: csrc reads bank overdue records for LOAN_APPROVAL (applied bundle)
    request: { requester: csrc, owner: pbccrc, category: loan_overdue, purpose: LOAN_APPROVAL }
    expect: { level: 3 }
`;

/** A copy of policies/ in the federation's directory (test/support/policy-dir.ts). */
const policyDir = (name: string, lines: string, tests: Record<string, string> = {}): string => copyPolicyDir(fed.dir, name, lines, tests);

/** The sequence `credex policy apply` would give the next bundle. */
const nextSequence = async () => (await highestPolicySequence(publisher, [issuer.cert])).highest + 1;

/** Signs and publishes a directory directly (no check): what a careless or hostile publisher could do. */
async function publishDir(dir: string, revision: string, signer = issuer): Promise<void> {
  const item = signControlItem(policyBundleItem(readPolicyBundle(dir, { operator: "test", revision, sequence: await nextSequence() })), signer.cert, signer.key);
  await publisher.publish({ key: controlItemKey(item), value: encodeControlItem(item) });
}

const applyArgs = (dir: string, revision: string) => [
  "policy", "apply", dir, "--brokers", kafkaBrokers(), "--topic", topic,
  "--signing-key", fed.pki.issuingCaKey, "--signing-cert", fed.pki.issuingCaCert, "--revision", revision,
];

interface Load {
  stop(): Promise<{ calls: number; failures: string[]; maxMs: number }>;
}

/** Continuous queries: pbccrc public records and csrc overdue records, two calls in flight each; only the csrc decision may change. */
function startQueries(): Load {
  let running = true;
  let calls = 0;
  let maxMs = 0;
  const failures: string[] = [];
  const loop = async (agency: "pbccrc" | "csrc") => {
    const client = fed.client(agency);
    while (running) {
      const started = performance.now();
      try {
        await client.query(agency === "csrc" ? CSRC_OVERDUE : PUBLIC, { timeoutMs: 10_000 });
      } catch (err) {
        const reason = errorInfoOf(err as ServiceError)?.reason ?? `code ${(err as ServiceError).code}`;
        // The one intended change: csrc's purpose refusal before the swap.
        if (!(agency === "csrc" && reason === "PURPOSE_NOT_PERMITTED")) failures.push(`${agency}: ${reason}: ${(err as Error).message}`);
      }
      calls++;
      maxMs = Math.max(maxMs, performance.now() - started);
    }
  };
  const loops = [loop("pbccrc"), loop("pbccrc"), loop("csrc"), loop("csrc")];
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { calls, failures, maxMs };
    },
  };
}

const csrcExchanges = (events: AuditEvent[]) => events.filter((e) => e.type === AuditEventType.EXCHANGE && e.requester?.agencyId === "csrc" && e.categories.includes("loan_overdue"));
const policyEvents = (events: AuditEvent[]) => events.filter((e) => e.type === AuditEventType.POLICY);

describe("policy apply on a running gateway", () => {
  it("ok/under continuous queries the csrc decision changes at the swap, no request fails, audit events carry the new revision", async () => {
    const before = fed.gateway.authorizer().revision;
    const load = startQueries();
    try {
      await new Promise((r) => setTimeout(r, 300));
      const dir = policyDir("allow-1", "p, csrc, pbccrc, loan_overdue, query, 3, LOAN_APPROVAL, allow", { "apply.yaml": CSRC_CASE });
      const r = await credex(...applyArgs(dir, "it-allow-1"));
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain("published policy bundle it-allow-1");
      await until("the bundle to be in force", () => (fed.gateway.authorizer().revision === "it-allow-1" ? true : undefined), 15_000);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      const result = await load.stop();
      expect(result.failures).toEqual([]);
      expect(result.calls).toBeGreaterThan(20);
    }
    expect(applied.at(-1)).toMatchObject({ revision: "it-allow-1", previousRevision: before, operator: expect.any(String) });

    const events = await auditEvents(fed);
    const csrc = csrcExchanges(events);
    // Atomic: every exchange saw exactly one revision, and its decision is that revision's.
    const byRevision = (rev: string) => csrc.filter((e) => e.decision?.policyRevision === rev);
    expect(byRevision(before).length).toBeGreaterThan(0);
    expect(byRevision("it-allow-1").length).toBeGreaterThan(0);
    expect(byRevision(before).length + byRevision("it-allow-1").length).toBe(csrc.length);
    expect(new Set(byRevision(before).map((e) => e.statusReason))).toEqual(new Set(["PURPOSE_NOT_PERMITTED"]));
    expect(new Set(byRevision("it-allow-1").map((e) => `${e.decision?.effect}:${e.statusCode}`))).toEqual(new Set([`${DecisionEffect.ALLOW}:0`]));
    const policy = policyEvents(events).find((e) => e.attributes["bundle_revision"] === "it-allow-1")!;
    expect(policy.attributes).toMatchObject({ outcome: "applied", previous_revision: before, tests: expect.stringMatching(/^[1-9]\d*$/) });
    expect(policy.decision?.policyRevision).toBe("it-allow-1");
  });

  it("fail/a bundle failing its policy tests: apply refuses to publish it; published anyway, every replica refuses it and the revision stays", async () => {
    // csrc may not read loan records for LOAN_APPROVAL (policies/tests/demo-agencies.yaml).
    const dir = policyDir("bad-tests", "p, csrc, pbccrc, loan_record, query, 3, LOAN_APPROVAL, allow");
    const r = await credex(...applyArgs(dir, "it-bad-tests"));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/test "csrc may not read loan records for LOAN_APPROVAL" failed: expected highest level 0, got 3/);
    expect(r.stderr).toContain("the check failed; nothing was published");

    const seen = rejected.length;
    await publishDir(dir, "it-bad-tests");
    const rejection = await until("the rejection", () => rejected[seen], 15_000);
    expect(rejection.revision).toBe("it-bad-tests");
    expect(rejection.reason).toMatch(/^1 of \d+ policy test\(s\) failed under this gateway's registry; first: tests\/demo-agencies.yaml:\d+: test "csrc may not read loan records for LOAN_APPROVAL" failed: expected highest level 0, got 3$/);
    expect(fed.gateway.authorizer().revision).toBe("it-allow-1");
    await fed.client("csrc").query(CSRC_OVERDUE);
  });

  it("fail/a malformed policy is refused with the line's error; the revision stays", async () => {
    const seen = rejected.length;
    await publishDir(policyDir("malformed", "p, csrc, pbccrc, loan_overdue, query, 9, LOAN_APPROVAL, allow"), "it-malformed");
    const rejection = await until("the rejection", () => rejected[seen], 15_000);
    expect(rejection).toEqual({
      revision: "it-malformed",
      reason: 'the policy does not compile: p, csrc, pbccrc, loan_overdue, query, 9, LOAN_APPROVAL, allow: level "9" is not one of 1, 2, 3, 4',
    });
    expect(fed.gateway.authorizer().revision).toBe("it-allow-1");
  });

  it("fail/bad signatures: an untrusted signer and a payload changed after signing are refused; the revision stays", async () => {
    const rogue = await createCa({ commonName: "rogue operator", keyBits: 2048 });
    const seen = rejected.length;
    const open = policyDir("open", "p, *, *, *, query, 4, *, allow");
    await publishDir(open, "it-rogue", { cert: new X509Certificate(rogue.certPem), key: createPrivateKey(rogue.keyPem) });
    const sequence = await nextSequence();
    const good = signControlItem(policyBundleItem(readPolicyBundle(policyDir("signed", ""), { operator: "test", revision: "it-signed", sequence })), issuer.cert, issuer.key);
    const tampered = { ...good, payload: policyBundleItem(readPolicyBundle(open, { operator: "test", revision: "it-signed", sequence })).payload };
    await publisher.publish({ key: controlItemKey(tampered), value: encodeControlItem(tampered) });
    await until("two rejections", () => (rejected.length >= seen + 2 ? true : undefined), 15_000);
    expect(rejected.slice(seen).map((x) => x.reason.replace(/[0-9a-f]{16}…/, "<fp>").replace(/policy-bundle\/\d+/, "policy-bundle/<n>"))).toEqual([
      "UNKNOWN_SIGNER: control item policy-bundle/<n> is signed by <fp>, not a trusted CA",
      "BAD_SIGNATURE: control item policy-bundle/<n>: the signature does not verify",
    ]);
    expect(fed.gateway.authorizer().revision).toBe("it-allow-1");
    const events = policyEvents(await auditEvents(fed)).filter((e) => e.attributes["outcome"] === "rejected");
    const reasons = events.map((e) => e.decision?.reason ?? "");
    for (const prefix of ["1 of ", "the policy does not compile", "UNKNOWN_SIGNER", "BAD_SIGNATURE"]) expect(reasons.some((x) => x.startsWith(prefix)), prefix).toBe(true);
    expect(events.every((e) => e.decision?.policyRevision === "it-allow-1" && e.statusReason === "POLICY_BUNDLE_REJECTED")).toBe(true);
  });
  it("ok/figures: a 100k-line bundle is applied under traffic with no failed request", async () => {
    const lines = generatedPolicyLines(100_000);
    const dir = policyDir("100k", `p, csrc, pbccrc, loan_overdue, query, 3, LOAN_APPROVAL, allow\n${lines}`, { "apply.yaml": CSRC_CASE });
    const load = startQueries();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    const ms = (ns: number) => Math.round(ns / 1e6);
    let published = 0;
    let baseline = "";
    let result: Awaited<ReturnType<Load["stop"]>>;
    try {
      // The same traffic without an apply, for comparison: the machine is shared.
      loopDelay.enable();
      await new Promise((r) => setTimeout(r, 1_500));
      baseline = `p99 ${ms(loopDelay.percentile(99))} ms, max ${ms(loopDelay.max)} ms`;
      loopDelay.reset();
      published = performance.now();
      await publishDir(dir, "it-100k");
      await until("the gateway on it-100k", () => (fed.gateway.authorizer().revision === "it-100k" ? true : undefined), 60_000);
    } finally {
      loopDelay.disable();
      result = await load.stop();
    }
    const wall = performance.now() - published;
    const a = applied.at(-1)!;
    expect(a.revision).toBe("it-100k");
    expect(a.ruleCount).toBeGreaterThan(100_000);
    expect(result.failures).toEqual([]);
    console.info(
      `policy apply 100k lines: ${a.ruleCount} rules, ${a.testsRun} tests; receipt→swap ${a.applyMs} ms, publish→swap ${Math.round(wall)} ms; ` +
        `${result.calls} queries meanwhile, 0 failed, slowest ${Math.round(result.maxMs)} ms; event-loop delay during apply p99 ${ms(loopDelay.percentile(99))} ms, max ${ms(loopDelay.max)} ms ` +
        `(same traffic without apply: ${baseline})`,
    );
  }, 120_000);
});

/** Another replica of the federation's gateway on the same control topic: same agencies and TLS files, its own audit files. */
async function startReplica(instance: string): Promise<RunningGateway> {
  const doc = parseYaml(readFileSync(fed.configFile, "utf8")) as Record<string, Record<string, unknown>>;
  doc["instance"] = instance as never;
  doc["audit"] = { ...doc["audit"], file: `audit/${instance}.log`, chainState: `audit/${instance}-chain.json` };
  const file = join(fed.dir, `${instance}.yaml`);
  writeFileSync(file, toYaml(doc));
  const config = loadGatewayConfig(file);
  const gateway = await startGateway(config, await buildGatewayParts(config));
  replicas.push(gateway);
  return gateway;
}

describe("several replicas", () => {
  it("ok/two gateways pick up a bundle; a replica that starts later replays the latest one", async () => {
    // An explicit deny: csrc's overdue request for LOAN_APPROVAL is refused by a rule, not by default.
    const deny = policyDir("deny-2", "p, csrc, pbccrc, loan_overdue, query, 1, LOAN_APPROVAL, deny");
    const r = await credex(...applyArgs(deny, "it-deny-2"));
    expect(r.code, r.stdout).toBe(0);
    await until("gateway 1 on it-deny-2", () => (fed.gateway.authorizer().revision === "it-deny-2" ? true : undefined), 15_000);
    const second = await startReplica("gw-policy-2");
    expect(second.authorizer().revision).toBe("it-deny-2");
    const request = { requester: "csrc", owner: "pbccrc", category: "loan_overdue", action: "query", purpose: "LOAN_APPROVAL", level: 3 };
    expect(second.authorizer().decide(request)).toMatchObject({ allowed: false, explicitDeny: true });

    const back = policyDir("allow-3", "p, csrc, pbccrc, loan_overdue, query, 3, LOAN_APPROVAL, allow", { "apply.yaml": CSRC_CASE });
    expect((await credex(...applyArgs(back, "it-allow-3"))).code).toBe(0);
    await until("both gateways on it-allow-3", () => (fed.gateway.authorizer().revision === "it-allow-3" && second.authorizer().revision === "it-allow-3" ? true : undefined), 15_000);
    const decide = (g: RunningGateway) => g.authorizer().decide({ requester: "csrc", owner: "pbccrc", category: "loan_overdue", action: "query", purpose: "LOAN_APPROVAL", level: 3 }).allowed;
    expect([decide(fed.gateway), decide(second)]).toEqual([true, true]);
    // The replay compiled only the highest bundle of the topic, then the new one.
    expect(second.policyUpdates.applied()).toBe(2);
  });

});
