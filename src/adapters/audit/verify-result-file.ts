import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writePublicFile } from "../pki/pem-files.js";
import type { KeyRing } from "../../core/audit/key-ring.js";
import { createChainVerifier, type ChainVerifierOptions, type VerifyReport } from "../../core/audit/verify-chain.js";
import type { AuditVerificationFact } from "../../core/posture/posture-evidence.js";
import { readAuditLogFile } from "./audit-log-file.js";

/**
 * The outcome of the last audit verification, kept beside the audit log so
 * that posture can tell whether the chain was verified recently. `credex audit
 * verify` should write it (writeVerifyResult) after each run.
 */
export interface VerifyResult {
  readonly schema: 1;
  readonly verifiedAt: string;
  readonly ok: boolean;
  readonly records: number;
  readonly breaks: number;
  /** What was verified: the file path or the Kafka topic. */
  readonly source: string;
}

/** <audit log folder>/last-verify.json */
export function verifyResultPathOf(auditFile: string): string {
  return join(dirname(auditFile), "last-verify.json");
}

export async function writeVerifyResult(path: string, report: VerifyReport, source: string, now = new Date()): Promise<void> {
  const result: VerifyResult = { schema: 1, verifiedAt: now.toISOString(), ok: report.ok, records: report.records, breaks: report.totalBreaks, source };
  await writePublicFile(path, `${JSON.stringify(result, null, 2)}\n`);
}

export async function readVerifyResult(path: string): Promise<VerifyResult | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  const v = JSON.parse(text) as Partial<VerifyResult>;
  if (v.schema !== 1 || typeof v.verifiedAt !== "string" || typeof v.ok !== "boolean") throw new Error(`${path}: not a verify result`);
  return v as VerifyResult;
}

/** Who may sign checkpoints: pinned certificates, and/or the CA the certificates checkpoints carry must lead to. */
export type CheckpointSigners = Pick<ChainVerifierOptions, "certificates" | "signerAnchors">;

/**
 * Verifies a file sink's log now: chain, seals (with the key ring) and checkpoint signatures.
 * The log is usually that of a running gateway: its last records, not yet under a checkpoint,
 * count as unverified rather than as a break (`audit verify` without --allow-unsigned-tail fails them).
 */
async function verifyAuditLog(path: string, keyRing: KeyRing | undefined, signers: CheckpointSigners): Promise<VerifyReport> {
  const verifier = createChainVerifier({ ...(keyRing ? { keyRing } : {}), ...signers, allowUnsignedTail: true });
  for await (const entry of readAuditLogFile(path)) {
    if (entry.kind === "record") verifier.addRecord(entry.bytes, `${path}:${entry.line}`, path);
    else if (entry.kind === "checkpoint") verifier.addCheckpoint(entry.bytes, `${path}:${entry.line}`);
    else verifier.addMalformed(`${path}:${entry.line}`, entry.detail);
  }
  return verifier.finish();
}

/**
 * Evidence for the "audit chain verified recently" control: the result file
 * when there is one; otherwise, when `verifyNow` is set and the sink is a file,
 * the verifier's answer now.
 */
export async function auditVerificationOf(opts: {
  readonly auditFile: string;
  readonly sink: "file" | "kafka";
  readonly verifyNow: boolean;
  readonly keyRing?: KeyRing | undefined;
  readonly signers?: CheckpointSigners;
  readonly now?: Date;
}): Promise<AuditVerificationFact> {
  const resultPath = verifyResultPathOf(opts.auditFile);
  try {
    const last = await readVerifyResult(resultPath);
    if (last) return { source: "result-file", verifiedAt: new Date(last.verifiedAt), ok: last.ok, records: last.records, breaks: last.breaks, detail: `${resultPath} (${last.source})` };
  } catch (err) {
    return { source: "none", detail: (err as Error).message };
  }
  if (opts.sink !== "file" || !opts.verifyNow) {
    return { source: "none", detail: `no verification on record (${resultPath}); run credex audit verify` };
  }
  try {
    await stat(opts.auditFile);
  } catch {
    return { source: "none", detail: `no audit log at ${opts.auditFile} yet` };
  }
  const report = await verifyAuditLog(opts.auditFile, opts.keyRing, opts.signers ?? {});
  return { source: "verified-now", verifiedAt: opts.now ?? new Date(), ok: report.ok, records: report.records, breaks: report.totalBreaks, detail: opts.auditFile };
}
