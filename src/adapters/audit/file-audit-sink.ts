import { X509Certificate } from "node:crypto";
import { constants } from "node:fs";
import { stat } from "node:fs/promises";
import type { AuditEvent } from "../../gen/credex/v1/audit_pb.js";
import type { AuditReceipt, AuditSink } from "../../core/audit-sink.js";
import { CredexError } from "../../core/errors.js";
import { createAuditChain, genesisHead, recordHash, type ChainHead } from "../../core/audit/audit-chain.js";
import { ChainStateError, openChainStateFile, replaceChainStateFile, type ChainStateFile } from "../../core/audit/chain-state-file.js";
import { announceChainRestart, type ChainRestart, type PreviousCheckpoint } from "../../core/audit/chain-restart.js";
import { createCheckpoint, decodeCheckpoint, encodeCheckpoint, trustedCheckpointSigner, type CheckpointSigner, type CheckpointTrust } from "../../core/audit/checkpoint.js";
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
   * The chain head, kept apart from the file and keyed with the checkpoint signer's key
   * (chain-state-file.ts), one commit behind the file: each commit saves the head of the
   * commit before it while its own records are written, so the two fsyncs overlap and the
   * state is never ahead of the file. At start the file must hold the saved head unaltered,
   * end there after a clean stop and at most one commit beyond after an unclean one; a state
   * that is missing while the file holds records, fails its key check or does not match
   * makes the sink refuse to start (ChainStateError), unless `newChain`.
   */
  readonly chainStatePath?: string;
  /** Signs a checkpoint line every `checkpointEveryRecords` records or `checkpointIntervalMs`, and at close. */
  readonly checkpointSigner?: CheckpointSigner;
  readonly checkpointEveryRecords?: number;
  readonly checkpointIntervalMs?: number;
  /** Largest group commit (default 1024 records). */
  readonly maxBatch?: number;
  /** Whose checkpoints the gateway trusts (its certificate and CA): a start after a key change, and the last checkpoint a new chain names. */
  readonly trust?: CheckpointTrust;
  /**
   * `--new-audit-chain`: when the chain state is refused, keep it aside, continue after the
   * file's last record with a record announcing the restart (naming the last checkpoint the
   * gateway can check) and a checkpoint. `audit verify` reports the restart as a failure.
   */
  readonly newChain?: boolean;
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
  /** The new chain this start announced (`newChain`), if it had to. */
  readonly restart: ChainRestart | undefined;
}

type Item = { kind: "event"; event: AuditEvent } | { kind: "checkpoint" };

interface ScannedFile {
  /** This instance's record with the highest sequence (the last one, in a sound file). */
  head: ChainHead;
  lines: number;
  /** The hash of this instance's record `hashAt`, when asked for and present. */
  hashAt?: Uint8Array;
  /** The newest checkpoint of this instance whose signature the trust accepts. */
  lastCheckpoint?: PreviousCheckpoint;
  /** The first thing that keeps the file from continuing as it is. */
  problem?: string;
}

/** Finds this instance's last record, and its last trusted checkpoint, in an existing file. */
async function scanFile(path: string, instance: string, hashAt: bigint | undefined, trust: CheckpointTrust | undefined): Promise<ScannedFile> {
  const scanned: ScannedFile = { head: genesisHead(instance), lines: 0 };
  let last = 0n;
  const problem = (line: number, what: string) => (scanned.problem ??= `audit file ${path}:${line}: ${what}; run \`credex audit verify --file ${path}\``);
  for await (const entry of readAuditLogFile(path)) {
    scanned.lines = entry.line;
    if (entry.kind === "invalid") {
      problem(entry.line, entry.detail);
      continue;
    }
    if (entry.kind === "checkpoint") {
      if (!trust) continue;
      try {
        const cp = decodeCheckpoint(entry.bytes);
        if (cp.gatewayInstance === instance && cp.sequence > (scanned.lastCheckpoint?.sequence ?? -1n) && trustedCheckpointSigner(cp, trust)) {
          scanned.lastCheckpoint = { sequence: cp.sequence, headHash: cp.headHash, position: `${path}:${entry.line}` };
        }
      } catch {
        // not a checkpoint: verify reports it
      }
      continue;
    }
    let record;
    try {
      record = decodeSealedRecord(entry.bytes);
    } catch {
      problem(entry.line, "not a sealed audit record");
      continue;
    }
    if (record.gatewayInstance !== instance) continue;
    if (record.sequence !== last + 1n) problem(entry.line, `sequence ${record.sequence} follows ${last}`);
    last = record.sequence;
    if (record.sequence === hashAt) scanned.hashAt = recordHash(entry.bytes);
    if (record.sequence > scanned.head.sequence) scanned.head = { instance, sequence: record.sequence, headHash: recordHash(entry.bytes) };
  }
  return scanned;
}

/** Why the saved chain state and the file do not belong together, if they do not. */
function stateMismatch(statePath: string, path: string, state: ChainStateFile, file: ScannedFile, instance: string, maxBatch: number): string | undefined {
  const saved = state.head;
  const end = file.head.sequence;
  if (!saved) {
    return end > 0n
      ? `the chain state ${statePath} is missing (or was never saved) but ${path} holds records of instance ${instance} up to sequence ${end}: the state was deleted or replaced (or the file is another gateway's)`
      : undefined;
  }
  if (saved.sequence > end) return `chain state ${statePath} is at sequence ${saved.sequence} but ${path} ends at ${end}: records are missing from the audit file`;
  if (saved.sequence > 0n && !(file.hashAt && Buffer.from(file.hashAt).equals(Buffer.from(saved.headHash)))) {
    return `chain state ${statePath} and ${path} disagree on record ${saved.sequence}: the audit file was altered`;
  }
  if (state.resume?.clean === true && end > saved.sequence) {
    return `the gateway stopped cleanly at sequence ${saved.sequence} (chain state ${statePath}) but ${path} holds records up to sequence ${end}: records ${saved.sequence + 1n}..${end} were added while it was stopped`;
  }
  if (end - saved.sequence > BigInt(maxBatch)) {
    return `chain state ${statePath} was saved at sequence ${saved.sequence} before an unclean stop, but ${path} holds records up to sequence ${end}: more than one commit (${maxBatch} records) beyond it, so records were added while the gateway was stopped`;
  }
  return undefined;
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
  const maxBatch = opts.maxBatch ?? 1024;
  if (!opts.instance) throw new Error("file audit sink: instance is required");
  const signer = opts.checkpointSigner;
  // Without a trust configured (a sink alone), the signer's own certificate.
  const trust: CheckpointTrust | undefined = opts.trust ?? (signer ? { certificates: [new X509Certificate(Buffer.from(signer.certificates[0] as Uint8Array))] } : undefined);
  const stateOptions = opts.chainStatePath ? { path: opts.chainStatePath, instance: opts.instance, ...(signer && { key: () => signer.stateKey }), ...(trust && { trust }) } : undefined;

  let exists = true;
  try {
    await stat(opts.path);
  } catch {
    exists = false;
  }
  let size = exists ? await truncateTornTail(opts.path) : 0;
  let state: ChainStateFile | undefined;
  let problem: string | undefined;
  if (stateOptions) {
    try {
      state = await openChainStateFile(stateOptions);
    } catch (err) {
      if (!(err instanceof ChainStateError)) throw err;
      problem = err.message;
    }
  }
  const scanned = exists ? await scanFile(opts.path, opts.instance, state?.head?.sequence, trust) : { head: genesisHead(opts.instance), lines: 0 };
  problem ??= scanned.problem ?? (state && stateOptions ? stateMismatch(stateOptions.path, opts.path, state, scanned, opts.instance, maxBatch) : undefined);
  let restartOf: Omit<ChainRestart, "sequence"> | undefined;
  if (problem) {
    await state?.close();
    if (!opts.newChain) throw new ChainStateError(opts.chainStatePath ?? opts.path, problem);
    if (!signer) throw new Error("file audit sink: a new audit chain needs a checkpoint signer");
    const replaced = stateOptions ? await replaceChainStateFile(stateOptions) : undefined;
    state = replaced?.state;
    restartOf = { instance: opts.instance, reason: problem, previousCheckpoint: scanned.lastCheckpoint, refusedStateKeptAs: replaced?.keptAs };
  }
  // This run is under way: until its clean close, the state says so (a crash may leave one commit more in the file).
  if (state) {
    try {
      await state.save(scanned.head, { clean: false });
    } catch (err) {
      await state.close();
      throw err;
    }
  }
  const chain = createAuditChain(scanned.head, opts.keyRing, suite);
  /** The head saved in the chain state (never ahead of the file). */
  let savedHead = scanned.head;
  /** The last checkpoint written, to leave in the chain state at a clean close when it names the final head. */
  let lastCheckpoint: { bytes: Uint8Array; sequence: bigint } | undefined;
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
    const due = signer && (sinceCheckpoint + added >= everyRecords || Date.now() - lastCheckpointAt >= intervalMs);
    let checkpointBytes: Uint8Array | undefined;
    if (signer && (wantCheckpoint || due)) {
      checkpointBytes = encodeCheckpoint(createCheckpoint(chain.head(), signer));
      chunks.push(auditLogLine("checkpoint", checkpointBytes));
      line++;
    }
    if (chunks.length === 0) return results;
    const buf = Buffer.from(chunks.join(""), "utf8");
    // The previous commit's head is already durable in the file: saving it now, beside this
    // commit's write, costs no extra fsync on the exchange's path.
    // The chain's head at commit start is durable in the file (a failed commit puts the chain back).
    const toSave = state && before.head.sequence > savedHead.sequence ? before.head : undefined;
    const saving = toSave && state ? state.save(toSave, { clean: false }).then(() => undefined, (e: unknown) => e as Error) : undefined;
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
    if (checkpointBytes) {
      checkpoints++;
      sinceCheckpoint = 0;
      lastCheckpointAt = Date.now();
      lastCheckpoint = { bytes: checkpointBytes, sequence: chain.head().sequence };
    } else {
      sinceCheckpoint += added;
    }
    return results;
  }, { maxBatch });

  const refuseIfClosed = () => {
    if (closed) throw new CredexError("AUDIT_UNAVAILABLE", "the audit sink is closed");
  };

  // A quiet gateway still signs what it wrote within the interval: a live log's unsigned tail stays short.
  const timer = signer
    ? setInterval(() => {
        if (!closed && sinceCheckpoint > 0 && committer.queued() === 0) void committer.submit({ kind: "checkpoint" }).catch(() => undefined);
      }, intervalMs)
    : undefined;
  timer?.unref();
  // The gateway's certificate key was rotated: the state is saved again under the new key at once.
  signer?.onSwitch?.(() => void state?.rekey().catch(() => undefined));

  let restart: ChainRestart | undefined;
  if (restartOf) {
    try {
      restart = await announceChainRestart((item) => committer.submit(item), restartOf);
    } catch (err) {
      if (timer) clearInterval(timer);
      await fh.close().catch(() => undefined);
      await state?.close().catch(() => undefined);
      throw new Error(`the new audit chain could not be announced in ${opts.path}: ${(err as Error).message}`, { cause: err });
    }
  }

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
      if (timer) clearInterval(timer);
      if (signer && (sinceCheckpoint > 0 || committer.queued() > 0)) await committer.submit({ kind: "checkpoint" }).catch(() => undefined);
      closed = true;
      await committer.idle();
      await fh.close();
      if (state) {
        // A clean stop: the file ends at this head. Its checkpoint lets a start under another key take the state over.
        const head = chain.head();
        const saved = await state.save(head, { clean: true }).then(() => true, () => false);
        if (saved && lastCheckpoint?.sequence === head.sequence && !broken) await state.saveHandover(lastCheckpoint.bytes).catch(() => undefined);
        await state.close();
      }
    },
    describe: () => `file ${opts.path} (instance ${opts.instance}, ${opts.suite})`,
    restart,
    stats: () => ({ records, commits, checkpoints, lastSequence: chain.head().sequence, queued: committer.queued() }),
  };
}
