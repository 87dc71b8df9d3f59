import type { X509Certificate } from "node:crypto";
import type { SealedAuditRecord } from "../../gen/credex/v1/audit_pb.js";
import { GENESIS_HASH, recordHash } from "./audit-chain.js";
import { anchorCertificates, certificateFingerprint, checkpointSignerFromAnchors, decodeCheckpoint, verifyCheckpoint, type CheckpointSignerAnchors } from "./checkpoint.js";
import type { KeyRing } from "./key-ring.js";
import { decodeSealedRecord, openSealedRecord } from "./seal.js";
import { isChainRestartRecord } from "./chain-restart.js";

export type ChainBreakKind =
  /** The bytes are not a SealedAuditRecord / AuditCheckpoint. */
  | "malformed"
  /** Sequences are missing (deleted records). */
  | "gap"
  /** Within one stream (file, partition) a sequence came after a higher one. */
  | "reorder"
  /** The same record twice. */
  | "duplicate"
  /** Two different records claim the same sequence. */
  | "fork"
  /** prev_hash does not match the hash of the previous record (altered or forged). */
  | "bad-hash"
  /** The record does not authenticate with the key ring (altered header or payload, or unknown key). */
  | "decrypt"
  | "checkpoint-signature"
  /** A signed checkpoint names a head hash the chain does not have. */
  | "checkpoint-mismatch"
  /** A signed checkpoint covers sequences that are not there (tail truncated, or lost from the audit topic). */
  | "missing-after-checkpoint"
  /** Records, and no checkpoint whose signature verifies covers any of them. */
  | "no-checkpoint"
  /** Records after the last checkpoint whose signature verifies (appended after it, or the gateway did not close). */
  | "unsigned-tail"
  /** The gateway started a new chain here (--new-audit-chain): its chain state could not vouch for what came before. */
  | "restart";

export interface ChainBreak {
  readonly kind: ChainBreakKind;
  readonly instance: string;
  readonly sequence?: bigint;
  /** Where the evidence is: "file:line", "topic/partition/offset". */
  readonly position: string;
  readonly detail: string;
}

export interface ChainSummary {
  readonly instance: string;
  readonly records: number;
  readonly firstSequence: bigint;
  readonly lastSequence: bigint;
  readonly checkpoints: number;
  readonly breaks: number;
  /** The break earliest in the chain (lowest sequence), if any; records not covered by a checkpoint come after any other kind. */
  readonly firstBreak?: ChainBreak;
  /** Announced restarts (--new-audit-chain) in the chain. */
  readonly restarts: number;
  /** With allowUnsignedTail: the records after the last signed checkpoint, reported instead of failing. */
  readonly unverified?: { readonly from: bigint; readonly to: bigint; readonly position: string };
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly records: number;
  readonly checkpoints: number;
  /** Checkpoints whose signer certificate was not supplied (signature not checked). */
  readonly checkpointsUnchecked: number;
  readonly decrypted: number;
  readonly chains: readonly ChainSummary[];
  /** Breaks without a chain (unparseable bytes). */
  readonly orphanBreaks: readonly ChainBreak[];
  readonly totalBreaks: number;
  /** Records not covered by a signed checkpoint that allowUnsignedTail let pass (never counted as verified). */
  readonly unverifiedRecords: number;
}

export interface ChainVerifierOptions {
  /** When given, every record must open with it. */
  readonly keyRing?: KeyRing;
  /** Certificates that may sign checkpoints. When given, a checkpoint by anyone else is a break. */
  readonly certificates?: ReadonlyArray<string | X509Certificate>;
  /**
   * Also accept a checkpoint signed by a certificate it carries, when that
   * certificate names the gateway and leads to one of these CAs. When given,
   * a checkpoint that is neither pinned nor anchored is a break.
   */
  readonly signerAnchors?: CheckpointSignerAnchors;
  /** When true (default) a chain must start at sequence 1; false for a range that starts later. */
  readonly requireGenesis?: boolean;
  /**
   * Only this gateway instance's records and checkpoints count (a medium shared with other
   * gateways, sealed under other key rings); bytes that do not decode are still reported.
   */
  readonly instance?: string;
  /**
   * A weakening, for officers checking the log of a gateway that is still writing it: records
   * after the last signed checkpoint (all of a chain's, when it has none yet) are reported as
   * unverified instead of failing. Without it they fail: a key-ring holder can seal and chain
   * records, only the gateway's certificate key signs checkpoints.
   */
  readonly allowUnsignedTail?: boolean;
}

export interface ChainVerifier {
  /** A record's exact stored bytes; `stream` is the ordered medium it came from (file, topic/partition). */
  addRecord(bytes: Uint8Array, position: string, stream?: string): void;
  addCheckpoint(bytes: Uint8Array, position: string): void;
  /** Something in the medium that is neither (e.g. a line that is not an audit log line). */
  addMalformed(position: string, detail: string): void;
  finish(): VerifyReport;
}

interface Link {
  hash: string;
  prevHash: string;
  position: string;
  /** The announcement of a new chain (chain-restart.ts). */
  restart: boolean;
}

interface ChainState {
  links: Map<bigint, Link>;
  lastInStream: Map<string, bigint>;
  breaks: ChainBreak[];
  /** checked: the signature was verified (a pinned or anchored signer); only those vouch for records. */
  checkpoints: Array<{ sequence: bigint; headHash: string; position: string; checked: boolean }>;
  checkpointCount: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * Checks hash chains without any I/O: feed records and checkpoints in the
 * order read, then `finish()`. Keeps one hash per record in memory.
 */
export function createChainVerifier(opts: ChainVerifierOptions = {}): ChainVerifier {
  const requireGenesis = opts.requireGenesis ?? true;
  const certs = new Map((opts.certificates ?? []).map((c) => [certificateFingerprint(c), c] as const));
  const signerAnchors = opts.signerAnchors && { ...opts.signerAnchors, ca: anchorCertificates(opts.signerAnchors.ca) };
  const chains = new Map<string, ChainState>();
  const orphanBreaks: ChainBreak[] = [];
  let records = 0;
  let checkpoints = 0;
  let checkpointsUnchecked = 0;
  let decrypted = 0;

  const chainOf = (instance: string): ChainState => {
    let c = chains.get(instance);
    if (!c) {
      c = { links: new Map(), lastInStream: new Map(), breaks: [], checkpoints: [], checkpointCount: 0 };
      chains.set(instance, c);
    }
    return c;
  };

  return {
    addRecord(bytes, position, stream = "") {
      let record: SealedAuditRecord;
      try {
        record = decodeSealedRecord(bytes);
      } catch (err) {
        records++;
        orphanBreaks.push({ kind: "malformed", instance: "", position, detail: `not a SealedAuditRecord: ${(err as Error).message}` });
        return;
      }
      if (opts.instance !== undefined && record.gatewayInstance !== opts.instance) return;
      records++;
      const instance = record.gatewayInstance;
      const chain = chainOf(instance);
      const seq = record.sequence;
      const brk = (kind: ChainBreakKind, detail: string) => chain.breaks.push({ kind, instance, sequence: seq, position, detail });
      if (seq === 0n || instance === "") {
        brk("malformed", "sequence 0 or empty gateway instance");
        return;
      }
      if (opts.keyRing) {
        try {
          openSealedRecord(record, opts.keyRing);
          decrypted++;
        } catch (err) {
          brk("decrypt", (err as Error).message);
        }
      }
      const last = chain.lastInStream.get(stream);
      if (last !== undefined && seq < last) brk("reorder", `sequence ${seq} after ${last} in the same stream`);
      if (last === undefined || seq > last) chain.lastInStream.set(stream, seq);
      const hash = hex(recordHash(bytes));
      const seen = chain.links.get(seq);
      if (seen) {
        if (seen.hash === hash) brk("duplicate", `same record as at ${seen.position}`);
        else brk("fork", `a different record with this sequence is at ${seen.position}`);
        return;
      }
      chain.links.set(seq, { hash, prevHash: hex(record.prevHash), position, restart: isChainRestartRecord(record) });
    },

    addCheckpoint(bytes, position) {
      let cp;
      try {
        cp = decodeCheckpoint(bytes);
      } catch (err) {
        checkpoints++;
        orphanBreaks.push({ kind: "malformed", instance: "", position, detail: `not an AuditCheckpoint: ${(err as Error).message}` });
        return;
      }
      if (opts.instance !== undefined && cp.gatewayInstance !== opts.instance) return;
      checkpoints++;
      const chain = chainOf(cp.gatewayInstance);
      chain.checkpointCount++;
      const brk = (detail: string) =>
        chain.breaks.push({ kind: "checkpoint-signature", instance: cp.gatewayInstance, sequence: cp.sequence, position, detail });
      let cert: string | X509Certificate | undefined = certs.get(cp.signerCertFingerprint);
      if (!cert && signerAnchors) {
        const anchored = checkpointSignerFromAnchors(cp, signerAnchors);
        if ("problem" in anchored) {
          brk(`the signer ${cp.signerCertFingerprint} is neither given by --cert nor trusted through the CA: ${anchored.problem}`);
          return;
        }
        cert = anchored.certificate;
      }
      if (!cert) {
        if (certs.size > 0) {
          brk(`signed by an unknown certificate ${cp.signerCertFingerprint}`);
          return;
        }
        checkpointsUnchecked++;
      } else if (!verifyCheckpoint(cp, cert)) {
        brk("the checkpoint signature does not verify");
        return;
      }
      chain.checkpoints.push({ sequence: cp.sequence, headHash: hex(cp.headHash), position, checked: cert !== undefined });
    },

    addMalformed(position, detail) {
      orphanBreaks.push({ kind: "malformed", instance: "", position, detail });
    },

    finish() {
      const summaries: ChainSummary[] = [];
      let totalBreaks = orphanBreaks.length;
      let unverifiedRecords = 0;
      for (const [instance, chain] of [...chains].sort(([a], [b]) => a.localeCompare(b))) {
        const seqs = [...chain.links.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const breaks = [...chain.breaks];
        let prev: bigint | undefined;
        for (const seq of seqs) {
          const link = chain.links.get(seq) as Link;
          if (prev === undefined) {
            if (seq === 1n) {
              if (link.prevHash !== hex(GENESIS_HASH)) breaks.push({ kind: "bad-hash", instance, sequence: seq, position: link.position, detail: "first record's prev_hash is not the genesis hash" });
            } else if (requireGenesis) {
              breaks.push({ kind: "gap", instance, sequence: 1n, position: link.position, detail: `sequences 1..${seq - 1n} missing before this record` });
            }
          } else if (seq !== prev + 1n) {
            breaks.push({ kind: "gap", instance, sequence: prev + 1n, position: link.position, detail: `sequences ${prev + 1n}..${seq - 1n} missing before this record` });
          } else if (link.prevHash !== (chain.links.get(prev) as Link).hash) {
            breaks.push({ kind: "bad-hash", instance, sequence: seq, position: link.position, detail: `prev_hash does not match record ${prev} at ${(chain.links.get(prev) as Link).position}` });
          }
          prev = seq;
        }
        const lastSequence = seqs.length ? seqs[seqs.length - 1] : 0n;
        // The checkpoints that vouch for records: signature verified and naming a record that is there, unaltered.
        const vouching = new Map<bigint, string>();
        for (const cp of chain.checkpoints) {
          const link = cp.sequence === 0n ? undefined : chain.links.get(cp.sequence);
          if (cp.checked && link && link.hash === cp.headHash && !vouching.has(cp.sequence)) vouching.set(cp.sequence, cp.position);
        }
        const vouched = [...vouching.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        /** The highest vouching checkpoint below `seq` (binary search: a long chain has a checkpoint a minute). */
        const vouchedBelow = (seq: bigint): bigint | undefined => {
          let lo = 0;
          let hi = vouched.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if ((vouched[mid] as bigint) < seq) lo = mid + 1;
            else hi = mid;
          }
          return lo > 0 ? vouched[lo - 1] : undefined;
        };
        for (const cp of chain.checkpoints) {
          if (cp.sequence === 0n) continue;
          const link = chain.links.get(cp.sequence);
          if (link) {
            if (link.hash !== cp.headHash) {
              const before = vouchedBelow(cp.sequence);
              const from = before !== undefined ? before + 1n : (seqs[0] ?? 1n);
              breaks.push({ kind: "checkpoint-mismatch", instance, sequence: cp.sequence, position: link.position, detail: `record differs from the head signed by the checkpoint at ${cp.position}: records ${from}..${cp.sequence} were altered or replaced` });
            }
          } else if (cp.sequence > lastSequence) {
            breaks.push({ kind: "missing-after-checkpoint", instance, sequence: lastSequence + 1n, position: cp.position, detail: `sequences ${lastSequence + 1n}..${cp.sequence} are missing: the checkpoint covers sequence ${cp.sequence} but the chain ends at ${lastSequence}` });
          }
        }
        // Coverage: a checkpoint vouches for the records from the start of its chain, or from the last
        // announced restart before it, up to the sequence it names. A restart always fails: the
        // gateway could not tell whether records after the previous checkpoint were removed.
        let unverified: ChainSummary["unverified"];
        const restarts = seqs.filter((q) => (chain.links.get(q) as Link).restart);
        if (seqs.length > 0) {
          const starts = [seqs[0] as bigint, ...restarts.filter((r) => r > (seqs[0] as bigint))];
          for (let i = 0; i < starts.length; i++) {
            const start = starts[i] as bigint;
            const next = starts[i + 1];
            const end = next !== undefined ? next - 1n : lastSequence;
            const covered = vouchedBelow(end + 1n);
            const coveredTo = covered !== undefined && covered >= start ? covered : undefined;
            const from = coveredTo !== undefined ? coveredTo + 1n : start;
            const at = (q: bigint) => chain.links.get(q)?.position ?? "";
            if (next !== undefined) {
              const before = coveredTo !== undefined ? `the last checkpoint before it covers sequence ${coveredTo} (${vouching.get(coveredTo)})` : "no checkpoint before it covers any record";
              const gap = from <= end ? `; records ${from}..${end} are not covered by a checkpoint` : "";
              const lost = coveredTo !== undefined ? `records after sequence ${coveredTo}` : "records before it";
              breaks.push({ kind: "restart", instance, sequence: next, position: at(next), detail: `a new chain was started here (--new-audit-chain: the gateway's chain state was missing, failed its key check or did not match the log; see the incident): ${before}${gap}, and ${lost} may have been removed` });
            } else if (from <= end) {
              if (opts.allowUnsignedTail) unverified = { from, to: end, position: at(from) };
              else if (vouching.size === 0) {
                const unchecked = chain.checkpoints.filter((c) => !c.checked).length;
                breaks.push({ kind: "no-checkpoint", instance, sequence: from, position: at(from), detail: `no signed checkpoint covers sequences ${from}..${end}${unchecked ? ` (${unchecked} checkpoints whose signatures were not checked: give --cert or --ca)` : ""}` });
              } else if (coveredTo === undefined) {
                breaks.push({ kind: "unsigned-tail", instance, sequence: from, position: at(from), detail: `sequences ${from}..${end} come after the restart at sequence ${start} and no signed checkpoint covers them` });
              } else {
                breaks.push({ kind: "unsigned-tail", instance, sequence: from, position: at(from), detail: `sequences ${from}..${end} come after the last signed checkpoint (sequence ${coveredTo} at ${vouching.get(coveredTo)}): added after it, or the gateway has not closed its sink (still running, or killed)` });
              }
            }
          }
        }
        totalBreaks += breaks.length;
        // The most specific first: what is wrong with the records before what merely is not covered.
        const order = (b: ChainBreak) => (b.kind === "no-checkpoint" || b.kind === "unsigned-tail" ? 1n << 70n : 0n) + (b.sequence ?? BigInt(Number.MAX_SAFE_INTEGER));
        const firstBreak = breaks.reduce<ChainBreak | undefined>((best, b) => (!best || order(b) < order(best) ? b : best), undefined);
        summaries.push({
          instance,
          records: chain.links.size,
          firstSequence: seqs.length ? seqs[0] : 0n,
          lastSequence,
          checkpoints: chain.checkpointCount,
          breaks: breaks.length,
          ...(firstBreak ? { firstBreak } : {}),
          restarts: restarts.length,
          ...(unverified ? { unverified } : {}),
        });
        if (unverified) unverifiedRecords += Number(unverified.to - unverified.from + 1n);
      }
      return { ok: totalBreaks === 0, records, checkpoints, checkpointsUnchecked, decrypted, chains: summaries, orphanBreaks, totalBreaks, unverifiedRecords };
    },
  };
}

export interface VerifyEntry {
  readonly kind: "record" | "checkpoint";
  readonly bytes: Uint8Array;
  readonly position: string;
  readonly stream?: string;
}

/** verify a whole sequence at once. */
export function verifyChain(entries: Iterable<VerifyEntry>, opts: ChainVerifierOptions = {}): VerifyReport {
  const v = createChainVerifier(opts);
  for (const e of entries) {
    if (e.kind === "record") v.addRecord(e.bytes, e.position, e.stream);
    else v.addCheckpoint(e.bytes, e.position);
  }
  return v.finish();
}
