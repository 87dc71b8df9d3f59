import { open, readFile, rename, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { auditLogLine, readAuditLogFile, truncateTornTail } from "./audit-log-file.js";

/**
 * The local spool of a remote audit sink while its backbone is unreachable:
 * an append-only audit log file (audit-log-file.ts format, fdatasync'd per
 * append) plus a cursor file counting the entries already delivered. Once
 * everything is delivered the file is emptied. Undelivered entries are kept
 * in memory too (bounded by the sink's spool bound) for the drain.
 */
export interface AuditSpool {
  /** Entries waiting for delivery. */
  depth(): number;
  /** Appends record bytes durably (write + fdatasync). */
  append(records: readonly Uint8Array[]): Promise<void>;
  /** Up to `max` oldest undelivered records, in spool order. */
  peek(max: number): readonly Uint8Array[];
  /** Marks the `n` oldest undelivered records delivered (cursor fsync'd; the file emptied when all are). */
  markDelivered(n: number): Promise<void>;
  /** The newest record in the spool (delivered or not), for chain recovery after a crash. */
  lastRecord(): Uint8Array | undefined;
  close(): Promise<void>;
}

async function writeDurably(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
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

export async function openAuditSpool(path: string): Promise<AuditSpool> {
  const cursorPath = `${path}.cursor`;
  let exists = true;
  try {
    await stat(path);
  } catch {
    exists = false;
  }
  if (exists) await truncateTornTail(path);
  const all: Uint8Array[] = [];
  if (exists) {
    for await (const e of readAuditLogFile(path)) {
      if (e.kind !== "record") throw new Error(`audit spool ${path}:${e.line}: not a record line`);
      all.push(e.bytes);
    }
  }
  let delivered = 0;
  try {
    const raw = JSON.parse(await readFile(cursorPath, "utf8")) as { delivered?: unknown };
    if (typeof raw.delivered !== "number" || !Number.isInteger(raw.delivered) || raw.delivered < 0) throw new Error("bad cursor");
    // A cursor beyond the file means the file was emptied after a full drain and the crash came before the cursor reset.
    if (raw.delivered > all.length && all.length > 0) throw new Error(`audit spool cursor ${cursorPath} is beyond the spool's ${all.length} entries`);
    delivered = raw.delivered;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`audit spool cursor ${cursorPath}: ${(err as Error).message}`);
  }
  if (delivered > all.length) {
    await writeDurably(cursorPath, `{"delivered":0}\n`);
    delivered = 0;
  }
  let last = all.length ? all[all.length - 1] : undefined;
  let pending = all.slice(delivered);
  let lines = all.length;
  const fh: FileHandle = await open(path, "a", 0o600);

  return {
    depth: () => pending.length,
    async append(records) {
      if (records.length === 0) return;
      await fh.write(Buffer.from(records.map((r) => auditLogLine("record", r)).join(""), "utf8"));
      await fh.datasync();
      pending.push(...records);
      lines += records.length;
      last = records[records.length - 1];
    },
    peek: (max) => pending.slice(0, max),
    async markDelivered(n) {
      if (n <= 0) return;
      if (n > pending.length) throw new Error(`cannot mark ${n} spool entries delivered: only ${pending.length} pending`);
      // depth() changes only once the cursor is durable, so what operators see is what a restart would find.
      const rest = pending.slice(n);
      if (rest.length === 0) {
        // Empty the file first: a crash before the cursor reset leaves a cursor beyond an empty file, read as 0.
        await fh.truncate(0);
        await fh.datasync();
        lines = 0;
        await writeDurably(cursorPath, `{"delivered":0}\n`);
      } else {
        await writeDurably(cursorPath, `${JSON.stringify({ delivered: lines - rest.length })}\n`);
      }
      pending = rest;
    },
    lastRecord: () => last,
    close: () => fh.close(),
  };
}
