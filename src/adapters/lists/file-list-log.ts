import { createHash } from "node:crypto";
import { mkdirSync, openSync, readFileSync, closeSync, ftruncateSync, fsyncSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { ListLog, LogBatch, LogMessage, LogPosition, LogReader, LogRecord } from "../../core/lists/list-log.js";

const HEADER_BYTES = 10; // u32 frame length, u16 key length, u32 check
const READ_BATCH = 1_000;

/**
 * The embedded list log: one partition in an append-only file, for the demo
 * and development, with the same cursor semantics as the Kafka log (offset =
 * record number, position = next offset). Frames are
 *   u32 length (key+value) | u16 key length | u32 first 4 bytes of SHA-256(key|value) | key | value
 * and every append is fsync'd before it resolves. A torn frame at the end
 * (crash during a write) is cut off when the file is opened. The whole log is
 * held in memory: not for production volumes (use Kafka, credex.lists.v1).
 */
export async function openFileListLog(path: string, name = basename(path)): Promise<ListLog> {
  // The gateway's own state: only its user reads it (directories it creates 0700, the file 0600, also
  // when an earlier version left it wider). Entries are sealed above this layer (sealed-list-log.ts).
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const records: LogRecord[] = loadFrames(path);
  const handle: FileHandle = await open(path, "a", 0o600);
  await handle.chmod(0o600);
  let waiters: Array<() => void> = [];
  let appending = Promise.resolve();
  let closed = false;
  const wake = () => {
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  };

  return {
    name,
    append(messages: readonly LogMessage[]) {
      const run = appending.then(async () => {
        if (closed) throw new Error(`list log ${path} is closed`);
        const frames = messages.map((m) => frameOf(m));
        await handle.write(Buffer.concat(frames));
        await handle.datasync();
        const placed = messages.map((m) => {
          const record: LogRecord = { partition: 0, offset: BigInt(records.length), key: m.key, value: m.value };
          records.push(record);
          return { partition: 0, offset: record.offset };
        });
        wake();
        return placed;
      });
      appending = run.then(() => undefined, () => undefined);
      return run;
    },
    async endPosition(): Promise<LogPosition> {
      return new Map([[0, BigInt(records.length)]]);
    },
    async read(from: LogPosition, onBatch: (batch: LogBatch) => Promise<void>): Promise<LogReader> {
      let next = Number(from.get(0) ?? 0n);
      let stopped = false;
      let stop: () => void = () => undefined;
      const stoppedSignal = new Promise<void>((resolve) => (stop = resolve));
      const done = (async () => {
        while (!stopped && !closed) {
          if (next < records.length) {
            const slice = records.slice(next, next + READ_BATCH);
            await onBatch({ partition: 0, records: slice });
            next += slice.length;
            continue;
          }
          await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), stoppedSignal]);
        }
      })();
      return {
        done,
        async close() {
          stopped = true;
          stop();
          await done.catch(() => undefined);
        },
      };
    },
    async close() {
      closed = true;
      wake();
      await appending;
      await handle.close();
    },
  };
}

function frameOf(message: LogMessage): Buffer {
  const key = Buffer.from(message.key, "utf8");
  if (key.length > 0xffff) throw new RangeError("list log key too long");
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(key.length + message.value.length, 0);
  header.writeUInt16BE(key.length, 4);
  checkOf(key, message.value).copy(header, 6);
  return Buffer.concat([header, key, message.value]);
}

function checkOf(key: Uint8Array, value: Uint8Array): Buffer {
  return createHash("sha256").update(key).update(value).digest().subarray(0, 4);
}

/** Reads every whole frame; cuts off a torn or corrupt tail so appends continue after the last good record. */
function loadFrames(path: string): LogRecord[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const records: LogRecord[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const keyLength = bytes.readUInt16BE(at + 4);
    const end = at + HEADER_BYTES + length;
    if (keyLength > length || end > bytes.length) break;
    const key = bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + keyLength);
    const value = bytes.subarray(at + HEADER_BYTES + keyLength, end);
    if (!checkOf(key, value).equals(bytes.subarray(at + 6, at + 10))) break;
    records.push({ partition: 0, offset: BigInt(records.length), key: key.toString("utf8"), value: new Uint8Array(value) });
    at = end;
  }
  if (at < bytes.length) {
    const fd = openSync(path, "r+");
    try {
      ftruncateSync(fd, at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return records;
}
