import { constants } from "node:fs";
import { stat } from "node:fs/promises";
import type { AuditEvent } from "../../gen/credex/v1/audit_pb.js";
import type { AuditReceipt, AuditSink } from "../../core/audit-sink.js";
import { CredexError } from "../../core/errors.js";
import { createAuditChain, genesisHead, openChainStateFile, recordHash, type ChainHead, type ChainStateFile } from "../../core/audit/audit-chain.js";
import { createCheckpoint, encodeCheckpoint, type CheckpointSigner } from "../../core/audit/checkpoint.js";
import { createGroupCommitter } from "../../core/audit/group-commit.js";
import type { KeyRing } from "../../core/audit/key-ring.js";
import { openDurableFile } from "../../core/audit/durable-file.js";
import { decodeSealedRecord, sealSuiteFromName, type SealSuiteName } from "../../core/audit/seal.js";
import { auditLogLine, readAuditLogFile, truncateTornTail } from "./audit-log-file.js";

export interface FileAuditSinkOptions {
  /** The audit log file (format: audit-log-file.ts); created if missing, only ever appended to. */
  readonly path: string;
  readonly keyRing: KeyRing;
  readonly suite: SealSuiteName;
  /** This gateway instance: names its chain. */
  readonly instance: string;
  /**
   * Optional second copy of the chain head, one commit behind the file: each
   * commit saves the head of the commit before it while its own records are
   * written, so the two fsyncs overlap and the copy is never ahead of the
   * file. At start it must not be ahead of the file: if it is, records were
   * removed from the file and the sink refuses to start.
   */
  readonly chainStatePath?: string;
  /** Signs a checkpoint line every `checkpointEveryRecords` records or `checkpointIntervalMs`, and at close. */
  readonly checkpointSigner?: CheckpointSigner;
  readonly checkpointEveryRecords?: number;
  readonly checkpointIntervalMs?: number;
  /** Largest group commit (default 1024 records). */
  readonly maxBatch?: number;
}

export interface FileAuditSinkStats {
  readonly records: number;
  readonly commits: number;
  readonly checkpoints: number;
  readonly lastSequence: bigint;
  readonly queued: number;
}

export interface FileAuditSink extends AuditSink {
  stats(): FileAuditSinkStats;
  /** Appends a signed checkpoint of the current head now (needs a checkpointSigner). */
  checkpoint(): Promise<void>;
}

type Item = { kind: "event"; event: AuditEvent } | { kind: "checkpoint" };

/** Finds this instance's last record in an existing file. */
async function scanFile(path: string, instance: string): Promise<{ head: ChainHead; lines: number }> {
  let head = genesisHead(instance);
  let lines = 0;
  for await (const entry of readAuditLogFile(path)) {
    lines = entry.line;
    if (entry.kind === "invalid") throw new Error(`audit file ${path}:${entry.line}: ${entry.detail}; run \`credex audit verify --file ${path}\``);
    if (entry.kind !== "record") continue;
    let record;
    try {
      record = decodeSealedRecord(entry.bytes);
    } catch {
      throw new Error(`audit file ${path}:${entry.line}: not a sealed audit record; run \`credex audit verify --file ${path}\``);
    }
    if (record.gatewayInstance !== instance) continue;
    if (record.sequence !== head.sequence + 1n) {
      throw new Error(`audit file ${path}:${entry.line}: sequence ${record.sequence} follows ${head.sequence}; run \`credex audit verify --file ${path}\``);
    }
    head = { instance, sequence: record.sequence, headHash: recordHash(entry.bytes) };
  }
  return { head, lines };
}

/**
 * The embedded audit sink: sealed, chained records appended to a local file,
 * with group commit (concurrent appends share one O_DSYNC write).
 * `append` resolves only after the fsync: no audit, no answer.
 */
export async function createFileAuditSink(opts: FileAuditSinkOptions): Promise<FileAuditSink> {
  const suite = sealSuiteFromName(opts.suite);
  const everyRecords = opts.checkpointEveryRecords ?? 1000;
  const intervalMs = opts.checkpointIntervalMs ?? 60_000;
  if (!opts.instance) throw new Error("file audit sink: instance is required");

  let exists = true;
  try {
    await stat(opts.path);
  } catch {
    exists = false;
  }
  let size = exists ? await truncateTornTail(opts.path) : 0;
  const scanned = exists ? await scanFile(opts.path, opts.instance) : { head: genesisHead(opts.instance), lines: 0 };
  let state: ChainStateFile | undefined;
  if (opts.chainStatePath) {
    state = await openChainStateFile(opts.chainStatePath, opts.instance);
    const saved = state.head;
    if (saved && saved.sequence > scanned.head.sequence) {
      throw new Error(`chain state ${opts.chainStatePath} is at sequence ${saved.sequence} but ${opts.path} ends at ${scanned.head.sequence}: records are missing from the audit file`);
    }
    if (saved && saved.sequence === scanned.head.sequence && !Buffer.from(saved.headHash).equals(Buffer.from(scanned.head.headHash))) {
      throw new Error(`chain state ${opts.chainStatePath} and ${opts.path} disagree on record ${saved.sequence}: the audit file was altered`);
    }
  }
  const chain = createAuditChain(scanned.head, opts.keyRing, suite);
  /** The head saved in the chain state (never ahead of the file). */
  let savedHead = state?.head ?? genesisHead(opts.instance);
  let lines = scanned.lines;
  // A write returns once its data is on disk (O_DSYNC: write + fdatasync in one system call).
  const log = await openDurableFile(opts.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  const fh = log.handle;
  let records = 0;
  let commits = 0;
  let checkpoints = 0;
  let sinceCheckpoint = 0;
  let lastCheckpointAt = Date.now();
  let closed = false;
  let broken: Error | undefined;

  const committer = createGroupCommitter<Item, AuditReceipt | undefined>(async (items) => {
    if (broken) throw new CredexError("AUDIT_UNAVAILABLE", undefined, {}, { cause: broken });
    const before = { head: chain.head(), lines, size };
    const results: Array<AuditReceipt | undefined | Error> = [];
    const chunks: string[] = [];
    let line = lines;
    let wantCheckpoint = false;
    for (const item of items) {
      if (item.kind === "checkpoint") {
        wantCheckpoint = true;
        results.push(undefined);
        continue;
      }
      try {
        const { record, bytes } = chain.append(item.event);
        chunks.push(auditLogLine("record", bytes));
        line++;
        results.push({ medium: "file", position: `${opts.path}:${line}`, sequence: record.sequence });
      } catch (err) {
        results.push(new CredexError("AUDIT_UNAVAILABLE", `the audit event could not be sealed: ${(err as Error).message}`, {}, { cause: err }));
      }
    }
    const added = line - lines;
    const due = opts.checkpointSigner && (sinceCheckpoint + added >= everyRecords || Date.now() - lastCheckpointAt >= intervalMs);
    if (opts.checkpointSigner && (wantCheckpoint || due)) {
      chunks.push(auditLogLine("checkpoint", encodeCheckpoint(createCheckpoint(chain.head(), opts.checkpointSigner))));
      line++;
    }
    if (chunks.length === 0) return results;
    const buf = Buffer.from(chunks.join(""), "utf8");
    // The previous commit's head is already durable in the file: saving it now, beside this
    // commit's write, costs no extra fsync on the exchange's path.
    // The chain's head at commit start is durable in the file (a failed commit puts the chain back).
    const toSave = state && before.head.sequence > savedHead.sequence ? before.head : undefined;
    const saving = toSave && state ? state.save(toSave).then(() => undefined, (e: unknown) => e as Error) : undefined;
    try {
      const writing = log.write(buf);
      const [, saveError] = await Promise.all([writing, saving]);
      if (saveError) throw saveError;
    } catch (err) {
      await saving;
      chain.reset(before.head);
      try {
        // Take back a partial write so the file never holds a record nobody was told about.
        await fh.truncate(before.size);
        await fh.datasync();
      } catch (truncErr) {
        broken = truncErr as Error;
      }
      throw new CredexError("AUDIT_UNAVAILABLE", undefined, {}, { cause: err });
    }
    size += buf.length;
    if (toSave) savedHead = toSave;
    lines = line;
    records += added;
    commits++;
    if (opts.checkpointSigner && (wantCheckpoint || due)) {
      checkpoints++;
      sinceCheckpoint = 0;
      lastCheckpointAt = Date.now();
    } else {
      sinceCheckpoint += added;
    }
    return results;
  }, { maxBatch: opts.maxBatch ?? 1024 });

  const refuseIfClosed = () => {
    if (closed) throw new CredexError("AUDIT_UNAVAILABLE", "the audit sink is closed");
  };

  return {
    async append(event) {
      refuseIfClosed();
      return (await committer.submit({ kind: "event", event })) as AuditReceipt;
    },
    async checkpoint() {
      refuseIfClosed();
      if (!opts.checkpointSigner) throw new Error("file audit sink: no checkpoint signer configured");
      await committer.submit({ kind: "checkpoint" });
    },
    flush: () => committer.idle(),
    async close() {
      if (closed) return;
      if (opts.checkpointSigner && (sinceCheckpoint > 0 || committer.queued() > 0)) await committer.submit({ kind: "checkpoint" }).catch(() => undefined);
      closed = true;
      await committer.idle();
      await fh.close();
      if (state && chain.head().sequence > savedHead.sequence) await state.save(chain.head()).catch(() => undefined);
      await state?.close();
    },
    describe: () => `file ${opts.path} (instance ${opts.instance}, ${opts.suite})`,
    stats: () => ({ records, commits, checkpoints, lastSequence: chain.head().sequence, queued: committer.queued() }),
  };
}
