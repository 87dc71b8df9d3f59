import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { ChainHead } from "./audit-chain.js";
import type { ChainStateKey } from "./chain-state-key.js";
import { publicKeyId } from "./chain-state-key.js";
import { decodeCheckpoint, trustedCheckpointSigner, type CheckpointTrust } from "./checkpoint.js";
import { openDurableFile, type DurableFile } from "./durable-file.js";

/**
 * What a sink whose records leave the machine (Kafka) needs to find its head
 * again after a crash, when the saved head may trail what was acknowledged.
 */
export interface ResumeHint {
  /**
   * False from the start of a run until its clean close: the saved head may
   * trail records already written, so the next start must look for them.
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

/** A chain state the gateway must not start from: missing where records exist, forged, unkeyed, or not matching its log. */
export class ChainStateError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = "ChainStateError";
  }
}

export interface ChainStateFileOptions {
  readonly path: string;
  readonly instance: string;
  /**
   * The key each save is authenticated with, read at each save so that it
   * follows the gateway's certificate rotations. Without it the state is
   * unkeyed: for tests and benchmarks of a sink alone, never in a gateway
   * (gateway-parts.ts always keys it).
   */
  readonly key?: () => ChainStateKey;
  /**
   * Whose checkpoints the gateway trusts (its certificate, its CA): a state
   * saved under an earlier key is taken over when the clean stop that saved
   * it left a checkpoint of that key naming the same head (the key was
   * changed while the gateway was stopped).
   */
  readonly trust?: CheckpointTrust;
}

/** How the head was established: nothing saved yet, a slot that passed its key check, or a clean stop's checkpoint under an earlier key. */
export type ChainStateOrigin = "new" | "saved" | "handover";

/**
 * The chain state file: two fixed 1 KiB slots written in turn, each a JSON
 * {"v","instance","sequence","headHash",…,"key","sum","mac"} where "sum" is
 * the SHA-256 of the rest (a torn write spoils one slot only and the other
 * still holds the previous head, the double-buffer technique of database
 * control files; no rename or directory fsync per save) and "mac" an
 * HMAC-SHA-256 under the gateway's key (chain-state-key.ts), "key" naming
 * that key. Then a 16 KiB region where a clean close leaves its signed
 * checkpoint of the final head, for a start under another key.
 */
export interface ChainStateFile {
  /** The head saved last, or undefined for a new file. */
  readonly head: ChainHead | undefined;
  /** What the slot with that head said besides the head. */
  readonly resume: ResumeHint | undefined;
  readonly origin: ChainStateOrigin;
  /** One O_DSYNC pwrite; saves are serialized. The first save of a run also clears a clean stop's checkpoint. */
  save(head: ChainHead, resume?: ResumeHint): Promise<void>;
  /** Saves the last head again when the key has changed since (the gateway's certificate key was rotated). */
  rekey(): Promise<void>;
  /** At a clean close, after the last save: a checkpoint signed by the gateway naming exactly that head. */
  saveHandover(checkpoint: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

const SLOT = 1024;
const HANDOVER = 16 * 1024;
const FILE_SIZE = 2 * SLOT + HANDOVER;
/** The unkeyed format of earlier credex versions: two 512-byte slots. */
const LEGACY_SIZE = 1024;
const HANDOVER_MAGIC = Buffer.from("CXH1", "latin1");

interface SlotBody {
  v: 2;
  /** Saves so far, across runs: which of two slots is newer (one head is often saved twice, unclean then clean). */
  n: string;
  instance: string;
  sequence: string;
  headHash: string;
  clean?: boolean;
  topic?: string;
  offsets?: string[];
  key?: string;
}

const sha256hex = (text: string) => createHash("sha256").update(text).digest("hex");

function slotText(n: bigint, head: ChainHead, resume: ResumeHint | undefined, key: ChainStateKey | undefined): Buffer {
  const encode = (withOffsets: boolean) => {
    const body: SlotBody = { v: 2, n: n.toString(), instance: head.instance, sequence: head.sequence.toString(), headHash: Buffer.from(head.headHash).toString("hex") };
    if (resume) {
      body.clean = resume.clean;
      if (resume.topic !== undefined) body.topic = resume.topic;
      if (withOffsets && resume.offsets) body.offsets = resume.offsets.map(String);
    }
    if (key) body.key = key.id;
    const json = JSON.stringify(body);
    return JSON.stringify({ ...body, sum: sha256hex(json), ...(key && { mac: key.mac(json).toString("hex") }) });
  };
  let text = encode(true);
  // Many partitions may not fit: the hint is then kept without offsets (a longer search, never a wrong one).
  if (Buffer.byteLength(text) > SLOT - 1 && resume?.offsets) text = encode(false);
  // Instance names (≤ 64) and audit topic names (≤ 200) are bounded by the config so that this cannot happen.
  if (Buffer.byteLength(text) > SLOT - 1) throw new Error("chain state: the instance or topic name is too long for a slot");
  return Buffer.from(`${text}${" ".repeat(SLOT - 1 - Buffer.byteLength(text))}\n`, "utf8");
}

/** One slot as read: its head and hint, and what its key check said. */
interface ParsedSlot {
  readonly head: ChainHead;
  readonly resume: ResumeHint | undefined;
  /** "verified": MAC under the current key; "forged": names the current key, MAC wrong; "other-key": another key; "unkeyed": no MAC. */
  readonly status: "verified" | "forged" | "other-key" | "unkeyed";
  readonly keyId: string | undefined;
  /** The save count (undefined in slots of earlier versions). */
  readonly n: bigint | undefined;
}

/** undefined: blank, torn or unparseable (the other slot decides). */
function parseSlot(buf: Buffer, path: string, instance: string, key: ChainStateKey | undefined): ParsedSlot | undefined {
  const text = buf.toString("utf8").trim();
  if (text === "") return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const { sum, mac, ...body } = raw;
  const json = JSON.stringify(body);
  if (sum !== sha256hex(json)) return undefined;
  if (body["instance"] !== instance) throw new ChainStateError(path, `chain state ${path}: belongs to instance "${String(body["instance"])}", not "${instance}"`);
  const { n, sequence, headHash, clean, topic, offsets, key: keyId } = body;
  if (n !== undefined && !(typeof n === "string" && /^\d+$/.test(n))) return undefined;
  if (typeof sequence !== "string" || !/^\d+$/.test(sequence)) return undefined;
  if (typeof headHash !== "string" || !/^[0-9a-f]{64}$/.test(headHash)) return undefined;
  if (clean !== undefined && typeof clean !== "boolean") return undefined;
  if (topic !== undefined && typeof topic !== "string") return undefined;
  if (offsets !== undefined && !(Array.isArray(offsets) && offsets.every((o) => typeof o === "string" && /^\d+$/.test(o)))) return undefined;
  if (keyId !== undefined && typeof keyId !== "string") return undefined;
  const head = { instance, sequence: BigInt(sequence), headHash: Buffer.from(headHash, "hex") };
  // A slot without "clean" was written by a sink that saved every head before acknowledging it: nothing to look for.
  const resume =
    typeof clean === "boolean"
      ? { clean, ...(typeof topic === "string" && { topic }), ...(offsets ? { offsets: (offsets as string[]).map((o) => BigInt(o)) } : {}) }
      : undefined;
  let status: ParsedSlot["status"];
  if (body["v"] !== 2 || typeof mac !== "string" || keyId === undefined) status = "unkeyed";
  else if (!key || keyId !== key.id) status = "other-key";
  else status = key.mac(json).toString("hex") === mac ? "verified" : "forged";
  return { head, resume, status, keyId, n: typeof n === "string" ? BigInt(n) : undefined };
}

/**
 * The slot saved last, by its save count. Without one (an unkeyed slot of an earlier version),
 * the higher head; for one head saved twice, the unclean one (a crash is never mistaken for a clean stop).
 */
function newest(slots: readonly ParsedSlot[]): ParsedSlot | undefined {
  const counted = slots.every((x) => x.n !== undefined);
  const rankOf = (x: ParsedSlot) => (counted ? (x.n as bigint) : x.head.sequence * 2n + (x.resume?.clean === false ? 1n : 0n));
  return slots.reduce<ParsedSlot | undefined>((best, s) => (!best || rankOf(s) > rankOf(best) ? s : best), undefined);
}

function readHandover(buf: Buffer): Uint8Array | undefined {
  if (buf.length < 40 || !buf.subarray(0, 4).equals(HANDOVER_MAGIC)) return undefined;
  const length = buf.readUInt32BE(4);
  if (length === 0 || 40 + length > buf.length) return undefined;
  const bytes = buf.subarray(40, 40 + length);
  return createHash("sha256").update(bytes).digest().equals(buf.subarray(8, 40)) ? bytes : undefined;
}

/**
 * A state saved under another key is accepted only as a clean stop's state whose checkpoint,
 * signed with that very key (trusted through the gateway's CA), names the same head: the
 * gateway's key was changed while it was stopped. Returns why not, or undefined when it is.
 */
function handoverProblem(slot: ParsedSlot, handover: Uint8Array | undefined, opts: ChainStateFileOptions, currentKeyId: string): string | undefined {
  if (!handover) return "no checkpoint of a clean stop was left with it";
  if (slot.resume?.clean !== true) return "the gateway did not stop cleanly under that key";
  let cp;
  try {
    cp = decodeCheckpoint(handover);
  } catch {
    return "the checkpoint left with it does not decode";
  }
  const signer = opts.trust ? trustedCheckpointSigner(cp, opts.trust) : undefined;
  if (!signer) return "the checkpoint left with it is not signed by a gateway certificate of this CA";
  const signerKey = publicKeyId(signer.publicKey);
  if (signerKey !== slot.keyId || signerKey === currentKeyId) return "the checkpoint left with it was signed by another key";
  if (cp.gatewayInstance !== opts.instance || cp.sequence !== slot.head.sequence || !Buffer.from(cp.headHash).equals(Buffer.from(slot.head.headHash))) {
    return `the checkpoint left with it names sequence ${cp.sequence}, not the saved head ${slot.head.sequence}`;
  }
  return undefined;
}

async function fsyncDir(path: string): Promise<void> {
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export async function openChainStateFile(opts: ChainStateFileOptions): Promise<ChainStateFile> {
  const { path, instance } = opts;
  const fail = (message: string): never => {
    throw new ChainStateError(path, message);
  };
  // Opened (and created) only as far as needed: a start that is refused leaves nothing behind.
  let file: DurableFile | undefined;
  try {
    // Each save returns once its slot is on disk (O_DSYNC where the platform has it).
    file = await openDurableFile(path, constants.O_RDWR);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const key = opts.key?.();
  let chosen: ParsedSlot | undefined;
  let origin: ChainStateOrigin = "new";
  let handoverPresent = false;
  let nextSlot = 0;
  let slotsRead: ParsedSlot[] = [];
  /** A missing file, or one created but never saved: laid out (blank slots) at the first save. */
  let unformatted = file === undefined;
  if (file) {
    try {
      const { size } = await file.handle.stat();
      const buf = Buffer.alloc(size);
      if (size > 0) await file.handle.read(buf, 0, size, 0);
      // Created but never saved (the gateway stopped or was killed before its first save, found by the
      // chaos suite), in either format: that is a new chain state, not a corrupt one.
      const blank = size === 0 || buf.subarray(0, Math.min(size, 2 * SLOT)).toString("utf8").trim() === "";
      if (!blank && size === LEGACY_SIZE) fail(`chain state ${path} was written without a key (by a credex before the keyed chain state, or by someone else): it cannot vouch for the chain head`);
      if (!blank && size !== FILE_SIZE) fail(`chain state ${path}: ${size} bytes, expected ${FILE_SIZE}`);
      if (blank) {
        unformatted = size !== FILE_SIZE;
      } else {
        const slots = [parseSlot(buf.subarray(0, SLOT), path, instance, key), parseSlot(buf.subarray(SLOT, 2 * SLOT), path, instance, key)];
        const handover = readHandover(buf.subarray(2 * SLOT));
        handoverPresent = buf.subarray(2 * SLOT).some((b) => b !== 0);
        const forged = slots.findIndex((s) => s?.status === "forged");
        if (forged >= 0) fail(`chain state ${path} fails its key check (slot ${forged + 1}): it was not saved by this gateway's key (edited or forged)`);
        const valid = slots.filter((s): s is ParsedSlot => s !== undefined);
        slotsRead = valid;
        if (valid.length === 0) fail(`chain state ${path}: no valid slot (corrupt)`);
        if (!key) {
          if (valid.some((s) => s.status !== "unkeyed")) fail(`chain state ${path} is keyed, but this sink has no key to check it with`);
          chosen = newest(valid);
          origin = "saved";
        } else if (valid.some((s) => s.status === "verified")) {
          chosen = newest(valid.filter((s) => s.status === "verified"));
          origin = "saved";
        } else if (valid.every((s) => s.status === "unkeyed")) {
          fail(`chain state ${path} was written without a key (by a credex before the keyed chain state, or by someone else): it cannot vouch for the chain head`);
        } else {
          const other = newest(valid.filter((s) => s.status === "other-key")) as ParsedSlot;
          const why = handoverProblem(other, handover, opts, key.id);
          if (why) fail(`chain state ${path} was saved under another key (${other.keyId?.slice(0, 16)}…), not the gateway's (${key.id.slice(0, 16)}…), and ${why}`);
          chosen = other;
          origin = "handover";
        }
        nextSlot = chosen && slots[0] === chosen ? 1 : 0;
      }
    } catch (err) {
      await file.handle.close();
      throw err;
    }
  }
  const ready = async (): Promise<DurableFile> => {
    if (!file) {
      file = await openDurableFile(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
      unformatted = true;
      await fsyncDir(path);
    }
    if (unformatted) {
      await file.handle.truncate(0);
      await file.write(Buffer.concat([Buffer.alloc(2 * SLOT, 0x20), Buffer.alloc(HANDOVER)]), 0, FILE_SIZE, 0);
      unformatted = false;
    }
    return file;
  };

  let last: { head: ChainHead; resume: ResumeHint | undefined; keyId: string | undefined } | undefined = chosen && { head: chosen.head, resume: chosen.resume, keyId: chosen.keyId };
  let saves = slotsRead.reduce((max, x) => (x.n !== undefined && x.n > max ? x.n : max), 0n);
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const write = async (h: ChainHead, resume: ResumeHint | undefined) => {
    const k = opts.key?.();
    const f = await ready();
    saves++;
    await f.write(slotText(saves, h, resume, k), 0, SLOT, nextSlot * SLOT);
    nextSlot = 1 - nextSlot;
    last = { head: h, resume, keyId: k?.id };
    // A clean stop's checkpoint serves the one start after it: left longer, it would let a
    // rewritten slot of that old key roll the chain back to that stop.
    if (handoverPresent) {
      await f.write(Buffer.alloc(HANDOVER), 0, HANDOVER, 2 * SLOT);
      handoverPresent = false;
    }
  };
  return {
    head: chosen?.head,
    resume: chosen?.resume,
    origin,
    save(h, resume) {
      if (h.instance !== instance) return Promise.reject(new Error(`chain state ${path} is for instance ${instance}, not ${h.instance}`));
      return serialized(() => write(h, resume));
    },
    rekey: () =>
      serialized(async () => {
        if (last && opts.key && last.keyId !== opts.key().id) await write(last.head, last.resume);
      }),
    saveHandover: (checkpoint) =>
      serialized(async () => {
        if (checkpoint.length > HANDOVER - 40) throw new Error(`chain state ${path}: a checkpoint of ${checkpoint.length} bytes does not fit`);
        const region = Buffer.alloc(HANDOVER);
        HANDOVER_MAGIC.copy(region, 0);
        region.writeUInt32BE(checkpoint.length, 4);
        createHash("sha256").update(checkpoint).digest().copy(region, 8);
        Buffer.from(checkpoint).copy(region, 40);
        await (await ready()).write(region, 0, HANDOVER, 2 * SLOT);
        handoverPresent = true;
      }),
    close: () => serialized(async () => file?.handle.close()),
  };
}

/**
 * `--new-audit-chain`: the refused state is kept beside (as evidence, renamed
 * `<path>.refused-<time>`) and a new, empty one opened in its place.
 */
export async function replaceChainStateFile(opts: ChainStateFileOptions, now = new Date()): Promise<{ state: ChainStateFile; keptAs: string | undefined }> {
  let keptAs: string | undefined;
  const exists = await stat(opts.path).then(
    () => true,
    () => false,
  );
  if (exists) {
    keptAs = `${opts.path}.refused-${now.toISOString().replace(/[:.]/g, "-")}`;
    await rename(opts.path, keptAs);
    await fsyncDir(opts.path);
  }
  return { state: await openChainStateFile(opts), keptAs };
}
