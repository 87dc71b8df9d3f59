import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../gen/credex/v1/audit_pb.js";
import { AuditEventType } from "../gen/credex/v1/audit_pb.js";
import type { Authorizer } from "../core/authorizer.js";
import type { AuditSink } from "../core/audit-sink.js";
import { ControlItemError, type ControlItem } from "../core/control/control-item.js";
import { policyBundleItem, type PolicyBundle } from "../core/control/policy-bundle-item.js";
import { createPolicyUpdates, type PolicyApplied, type PolicyRejected } from "./policy-updates.js";

const AGENCIES = [
  { id: "pbccrc", sector: "BANKING" },
  { id: "csrc", sector: "SECURITIES" },
  { id: "nfra", sector: "INSURANCE" },
  { id: "safe", sector: "FOREX" },
  { id: "sh-credit", sector: "REGIONAL" },
  { id: "sh-tax", sector: "TAX" },
  { id: "sh-amr", sector: "MARKET_SUPERVISION" },
  { id: "sh-court", sector: "COURT" },
  { id: "credit-bureau", sector: "CREDIT_BUREAU" },
];
const base: PolicyBundle = {
  sequence: 1,
  revision: "r1",
  createdAt: new Date("2026-11-26T05:00:00Z"),
  operator: "ops",
  model: readFileSync("policies/model.conf", "utf8"),
  policy: readFileSync("policies/policy.csv", "utf8"),
  categories: readFileSync("policies/categories.yaml", "utf8"),
  tests: { "demo-agencies.yaml": readFileSync("policies/tests/demo-agencies.yaml", "utf8") },
};
// Signature checks belong to the consumer (control-consumer.test.ts); the handler sees verified items.
const item = (b: Partial<PolicyBundle>): ControlItem => ({ ...policyBundleItem({ ...base, ...b }), signer: "ab".repeat(32), signature: new Uint8Array() });

function harness() {
  const events: AuditEvent[] = [];
  const applied: PolicyApplied[] = [];
  const rejected: PolicyRejected[] = [];
  const initial: Authorizer = { revision: "from-config", decide: () => ({ allowed: false, matchedRule: "", explicitDeny: false }) };
  let current = initial;
  const sink: AuditSink = {
    append: async (e) => (events.push(e), { medium: "memory", position: String(events.length) }),
    flush: async () => undefined,
    close: async () => undefined,
    describe: () => "memory",
  };
  const updates = createPolicyUpdates({
    instance: "gw-test",
    agencies: AGENCIES,
    current: () => current,
    swap: (next) => void (current = next),
    auditSink: () => sink,
    onPolicyApplied: (e) => applied.push(e),
    onPolicyRejected: (e) => rejected.push(e),
    log: () => undefined,
  });
  return { updates, events, applied, rejected, current: () => current };
}

const csrcOverdue = { requester: "csrc", owner: "pbccrc", category: "loan_overdue", action: "query", purpose: "LOAN_APPROVAL", level: 3 };

describe("policy updates", () => {
  it("ok/held until start: of the replayed bundles only the highest is compiled, then swapped and audited", async () => {
    const h = harness();
    h.updates.handle(item({ revision: "r1" }));
    h.updates.handle(item({ sequence: 2, revision: "r2", policy: `${base.policy}\np, csrc, pbccrc, loan_overdue, query, 3, LOAN_APPROVAL, allow\n` }));
    expect(h.current().revision).toBe("from-config");
    await h.updates.start();
    expect(h.current().revision).toBe("r2");
    expect(h.updates.sequence()).toBe(2);
    expect(h.current().decide(csrcOverdue).allowed).toBe(true);
    expect(h.applied.map((a) => [a.revision, a.previousRevision, a.sequence, a.previousSequence, a.operator])).toEqual([["r2", "from-config", 2, 0, "ops"]]);
    expect(h.events.map((e) => [e.type, e.decision?.policyRevision, e.attributes["outcome"], e.attributes["previous_revision"]])).toEqual([[AuditEventType.POLICY, "r2", "applied", "from-config"]]);
  });

  it("fail/tests: a bundle whose cases fail under this registry is refused; the revision in force stays and the refusal is audited", async () => {
    const h = harness();
    await h.updates.start();
    h.updates.handle(item({ revision: "r3", policy: `${base.policy}\np, csrc, pbccrc, loan_record, query, 3, LOAN_APPROVAL, allow\n` }));
    await h.updates.settled();
    expect(h.current().revision).toBe("from-config");
    expect(h.rejected).toHaveLength(1);
    expect(h.rejected[0]!.revision).toBe("r3");
    expect(h.rejected[0]!.reason).toMatch(/^1 of \d+ policy test\(s\) failed under this gateway's registry; first: tests\/demo-agencies\.yaml:\d+: test "csrc may not read loan records for LOAN_APPROVAL" failed: expected highest level 0, got 3$/);
    expect(h.events.map((e) => [e.decision?.policyRevision, e.statusReason, e.attributes["outcome"], e.attributes["bundle_revision"]])).toEqual([["from-config", "POLICY_BUNDLE_REJECTED", "rejected", "r3"]]);
  });

  it("fail/malformed: a policy line with level 9, a test file that is not YAML, a payload that is not a bundle", async () => {
    const h = harness();
    await h.updates.start();
    h.updates.handle(item({ revision: "r4", policy: `${base.policy}\np, csrc, pbccrc, loan_overdue, query, 9, LOAN_APPROVAL, allow\n` }));
    await h.updates.settled();
    h.updates.handle(item({ sequence: 2, revision: "r5", tests: { "x.yaml": "agencies: [\n" } }));
    await h.updates.settled();
    h.updates.handle({ ...item({ sequence: 3 }), payload: Buffer.from("not gzip") });
    await h.updates.settled();
    expect(h.rejected.map((r) => [r.revision, r.reason.split(":")[0]])).toEqual([
      ["r4", "the policy does not compile"],
      ["r5", "test file tests/x.yaml"],
      ["", "the policy bundle is not gzip'd JSON (incorrect header check)"],
    ]);
    expect(h.current().revision).toBe("from-config");
  });

  it("fail/signature: the consumer's refusal of a policy-bundle record is reported; other types are not", async () => {
    const h = harness();
    h.updates.refused(new ControlItemError("BAD_SIGNATURE", "control item policy-bundle/active: the signature does not verify"), "policy-bundle/active");
    h.updates.refused(new ControlItemError("BAD_SIGNATURE", "control item revocation/AB: the signature does not verify"), "revocation/AB");
    expect(h.rejected).toEqual([{ revision: "", reason: "BAD_SIGNATURE: control item policy-bundle/active: the signature does not verify" }]);
  });

  it("fail/rollback (issue 16, item 4): a replayed older bundle and an equal one are refused as ROLLBACK, audited and reported; the newer policy stays", async () => {
    const h = harness();
    await h.updates.start();
    const r1 = item({ revision: "r1" });
    h.updates.handle(r1);
    await h.updates.settled();
    h.updates.handle(item({ sequence: 2, revision: "r2" }));
    await h.updates.settled();
    h.updates.handle(r1);
    h.updates.handle(item({ sequence: 2, revision: "r2-other" }));
    await h.updates.settled();
    expect([h.current().revision, h.updates.sequence(), h.updates.applied()]).toEqual(["r2", 2, 2]);
    expect(h.rejected.map((r) => [r.revision, r.reason.replace(/issued [^)]+/, "issued <t>")])).toEqual([
      ["r1", "ROLLBACK: policy bundle 1 (issued <t>) is not above 2, the highest this gateway has received (in force: bundle 2)"],
      ["r2-other", "ROLLBACK: policy bundle 2 (issued <t>) is not above 2, the highest this gateway has received (in force: bundle 2)"],
    ]);
    const refusals = h.events.filter((e) => e.attributes["outcome"] === "rejected");
    expect(refusals.map((e) => [e.decision?.policyRevision, e.statusReason, e.attributes["bundle_revision"], e.attributes["bundle_sequence"]])).toEqual([
      ["r2", "POLICY_BUNDLE_REJECTED", "r1", "1"],
      ["r2", "POLICY_BUNDLE_REJECTED", "r2-other", "2"],
    ]);
  });

  it("fail/rollback in the replay (issue 16, item 4): an old bundle replayed after the newest — the last record when a replica starts — is refused; the newest is applied", async () => {
    const h = harness();
    h.updates.handle(item({ revision: "r1" }));
    h.updates.handle(item({ sequence: 2, revision: "r2" }));
    h.updates.handle(item({ revision: "r1" }));
    await h.updates.start();
    expect(h.current().revision).toBe("r2");
    expect(h.rejected.map((r) => [r.revision, r.reason.split(":")[0]])).toEqual([["r1", "ROLLBACK"]]);
    // Only the highest was compiled: the older bundles of the topic are history, not refusals.
    expect(h.applied.map((a) => a.revision)).toEqual(["r2"]);
  });

  it("ok/fallback at start: when the highest bundle of the replay is refused, the next lower one is applied, not the config policy", async () => {
    const h = harness();
    h.updates.handle(item({ revision: "r1" }));
    h.updates.handle(item({ sequence: 2, revision: "r2-bad", policy: `${base.policy}\np, csrc, pbccrc, loan_overdue, query, 9, LOAN_APPROVAL, allow\n` }));
    await h.updates.start();
    expect([h.current().revision, h.updates.sequence()]).toEqual(["r1", 1]);
    expect(h.rejected.map((r) => [r.revision, r.reason.split(":")[0]])).toEqual([["r2-bad", "the policy does not compile"]]);
    // The refused one still sets the floor: its replay is a rollback, the next one must be above it.
    h.updates.handle(item({ sequence: 2, revision: "r2-bad" }));
    h.updates.handle(item({ sequence: 3, revision: "r3" }));
    await h.updates.settled();
    expect(h.rejected.at(-1)!.reason).toMatch(/^ROLLBACK: policy bundle 2 .* is not above 2/);
    expect(h.current().revision).toBe("r3");
  });

  it("fail/version 1: a bundle under id \"active\" (published before sequences) is refused and reported", async () => {
    const h = harness();
    await h.updates.start();
    h.updates.handle({ ...item({}), id: "active" });
    await h.updates.settled();
    expect(h.rejected).toEqual([{ revision: "r1", reason: 'policy bundle id "active" is not a sequence number (a bundle from before sequences; republish it with credex policy apply)' }]);
    expect(h.current().revision).toBe("from-config");
  });

  it("fail/key-mismatch (issue 16, item 4): the consumer's refusal is reported when the record key or the item is a policy bundle's", () => {
    const h = harness();
    h.updates.refused(new ControlItemError("KEY_MISMATCH", 'a record under key "revocation/AB" carries control item policy-bundle/4', "policy-bundle/4"), "revocation/AB");
    h.updates.refused(new ControlItemError("KEY_MISMATCH", 'a record under key "policy-bundle/5" carries control item revocation/AB', "revocation/AB"), "policy-bundle/5");
    h.updates.refused(new ControlItemError("KEY_MISMATCH", 'a record under key "revocation/CD" carries control item revocation/AB', "revocation/AB"), "revocation/CD");
    expect(h.rejected.map((r) => r.reason)).toEqual([
      'KEY_MISMATCH: a record under key "revocation/AB" carries control item policy-bundle/4',
      'KEY_MISMATCH: a record under key "policy-bundle/5" carries control item revocation/AB',
    ]);
    expect(h.events.map((e) => [e.attributes["key"], e.attributes["item_key"]])).toEqual([
      ["revocation/AB", "policy-bundle/4"],
      ["policy-bundle/5", "revocation/AB"],
    ]);
  });
});
