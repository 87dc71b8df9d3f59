import { randomBytes, randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, DecisionEffect } from "../gen/credex/v1/audit_pb.js";
import type { Authorizer } from "../core/authorizer.js";
import type { AuditSink } from "../core/audit-sink.js";
import type { ControlItem, ControlItemError } from "../core/control/control-item.js";
import { claimedPolicyRevision, unpackPolicyBundle, POLICY_BUNDLE_ITEM, type PolicyBundle } from "../core/control/policy-bundle-item.js";
import { compilePolicyBundle, PolicyBundleRejection } from "../adapters/casbin/policy-bundle-check.js";
import type { AgencySector } from "../adapters/casbin/load-casbin-policy.js";

/** A bundle refused by this replica: the policy in force did not change (incident detector "policy bundle rejected"). */
export interface PolicyRejected {
  /** The revision the bundle claims ("" when unreadable); unverified when the signature failed. */
  readonly revision: string;
  readonly reason: string;
}

export interface PolicyApplied {
  readonly revision: string;
  readonly previousRevision: string;
  readonly operator: string;
  readonly createdAt: Date;
  readonly ruleCount: number;
  readonly testsRun: number;
  /** Receipt to swap: decode, compile, tests. */
  readonly applyMs: number;
}

export type PolicyLog = (fields: Record<string, unknown>) => void;

export interface PolicyUpdatesOptions {
  readonly instance: string;
  /** The replica's registry: bundles compile under it, as the policy from config does. */
  readonly agencies: readonly AgencySector[];
  readonly current: () => Authorizer;
  /** The atomic swap (RunningGateway.setAuthorizer). */
  readonly swap: (next: Authorizer) => void;
  readonly auditSink: () => AuditSink;
  readonly onPolicyApplied?: ((event: PolicyApplied) => void) | undefined;
  readonly onPolicyRejected?: ((event: PolicyRejected) => void) | undefined;
  readonly log?: PolicyLog | undefined;
}

export interface PolicyUpdates {
  /** The control handler of "policy-bundle" items (already verified by the consumer). */
  handle(item: ControlItem): void;
  /** The consumer refused a record (bad signature, unknown signer, malformed): reported when it is a bundle's. */
  refused(error: ControlItemError, key: string): void;
  /**
   * Bundles are held until this is called (the control replay is over), so a
   * starting replica compiles only the latest bundle of the topic. Resolves
   * when that one is applied or rejected.
   */
  start(): Promise<void>;
  /** Resolves when every bundle received so far is applied or rejected. */
  settled(): Promise<void>;
  readonly applied: () => number;
  readonly rejected: () => number;
}

const stderrLog: PolicyLog = (fields) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: "gateway-policy", ...fields })}\n`);

/**
 * Applies signed policy bundles from the control topic (issue 4, policy apply):
 * decode, compile a NEW evaluator under this replica's registry, run the
 * bundle's test cases, and only then swap. One bundle at a time; when several
 * arrive during a compile only the latest is compiled next (the topic is
 * compacted to the latest anyway). Every outcome is logged, reported through
 * the callbacks and audited as a POLICY event.
 */
export function createPolicyUpdates(options: PolicyUpdatesOptions): PolicyUpdates {
  const log = options.log ?? stderrLog;
  let next: ControlItem | undefined;
  let running: Promise<void> | undefined;
  let applied = 0;
  let rejected = 0;
  let held = true;

  const audit = (fields: { outcome: "applied" | "rejected"; revisionInForce: string; reason: string; attributes: Record<string, string> }) => {
    const now = new Date();
    const event = create(AuditEventSchema, {
      schemaVersion: 1,
      exchangeId: randomUUID(),
      traceId: randomBytes(16).toString("hex"),
      gatewayInstance: options.instance,
      type: AuditEventType.POLICY,
      method: "PolicyApply",
      receivedAt: timestampFromDate(now),
      decidedAt: timestampFromDate(now),
      repliedAt: timestampFromDate(now),
      decision: { effect: fields.outcome === "applied" ? DecisionEffect.ALLOW : DecisionEffect.DENY, policyRevision: fields.revisionInForce, reason: fields.reason },
      statusReason: fields.outcome === "applied" ? "" : "POLICY_BUNDLE_REJECTED",
      attributes: { outcome: fields.outcome, ...fields.attributes },
    });
    options
      .auditSink()
      .append(event)
      .catch((err: unknown) => log({ msg: "policy audit event not recorded", outcome: fields.outcome, reason: (err as Error).message }));
  };

  const reject = (revision: string, reason: string, attributes: Record<string, string> = {}) => {
    rejected++;
    const inForce = options.current().revision;
    log({ msg: "policy bundle rejected; the policy in force stays", revision, reason, inForce });
    audit({ outcome: "rejected", revisionInForce: inForce, reason, attributes: { bundle_revision: revision, ...attributes } });
    options.onPolicyRejected?.({ revision, reason });
  };

  const apply = async (item: ControlItem) => {
    const started = performance.now();
    let bundle: PolicyBundle;
    try {
      bundle = await unpackPolicyBundle(item);
    } catch (err) {
      reject(claimedPolicyRevision(item.payload), (err as Error).message, { signer: item.signer });
      return;
    }
    const attributes = { bundle_revision: bundle.revision, operator: bundle.operator, created_at: bundle.createdAt.toISOString(), signer: item.signer };
    try {
      const compiled = await compilePolicyBundle(bundle, options.agencies);
      const previousRevision = options.current().revision;
      options.swap(compiled.authorizer);
      applied++;
      const applyMs = Math.round(performance.now() - started);
      log({ msg: "policy bundle applied", revision: bundle.revision, previous: previousRevision, operator: bundle.operator, rules: compiled.ruleCount, tests: compiled.testsRun, applyMs });
      audit({
        outcome: "applied",
        revisionInForce: bundle.revision,
        reason: "",
        attributes: { ...attributes, previous_revision: previousRevision, rules: String(compiled.ruleCount), tests: String(compiled.testsRun), apply_ms: String(applyMs) },
      });
      options.onPolicyApplied?.({ revision: bundle.revision, previousRevision, operator: bundle.operator, createdAt: bundle.createdAt, ruleCount: compiled.ruleCount, testsRun: compiled.testsRun, applyMs });
    } catch (err) {
      reject(bundle.revision, err instanceof PolicyBundleRejection ? err.message : `unexpected: ${(err as Error).message}`, attributes);
    }
  };

  const settled = async () => {
    while (running) await running;
  };

  const drain = async () => {
    while (next) {
      const item = next;
      next = undefined;
      await apply(item);
    }
    running = undefined;
  };

  return {
    handle(item) {
      if (next) log({ msg: "policy bundle superseded before it was compiled", issuedAt: next.issuedAt.toISOString() });
      next = item;
      if (!held) running ??= drain();
    },
    refused(error, key) {
      if (!key.startsWith(`${POLICY_BUNDLE_ITEM}/`)) return;
      // The item could not be verified: what it claims is reported, never used.
      reject("", `${error.reason}: ${error.message}`, { key });
    },
    async start() {
      held = false;
      if (next) running ??= drain();
      await settled();
    },
    settled,
    applied: () => applied,
    rejected: () => rejected,
  };
}
