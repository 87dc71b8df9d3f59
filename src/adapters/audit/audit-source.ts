import { open } from "node:fs/promises";
import { parseAuditLogLine, readAuditLogFile } from "./audit-log-file.js";

/** One entry of an audit medium (file or Kafka) as the officers' tools scan it. */
export type AuditSourceEntry =
  | { readonly kind: "record"; readonly bytes: Uint8Array; readonly position: string; readonly stream: string }
  | { readonly kind: "checkpoint"; readonly bytes: Uint8Array; readonly position: string; readonly stream: string }
  | { readonly kind: "invalid"; readonly position: string; readonly stream: string; readonly detail: string };

export type AuditEntryHandler = (entry: AuditSourceEntry) => void | Promise<void>;

/** Scans an audit log file (file sink or spool); positions are "<path>:<line>". */
export async function scanAuditFile(path: string, onEntry: AuditEntryHandler): Promise<number> {
  let n = 0;
  for await (const e of readAuditLogFile(path)) {
    n++;
    const position = `${path}:${e.line}`;
    if (e.kind === "invalid") await onEntry({ kind: "invalid", position, stream: path, detail: e.detail });
    else if (e.kind === "record") await onEntry({ kind: "record", bytes: e.bytes, position, stream: path });
    else await onEntry({ kind: "checkpoint", bytes: e.bytes, position, stream: path });
  }
  return n;
}

/**
 * `tail -f` for an audit log file: every entry already there, then new
 * complete lines as they are appended, until `signal` aborts. Polls (the
 * file sink appends with plain writes; no inotify dependency).
 */
export async function followAuditFile(path: string, onEntry: AuditEntryHandler, signal: AbortSignal, pollMs = 500): Promise<void> {
  const fh = await open(path, "r");
  try {
    let offset = 0;
    let line = 0;
    let partial = "";
    const buf = Buffer.alloc(1 << 20);
    while (!signal.aborted) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, pollMs);
          signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
        });
        continue;
      }
      offset += bytesRead;
      const text = partial + buf.subarray(0, bytesRead).toString("utf8");
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      for (const p of parts) {
        line++;
        const e = parseAuditLogLine(p, line);
        const position = `${path}:${line}`;
        if (e.kind === "invalid") await onEntry({ kind: "invalid", position, stream: path, detail: e.detail });
        else if (e.kind === "record") await onEntry({ kind: "record", bytes: e.bytes, position, stream: path });
        else await onEntry({ kind: "checkpoint", bytes: e.bytes, position, stream: path });
      }
    }
  } finally {
    await fh.close();
  }
}
