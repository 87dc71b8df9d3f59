import { readAuditLogFile } from "./audit-log-file.js";

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
