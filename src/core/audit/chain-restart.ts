import { AuditEventType, type AuditEvent, type SealedAuditRecord } from "../../gen/credex/v1/audit_pb.js";
import { adminAuditEvent } from "../admin-audit-event.js";

/**
 * The requester of the record that announces a new chain (`--new-audit-chain`). Its header
 * (event type ADMIN, this requester) is readable without the key ring, so `audit verify`
 * finds every restart. Officer actions are "admin/…", playbooks "playbook:…": no other
 * record has it, and one forged by a key-ring holder only makes verify fail.
 */
export const CHAIN_RESTART_ACTOR = "gateway/audit-chain-restart";
export const CHAIN_RESTART_METHOD = "AuditChainRestart";

/** The newest checkpoint of the chain before a restart that the gateway could check the signature of. */
export interface PreviousCheckpoint {
  readonly sequence: bigint;
  readonly headHash: Uint8Array;
  /** "file:line" or "topic/partition/offset". */
  readonly position: string;
}

/** A new chain the gateway started because its chain state could not vouch for the old one. */
export interface ChainRestart {
  readonly instance: string;
  /** The announcement record's sequence: the new chain's first. */
  readonly sequence: bigint;
  /** Why the chain state was refused (the refusal the gateway would have stopped with). */
  readonly reason: string;
  /** undefined: no checkpoint of the previous chain is known. */
  readonly previousCheckpoint: PreviousCheckpoint | undefined;
  /** Where the refused chain state was kept, if there was one. */
  readonly refusedStateKeptAs: string | undefined;
}

export function describePreviousCheckpoint(cp: PreviousCheckpoint | undefined): string {
  return cp ? `sequence ${cp.sequence} (${cp.position})` : "none known";
}

/** The first record of the new chain: what was refused, and the previous chain's last checkpoint (or that none is known). */
export function chainRestartEvent(restart: Omit<ChainRestart, "sequence">): AuditEvent {
  const cp = restart.previousCheckpoint;
  return adminAuditEvent({
    gatewayInstance: restart.instance,
    action: CHAIN_RESTART_METHOD,
    actor: CHAIN_RESTART_ACTOR,
    attributes: {
      reason: restart.reason,
      ...(cp
        ? { previous_checkpoint_sequence: cp.sequence.toString(), previous_checkpoint_head_hash: Buffer.from(cp.headHash).toString("hex"), previous_checkpoint_position: cp.position }
        : { previous_checkpoint_sequence: "none known" }),
      ...(restart.refusedStateKeptAs ? { refused_chain_state: restart.refusedStateKeptAs } : {}),
    },
  });
}

export function isChainRestartRecord(record: SealedAuditRecord): boolean {
  return record.eventType === AuditEventType.ADMIN && record.requesterAgency === CHAIN_RESTART_ACTOR;
}

/**
 * Appends the announcement and a checkpoint right after it, through a sink's own
 * committer, so the new chain's first record is signed before anything else is written.
 */
export async function announceChainRestart(
  submit: (item: { kind: "event"; event: AuditEvent } | { kind: "checkpoint" }) => Promise<unknown>,
  restartOf: Omit<ChainRestart, "sequence">,
): Promise<ChainRestart> {
  const receipt = (await submit({ kind: "event", event: chainRestartEvent(restartOf) })) as { sequence: bigint };
  await submit({ kind: "checkpoint" });
  return { ...restartOf, sequence: receipt.sequence };
}
