/**
 * Checks the chaos suite runs after every fault: the audit log verifies as a
 * hash chain, and every exchange a caller saw answered has exactly one audit
 * event (no audit, no answer).
 */
import { fromBinary } from "@bufbuild/protobuf";
import { expect } from "vitest";
import { SealedAuditRecordSchema, type AuditEvent } from "../../src/gen/credex/v1/audit_pb.js";
import { readAuditLogFile } from "../../src/adapters/audit/audit-log-file.js";
import { readInstanceKafkaAudit } from "./kafka-audit.js";
import { loadKeyRing } from "../../src/core/audit/key-ring.js";
import { openSealedRecord } from "../../src/core/audit/seal.js";
import { verifyChain, type VerifyEntry, type VerifyReport } from "../../src/core/audit/verify-chain.js";

export interface AuditLogState {
  readonly report: VerifyReport;
  readonly events: AuditEvent[];
  /** Lines that are not records or checkpoints (a torn tail not yet repaired). */
  readonly invalidLines: number;
}

/**
 * Who signs checkpoints, to verify against: the gateway's certificate (PEM) after a clean stop,
 * when every record must be under a signed checkpoint; or `live`, for a gateway still running,
 * whose last records its next checkpoint will sign (reported as unverified, not as breaks).
 */
export type AuditVerification = { readonly signers: readonly string[] } | { readonly live: true };

const verifyOptions = (how: AuditVerification) => ("live" in how ? { allowUnsignedTail: true } : { certificates: how.signers });

export async function readAuditLog(file: string, keyRingFile: string, how: AuditVerification): Promise<AuditLogState> {
  const ring = await loadKeyRing(keyRingFile);
  const entries: VerifyEntry[] = [];
  const events: AuditEvent[] = [];
  let invalidLines = 0;
  for await (const entry of readAuditLogFile(file)) {
    if (entry.kind === "invalid") {
      invalidLines++;
      continue;
    }
    entries.push({ kind: entry.kind, bytes: entry.bytes, position: `${file}:${entry.line}`, stream: file });
    if (entry.kind === "record") events.push(openSealedRecord(fromBinary(SealedAuditRecordSchema, entry.bytes), ring));
  }
  return { report: verifyChain(entries, { keyRing: ring, ...verifyOptions(how) }), events, invalidLines };
}

/**
 * The same from a Kafka audit topic: one gateway instance's records (a shared broker holds other
 * tests' chains, under other key rings) and every checkpoint of the checkpoint topic.
 */
export async function readKafkaAudit(source: { brokers: string; topic: string; checkpointTopic: string; instance: string }, keyRingFile: string, how: AuditVerification): Promise<AuditLogState> {
  const ring = await loadKeyRing(keyRingFile);
  const { events, entries } = await readInstanceKafkaAudit(source, source.instance, ring);
  return { report: verifyChain(entries, { keyRing: ring, ...verifyOptions(how) }), events, invalidLines: 0 };
}

/** The audit chain verifies and each answered exchange id has exactly one event. */
export function expectAnsweredAudited(state: AuditLogState, answeredExchangeIds: Iterable<string>): void {
  expect(state.report.totalBreaks, JSON.stringify(state.report.chains.map((c) => c.firstBreak))).toBe(0);
  expect(state.report.ok).toBe(true);
  const counts = new Map<string, number>();
  for (const e of state.events) counts.set(e.exchangeId, (counts.get(e.exchangeId) ?? 0) + 1);
  const wrong = [...answeredExchangeIds].filter((id) => counts.get(id) !== 1).map((id) => `${id}: ${counts.get(id) ?? 0}`);
  expect(wrong).toEqual([]);
  // No exchange id is audited twice, answered or not.
  expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
}
