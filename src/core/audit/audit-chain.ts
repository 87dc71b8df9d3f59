import { createHash } from "node:crypto";
import type { AuditEvent, SealedAuditRecord } from "../../gen/credex/v1/audit_pb.js";
import type { KeyRing } from "./key-ring.js";
import { encodeSealedRecord, sealAuditEvent } from "./seal.js";
import type { SealSuite } from "../../gen/credex/v1/audit_pb.js";

/** prev_hash of the first record of a chain. */
export const GENESIS_HASH: Uint8Array = new Uint8Array(32);

/** The chain hash of a record: SHA-256 over its exact serialized bytes (what is stored, not a re-encoding). */
export function recordHash(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

/** Where one instance's chain stands: the last sequence used and that record's hash. */
export interface ChainHead {
  readonly instance: string;
  /** 0n when nothing was chained yet. */
  readonly sequence: bigint;
  readonly headHash: Uint8Array;
}

export function genesisHead(instance: string): ChainHead {
  return { instance, sequence: 0n, headHash: GENESIS_HASH };
}

export interface ChainedRecord {
  readonly record: SealedAuditRecord;
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
}

export interface AuditChain {
  head(): ChainHead;
  /** Seals the event as the next link and advances the head (in memory). */
  append(event: AuditEvent, sealedAt?: Date): ChainedRecord;
  /** Puts the head back, e.g. when a batch sealed in memory could not be made durable. */
  reset(head: ChainHead): void;
}

/**
 * One gateway instance's hash chain (sequence + SHA-256 of the previous
 * record), continued from `head`. Not safe for concurrent use by two writers:
 * each sink owns one chain and appends from one place.
 */
export function createAuditChain(start: ChainHead, ring: KeyRing, suite: SealSuite): AuditChain {
  let current = start;
  return {
    head: () => current,
    append(event, sealedAt) {
      const sequence = current.sequence + 1n;
      const record = sealAuditEvent(
        event,
        { gatewayInstance: current.instance, sequence, prevHash: current.headHash, suite, ...(sealedAt ? { sealedAt } : {}) },
        ring,
      );
      const bytes = encodeSealedRecord(record);
      const hash = recordHash(bytes);
      current = { instance: current.instance, sequence, headHash: hash };
      return { record, bytes, hash };
    },
    reset(head) {
      if (head.instance !== current.instance) throw new Error(`chain of ${current.instance} cannot be reset to ${head.instance}'s head`);
      current = head;
    },
  };
}
