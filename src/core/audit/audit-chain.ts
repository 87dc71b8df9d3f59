import { createHash } from "node:crypto";
import { open, rename, readFile } from "node:fs/promises";
import { dirname } from "node:path";
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

/**
 * Chain state file: {"instance","sequence","headHash"} as JSON. Written to a
 * temporary file, fsync'd, renamed over the old one and the directory
 * fsync'd, so a crash leaves either the old or the new state, never a torn one.
 */
export async function saveChainState(path: string, head: ChainHead): Promise<void> {
  const tmp = `${path}.tmp`;
  const text = `${JSON.stringify({ instance: head.instance, sequence: head.sequence.toString(), headHash: Buffer.from(head.headHash).toString("hex") })}\n`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(text, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** The saved head, or undefined when no state file exists yet. Throws on a corrupt file or another instance's state. */
export async function loadChainState(path: string, instance: string): Promise<ChainHead | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let raw: { instance?: unknown; sequence?: unknown; headHash?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    throw new Error(`chain state ${path}: not valid JSON`);
  }
  if (raw.instance !== instance) throw new Error(`chain state ${path}: belongs to instance "${String(raw.instance)}", not "${instance}"`);
  if (typeof raw.sequence !== "string" || !/^\d+$/.test(raw.sequence)) throw new Error(`chain state ${path}: "sequence" must be a decimal string`);
  if (typeof raw.headHash !== "string" || !/^[0-9a-f]{64}$/.test(raw.headHash)) throw new Error(`chain state ${path}: "headHash" must be 64 hex digits`);
  return { instance, sequence: BigInt(raw.sequence), headHash: Buffer.from(raw.headHash, "hex") };
}
