import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";

/**
 * The local audit log format (file sink and Kafka spool): UTF-8 text, one
 * entry per line, "R <base64 SealedAuditRecord>" or "C <base64 AuditCheckpoint>".
 * Text lines keep the file readable by standard tools (grep, tail, wc -l
 * counts entries), base64 keeps the exact record bytes the chain hashes.
 * Line numbers (1-based) are the positions reported by `credex audit verify`.
 */
export type AuditLogEntryKind = "record" | "checkpoint";

export type AuditLogEntry =
  | { readonly kind: "record"; readonly bytes: Uint8Array; readonly line: number }
  | { readonly kind: "checkpoint"; readonly bytes: Uint8Array; readonly line: number };

export interface AuditLogInvalidLine {
  readonly kind: "invalid";
  readonly line: number;
  readonly detail: string;
}

const PREFIX: Record<AuditLogEntryKind, string> = { record: "R ", checkpoint: "C " };
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function auditLogLine(kind: AuditLogEntryKind, bytes: Uint8Array): string {
  return `${PREFIX[kind]}${Buffer.from(bytes).toString("base64")}\n`;
}

export function parseAuditLogLine(text: string, line: number): AuditLogEntry | AuditLogInvalidLine {
  const kind: AuditLogEntryKind | undefined = text.startsWith("R ") ? "record" : text.startsWith("C ") ? "checkpoint" : undefined;
  if (!kind) return { kind: "invalid", line, detail: "not an audit log line (expected \"R \" or \"C \")" };
  const b64 = text.slice(2);
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64)) return { kind: "invalid", line, detail: "invalid base64" };
  return { kind, bytes: Buffer.from(b64, "base64"), line } as AuditLogEntry;
}

/** Streams the entries of an audit log file, invalid lines included (for verify to report). */
export async function* readAuditLogFile(path: string): AsyncGenerator<AuditLogEntry | AuditLogInvalidLine> {
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    yield parseAuditLogLine(text, line);
  }
}

/**
 * Drops a torn last line (a crash in the middle of a write: never fsync'd,
 * so never acknowledged) and returns the size of the intact content.
 */
export async function truncateTornTail(path: string): Promise<number> {
  const fh = await open(path, "r+");
  try {
    const { size } = await fh.stat();
    if (size === 0) return 0;
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    let keep = -1;
    while (end > 0 && keep < 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await fh.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) keep = start + nl + 1;
      end = start;
    }
    if (keep < 0) keep = 0;
    if (keep !== size) {
      await fh.truncate(keep);
      await fh.sync();
    }
    return keep;
  } finally {
    await fh.close();
  }
}
