import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { openDurableFile, type DurableFile } from "./durable-file.js";
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
 * The chain state file: two fixed 512-byte slots written in turn, each a JSON
 * {"instance","sequence","headHash","sum"} where "sum" is the SHA-256 of the
 * rest. One O_DSYNC pwrite per save; a torn write spoils one slot
 * only and the other still holds the previous head (the double-buffer
 * technique of database control files), so no rename or directory fsync is
 * needed per save.
 */
export interface ChainStateFile {
  /** The head saved last, or undefined for a new file. */
  readonly head: ChainHead | undefined;
  /** What the slot with that head said besides the head (Kafka sink only). */
  readonly resume: ResumeHint | undefined;
  save(head: ChainHead, resume?: ResumeHint): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a sink whose records leave the machine (Kafka) needs to find its head
 * again after a crash, when the saved head may trail what was acknowledged.
 */
export interface ResumeHint {
  /**
   * False from the start of a run until its clean close: the saved head may
   * trail records already acknowledged, so the next start must look for them.
   */
  readonly clean: boolean;
  /**
   * Per partition (index = partition id), an offset at or below that of every
   * record chained after the saved head; absent when it did not fit the slot
   * (the search then starts at the beginning of each partition).
   */
  readonly offsets?: readonly bigint[];
  /**
   * The topic those records went to. A run that stopped uncleanly and was
   * then configured with another topic left its last records in this one.
   */
  readonly topic?: string;
}

const SLOT = 512;

interface SlotBody {
  instance: string;
  sequence: string;
  headHash: string;
  clean?: boolean;
  topic?: string;
  offsets?: string[];
}

function slotBody(head: ChainHead, resume: ResumeHint | undefined, withOffsets: boolean): SlotBody {
  const body: SlotBody = { instance: head.instance, sequence: head.sequence.toString(), headHash: Buffer.from(head.headHash).toString("hex") };
  if (resume) {
    body.clean = resume.clean;
    if (resume.topic !== undefined) body.topic = resume.topic;
    if (withOffsets && resume.offsets) body.offsets = resume.offsets.map(String);
  }
  return body;
}

function slotText(head: ChainHead, resume?: ResumeHint): Buffer {
  const encode = (withOffsets: boolean) => {
    const body = slotBody(head, resume, withOffsets);
    const sum = createHash("sha256").update(JSON.stringify(body)).digest("hex");
    return JSON.stringify({ ...body, sum });
  };
  let text = encode(true);
  // Many partitions may not fit: the hint is then kept without offsets (a longer search, never a wrong one).
  if (Buffer.byteLength(text) > SLOT - 1 && resume?.offsets) text = encode(false);
  // Instance names (≤ 64) and audit topic names (≤ 200) are bounded by the config so that this cannot happen.
  if (Buffer.byteLength(text) > SLOT - 1) throw new Error("chain state: the instance or topic name is too long for a slot");
  return Buffer.from(`${text}${" ".repeat(SLOT - 1 - Buffer.byteLength(text))}\n`, "utf8");
}

interface ParsedSlot {
  readonly head: ChainHead;
  readonly resume: ResumeHint | undefined;
}

function parseSlot(buf: Buffer, path: string, instance: string): ParsedSlot | undefined {
  const text = buf.toString("utf8").trim();
  if (text === "") return undefined;
  let raw: { instance?: unknown; sequence?: unknown; headHash?: unknown; clean?: unknown; topic?: unknown; offsets?: unknown; sum?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    return undefined;
  }
  const body: Record<string, unknown> = { instance: raw.instance, sequence: raw.sequence, headHash: raw.headHash };
  if (raw.clean !== undefined) body["clean"] = raw.clean;
  if (raw.topic !== undefined) body["topic"] = raw.topic;
  if (raw.offsets !== undefined) body["offsets"] = raw.offsets;
  if (raw.sum !== createHash("sha256").update(JSON.stringify(body)).digest("hex")) return undefined;
  if (raw.instance !== instance) throw new Error(`chain state ${path}: belongs to instance "${String(raw.instance)}", not "${instance}"`);
  if (typeof raw.sequence !== "string" || !/^\d+$/.test(raw.sequence)) return undefined;
  if (typeof raw.headHash !== "string" || !/^[0-9a-f]{64}$/.test(raw.headHash)) return undefined;
  if (raw.clean !== undefined && typeof raw.clean !== "boolean") return undefined;
  if (raw.topic !== undefined && typeof raw.topic !== "string") return undefined;
  if (raw.offsets !== undefined && !(Array.isArray(raw.offsets) && raw.offsets.every((o) => typeof o === "string" && /^\d+$/.test(o)))) return undefined;
  const head = { instance, sequence: BigInt(raw.sequence), headHash: Buffer.from(raw.headHash, "hex") };
  // A slot without "clean" was written by a sink that saved every head before acknowledging it: nothing to look for.
  const resume =
    typeof raw.clean === "boolean"
      ? { clean: raw.clean, ...(typeof raw.topic === "string" && { topic: raw.topic }), ...(raw.offsets ? { offsets: (raw.offsets as string[]).map((o) => BigInt(o)) } : {}) }
      : undefined;
  return { head, resume };
}

export async function openChainStateFile(path: string, instance: string): Promise<ChainStateFile> {
  let created = false;
  let file: DurableFile;
  try {
    // Each save returns once its slot is on disk (O_DSYNC where the platform has it).
    file = await openDurableFile(path, constants.O_RDWR);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    file = await openDurableFile(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    created = true;
  }
  const fh = file.handle;
  let saved: ParsedSlot | undefined;
  let nextSlot = 0;
  try {
    const { size } = await fh.stat();
    if (!created && size > 0) {
      if (size !== 2 * SLOT) throw new Error(`chain state ${path}: ${size} bytes, expected ${2 * SLOT}`);
      const buf = Buffer.alloc(2 * SLOT);
      await fh.read(buf, 0, buf.length, 0);
      const slots = [parseSlot(buf.subarray(0, SLOT), path, instance), parseSlot(buf.subarray(SLOT), path, instance)];
      if (!slots[0] && !slots[1]) {
        // Two blank slots: created but never saved (the gateway stopped or was killed before its
        // first record). That is a new chain state, not a corrupt one (found by the chaos suite).
        if (buf.toString("utf8").trim() !== "") throw new Error(`chain state ${path}: no valid slot (corrupt)`);
      } else {
        // The newer slot holds the higher head. Heads never go back, but one head can be saved twice
        // (a run that starts and stops cleanly without a record): then the unclean slot wins, so a
        // crash is never mistaken for a clean stop (a needless search for records is the worst case).
        const rank = (x: ParsedSlot) => x.head.sequence * 2n + (x.resume?.clean === false ? 1n : 0n);
        const newest = !slots[1] || (slots[0] && rank(slots[0]) >= rank(slots[1])) ? 0 : 1;
        saved = slots[newest];
        nextSlot = 1 - newest;
      }
    } else {
      await file.write(Buffer.alloc(2 * SLOT, 0x20), 0, 2 * SLOT, 0);
      const dir = await open(dirname(path), "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
  } catch (err) {
    await fh.close();
    throw err;
  }
  return {
    head: saved?.head,
    resume: saved?.resume,
    async save(h, resume) {
      if (h.instance !== instance) throw new Error(`chain state ${path} is for instance ${instance}, not ${h.instance}`);
      await file.write(slotText(h, resume), 0, SLOT, nextSlot * SLOT);
      nextSlot = 1 - nextSlot;
    },
    close: () => fh.close(),
  };
}
