import { randomBytes, randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, DecisionEffect } from "../gen/credex/v1/audit_pb.js";
import type { Authorizer } from "../core/authorizer.js";
import type { AuditSink } from "../core/audit-sink.js";
import { ControlItemError, type ControlItem } from "../core/control/control-item.js";
import { claimedPolicyRevision, policySequenceOf, unpackPolicyBundle, POLICY_BUNDLE_ITEM, type PolicyBundle } from "../core/control/policy-bundle-item.js";
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
  /** The bundle's sequence; previousSequence is 0 for the policy of the config files. */
  readonly sequence: number;
  readonly previousSequence: number;
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
   * starting replica compiles only the highest bundle of the topic (and the
   * next lower one only if that is refused). Resolves when one is applied or
   * all are rejected.
   */
  start(): Promise<void>;
  /** Resolves when every bundle received so far is applied or rejected. */
  settled(): Promise<void>;
  readonly applied: () => number;
  readonly rejected: () => number;
  /** The sequence of the bundle in force (0: the policy of the config files). */
  readonly sequence: () => number;
}

interface Received {
  readonly item: ControlItem;
  readonly sequence: number;
}

const stderrLog: PolicyLog = (fields) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: "gateway-policy", ...fields })}\n`);

/**
 * Applies signed policy bundles from the control topic (issue 4, policy apply):
 * decode, compile a NEW evaluator under this replica's registry, run the
 * bundle's test cases, and only then swap. One bundle at a time; when several
 * arrive during a compile only the highest is compiled next.
 *
 * No rollback: a bundle whose sequence is not above every
 * bundle this replica received before it — a replayed old bundle, an equal
 * one — is refused as ROLLBACK. The rule reads the log in order, so it holds
 * after a restart too: the replay delivers the newest bundle before the
 * replayed copy that follows it, and every bundle has its own key, so the
 * topic keeps the newest one however often an old one is replayed. Every
 * outcome is logged, reported through the callbacks and audited as a POLICY
 * event.
 */
export function createPolicyUpdates(options: PolicyUpdatesOptions): PolicyUpdates {
  const log = options.log ?? stderrLog;
  let next: Received | undefined;
  /** Bundles of the replay, in ascending sequence (each is above the ones before it). */
  let replayed: Received[] = [];
  let running: Promise<void> | undefined;
  let applied = 0;
  let rejected = 0;
  let held = true;
  /** The highest sequence of a verified bundle received so far, applied or not: the floor for the next one. */
  let highest = 0;
  let inForce = 0;

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

  /** True when the bundle is in force. */
  const apply = async ({ item, sequence }: Received): Promise<boolean> => {
    const started = performance.now();
    const received = { bundle_sequence: String(sequence), issued_at: item.issuedAt.toISOString(), signer: item.signer };
    let bundle: PolicyBundle;
    try {
      bundle = await unpackPolicyBundle(item);
    } catch (err) {
      reject(claimedPolicyRevision(item.payload), (err as Error).message, received);
      return false;
    }
    const attributes = { ...received, bundle_revision: bundle.revision, operator: bundle.operator, created_at: bundle.createdAt.toISOString() };
    try {
      const compiled = await compilePolicyBundle(bundle, options.agencies);
      const previousRevision = options.current().revision;
      const previousSequence = inForce;
      options.swap(compiled.authorizer);
      inForce = sequence;
      applied++;
      const applyMs = Math.round(performance.now() - started);
      log({ msg: "policy bundle applied", revision: bundle.revision, sequence, previous: previousRevision, previousSequence, operator: bundle.operator, rules: compiled.ruleCount, tests: compiled.testsRun, applyMs });
      audit({
        outcome: "applied",
        revisionInForce: bundle.revision,
        reason: "",
        attributes: {
          ...attributes,
          previous_revision: previousRevision,
          previous_sequence: String(previousSequence),
          rules: String(compiled.ruleCount),
          tests: String(compiled.testsRun),
          apply_ms: String(applyMs),
        },
      });
      options.onPolicyApplied?.({
        revision: bundle.revision,
        previousRevision,
        sequence,
        previousSequence,
        operator: bundle.operator,
        createdAt: bundle.createdAt,
        ruleCount: compiled.ruleCount,
        testsRun: compiled.testsRun,
        applyMs,
      });
      return true;
    } catch (err) {
      reject(bundle.revision, err instanceof PolicyBundleRejection ? err.message : `unexpected: ${(err as Error).message}`, attributes);
      return false;
    }
  };

  const settled = async () => {
    while (running) await running;
  };

  const drain = async () => {
    for (;;) {
      if (replayed.length > 0) {
        // Highest first; a lower bundle of the replay is tried only when every higher one was refused,
        // so a replica that restarts lands where the running ones are, not on its config policy.
        const candidates = replayed.reverse();
        replayed = [];
        for (const candidate of candidates) if (await apply(candidate)) break;
        continue;
      }
      if (!next) break;
      const candidate = next;
      next = undefined;
      await apply(candidate);
    }
    running = undefined;
  };

  return {
    handle(item) {
      let sequence: number;
      try {
        sequence = policySequenceOf(item);
      } catch (err) {
        reject(claimedPolicyRevision(item.payload), (err as Error).message, { key: `${item.type}/${item.id}`, signer: item.signer });
        return;
      }
      if (sequence <= highest) {
        // A replay of a signed bundle (or one numbered too low): verified, but never applied over a newer one.
        const error = new ControlItemError(
          "ROLLBACK",
          `policy bundle ${sequence} (issued ${item.issuedAt.toISOString()}) is not above ${highest}, the highest this gateway has received (in force: ${inForce === 0 ? "the policy of its config files" : `bundle ${inForce}`})`,
        );
        reject(claimedPolicyRevision(item.payload), `${error.reason}: ${error.message}`, { bundle_sequence: String(sequence), issued_at: item.issuedAt.toISOString(), signer: item.signer });
        return;
      }
      highest = sequence;
      if (held) {
        replayed.push({ item, sequence });
        return;
      }
      if (next) log({ msg: "policy bundle superseded before it was compiled", sequence: next.sequence, by: sequence });
      next = { item, sequence };
      running ??= drain();
    },
    refused(error, key) {
      const isBundle = (k: string | undefined) => k?.startsWith(`${POLICY_BUNDLE_ITEM}/`) === true;
      if (!isBundle(key) && !isBundle(error.itemKey)) return;
      // The item could not be verified: what it claims is reported, never used.
      reject("", `${error.reason}: ${error.message}`, { key, ...(error.itemKey !== undefined && error.itemKey !== key ? { item_key: error.itemKey } : {}) });
    },
    async start() {
      held = false;
      if (replayed.length > 0 || next) running ??= drain();
      await settled();
    },
    settled,
    applied: () => applied,
    rejected: () => rejected,
    sequence: () => inForce,
  };
}
