import { X509Certificate } from "node:crypto";
import { compatibilityPartitioner, type MessageToProduce } from "@platformatic/kafka";
import { AuditEventType, type AuditEvent, type SealedAuditRecord } from "../../gen/credex/v1/audit_pb.js";
import type { AuditReceipt, AuditSink } from "../../core/audit-sink.js";
import { CredexError } from "../../core/errors.js";
import { createAuditChain, genesisHead, recordHash, type ChainHead } from "../../core/audit/audit-chain.js";
import { ChainStateError, openChainStateFile, replaceChainStateFile, type ChainStateFile, type ResumeHint } from "../../core/audit/chain-state-file.js";
import { announceChainRestart, type ChainRestart, type PreviousCheckpoint } from "../../core/audit/chain-restart.js";
import { createCheckpoint, decodeCheckpoint, encodeCheckpoint, trustedCheckpointSigner, type CheckpointSigner, type CheckpointTrust } from "../../core/audit/checkpoint.js";
import { createGroupCommitter } from "../../core/audit/group-commit.js";
import type { KeyRing } from "../../core/audit/key-ring.js";
import { decodeSealedRecord, openSealedRecord, sealSuiteFromName, type SealSuiteName } from "../../core/audit/seal.js";
import { openAuditSpool } from "../audit/audit-spool.js";
import { AUDIT_CHECKPOINT_TOPIC, AUDIT_TOPIC, ensureAuditTopics } from "./audit-topics.js";
import { fetchTopicOffsets, TOPIC_LEADERS_TIMEOUT_MS } from "./kafka-admin.js";
import { createKafkaAdmin, createKafkaProducer, kafkaErrorMessage, type KafkaProducer, type KafkaTlsFiles } from "./kafka-client.js";
import { readKafkaTopic, type ReadKafkaTopicOptions } from "./kafka-topic-reader.js";

/** Kafka record headers of an audit record: only what routing and filtering need (issue 3 §3). */
export const AUDIT_HEADERS = {
  schemaVersion: "credex-schema-version",
  keyId: "credex-key-id",
  eventType: "credex-event-type",
  requesterAgency: "credex-requester-agency",
  /** "<gateway instance>/<sequence>". */
  chainPosition: "credex-chain-position",
} as const;

export interface KafkaAuditSinkOptions {
  /** host:port[,host:port...] */
  readonly brokers: string;
  /** Kafka over TLS with a client certificate; absent: plaintext. */
  readonly tls?: KafkaTlsFiles | undefined;
  readonly keyRing: KeyRing;
  readonly suite: SealSuiteName;
  readonly instance: string;
  /**
   * Where the chain stands, so that it continues after a restart: saved (O_DSYNC) at start, at
   * most every `resumeHintIntervalMs` while running, and at a clean close, keyed with the
   * checkpoint signer's key (chain-state-file.ts). After a crash the records acknowledged since
   * the last save are found in Kafka at start (see createKafkaAuditSink). The sink refuses to
   * start (ChainStateError), unless `newChain`, when the state is missing while the checkpoint
   * topic or the spool holds this instance's chain, fails its key check, or does not match the
   * topic: partitions shorter than it recorded, or records of this instance after a clean stop.
   */
  readonly chainStatePath: string;
  /** Least time between two saves of the chain state while running (default 1 s; 0: after every commit). */
  readonly resumeHintIntervalMs?: number;
  /** The local spool used while Kafka is unreachable (and its `.cursor` file). */
  readonly spoolPath: string;
  /** Beyond this many undelivered records, append fails closed with AUDIT_SPOOL_FULL (default 100 000). */
  readonly spoolMaxRecords?: number;
  readonly topic?: string;
  readonly checkpointTopic?: string;
  /** Signs a checkpoint of the chain head every `checkpointIntervalMs` (default 60 s) and at close. */
  readonly checkpointSigner?: CheckpointSigner;
  readonly checkpointIntervalMs?: number;
  /** Refuse to start when an audit topic keeps data for less than 180 days. */
  readonly production?: boolean;
  /** Create missing audit topics (default true). */
  readonly createTopics?: boolean;
  /** Partitions of topics this sink creates (default 3). */
  readonly partitions?: number;
  readonly maxBatch?: number;
  /** Pause between drain attempts while Kafka is away (default 1 s). */
  readonly drainRetryMs?: number;
  /** Bound on one produce request; past it (after two quick retries) the batch goes to the spool. Default 5 s. */
  readonly requestTimeoutMs?: number;
  /** Whose checkpoints the gateway trusts (its certificate and CA): a start after a key change, its own checkpoints in the topic. */
  readonly trust?: CheckpointTrust;
  /**
   * `--new-audit-chain`: when the chain state is refused, keep it aside, continue after this
   * instance's newest record in the topic (and spool) with a record announcing the restart,
   * naming the newest checkpoint of the checkpoint topic the gateway can check, and a checkpoint.
   */
  readonly newChain?: boolean;
}

export interface KafkaAuditSinkStats {
  readonly sent: number;
  readonly spooled: number;
  readonly drained: number;
  /** Spooled records found already in Kafka after an outage (lost acknowledgements), not sent again. */
  readonly reconciled: number;
  /** Records of this instance found in Kafka beyond the saved head at start (the run before did not close cleanly). */
  readonly recovered: number;
  readonly spoolDepth: number;
  readonly spoolMaxRecords: number;
  readonly kafkaReachable: boolean;
  readonly lastSequence: bigint;
  readonly commits: number;
  readonly checkpoints: number;
  readonly checkpointsSkipped: number;
  readonly refusedSpoolFull: number;
  readonly lastError?: string;
  readonly topicWarnings: readonly string[];
}

export interface KafkaAuditSink extends AuditSink {
  stats(): KafkaAuditSinkStats;
  /** Publishes a signed checkpoint of the head now (skipped while records wait in the spool). */
  checkpoint(): Promise<void>;
  /** The new chain this start announced (`newChain`), if it had to. */
  readonly restart: ChainRestart | undefined;
}

type Item = { kind: "event"; event: AuditEvent } | { kind: "checkpoint" };

/**
 * The audit topic's partitions and their log-end offsets. ensureAuditTopics has waited for the
 * leaders, but one may move again (a broker restarting meanwhile): more tries, each with a fresh
 * admin client (fresh metadata), for as long as a leader election may take, before the start fails.
 */
async function topicLayout(brokers: string, tls: KafkaTlsFiles | undefined, clientId: string, topic: string): Promise<{ partitionCount: number; nextOffsets: bigint[] }> {
  const deadline = Date.now() + TOPIC_LEADERS_TIMEOUT_MS;
  for (;;) {
    const admin = createKafkaAdmin({ brokers, tls, clientId, connectionTimeoutMs: 1_000, requestTimeoutMs: 5_000, retries: 2 });
    try {
      const offsets = await fetchTopicOffsets(admin, topic);
      return { partitionCount: offsets.length, nextOffsets: offsets.map((o) => o.high) };
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await admin.close().catch(() => undefined);
    }
  }
}

/**
 * The partition of an audit record's key: murmur2 of the key, as the Java client's default
 * partitioner (and kafkajs's) computes it, over all partitions, so a key's records land in the
 * same partition as those written before, whichever client wrote them.
 */
export function auditPartitionOf(key: string, partitionCount: number): number {
  return compatibilityPartitioner({ topic: "" }, Buffer.from(key, "utf8")) % partitionCount;
}

function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * The audit sink on Kafka: sealed, chained records produced by an idempotent
 * producer with acks=all (-1) and one request in flight (so a retry never
 * reorders), keyed by requester agency. Concurrent appends share one produce
 * request (group commit). While Kafka is unreachable records go to an fsync'd
 * local spool, drained in order when it returns; while the spool holds
 * anything, new records queue behind it so each partition keeps chain order.
 */
export async function createKafkaAuditSink(opts: KafkaAuditSinkOptions): Promise<KafkaAuditSink> {
  const suite = sealSuiteFromName(opts.suite);
  const topic = opts.topic ?? AUDIT_TOPIC;
  const checkpointTopic = opts.checkpointTopic ?? AUDIT_CHECKPOINT_TOPIC;
  const spoolMax = opts.spoolMaxRecords ?? 100_000;
  const drainRetryMs = opts.drainRetryMs ?? 1_000;
  if (!opts.instance) throw new Error("kafka audit sink: instance is required");

  const check = await ensureAuditTopics({
    brokers: opts.brokers,
    tls: opts.tls,
    topics: [topic, checkpointTopic],
    ...(opts.createTopics !== undefined && { create: opts.createTopics }),
    ...(opts.partitions !== undefined && { partitions: opts.partitions }),
    ...(opts.production !== undefined && { production: opts.production }),
  });

  const clientId = `credex-audit-${opts.instance}`;
  // Per partition, the offset the next record will get at the least: every record this run
  // produces lands at or after it (kept up to date from produce responses).
  const { partitionCount, nextOffsets } = await topicLayout(opts.brokers, opts.tls, clientId, topic);
  if (partitionCount < 1) throw new Error(`topic ${topic} has no partitions`);

  const newProducer = (): KafkaProducer =>
    createKafkaProducer({
      brokers: opts.brokers,
      tls: opts.tls,
      clientId,
      // Idempotent: acks=all (-1) and one request in flight, so a retry neither duplicates nor reorders.
      idempotent: true,
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 5_000,
      // Bounded so that an outage moves the batch to the spool within seconds; the same
      // producer (id and sequence numbers) resends, so a retried batch is not duplicated.
      retries: 2,
      retryDelayMs: 100,
    });
  let producer = newProducer();
  // What start-up has opened so far, closed again (last first) if a later step fails.
  const openedAtStart: Array<{ close(): Promise<void> }> = [];
  const startFailed = async (err: unknown): Promise<never> => {
    for (const resource of openedAtStart.reverse()) await resource.close().catch(() => undefined);
    await producer.close().catch(() => undefined);
    throw err;
  };
  // After a failed send the broker may or may not hold the batch: a new producer (new id,
  // fresh sequence numbers) keeps the old id's sequences from rejecting or swallowing what
  // is sent next, and the drain first looks for the records that did arrive.
  let producerFailed = false;
  let reconcileBeforeDrain = false;
  /** Where sends whose acknowledgement was lost went: this topic, or the last run's if it was another. */
  let reconcileTopic = topic;

  /**
   * The newest record of this instance in the audit topic the last run wrote to, with a sequence
   * above `after`, read from the saved offsets on (or from the start of each partition). Only
   * records that open with the key ring count: a record forged into the topic cannot become the
   * head (verify reports it).
   */
  async function newestOwnRecordInKafka(after: bigint, resume: ResumeHint): Promise<ChainHead | undefined> {
    let newest: ChainHead | undefined;
    // The topic the last run wrote to, even if the config names another one now; the saved
    // offsets are that topic's. Hints from before the topic was recorded are this topic's.
    const from = resume.offsets ? { startOffsets: resume.offsets } : {};
    await readOwnRecords({ ...from, topic: resume.topic ?? topic }, (rec, bytes) => {
      if (rec.sequence <= (newest?.sequence ?? after)) return;
      openSealedRecord(rec, opts.keyRing);
      newest = { instance: opts.instance, sequence: rec.sequence, headHash: recordHash(bytes) };
    });
    return newest;
  }

  /**
   * Reads the audit topic (from `from` on) and hands this instance's records to `visit`. A record
   * that does not decode, or that `visit` rejects by throwing, is skipped: not ours to judge
   * here, verify reports malformed and forged records.
   */
  async function readOwnRecords(
    from: Pick<ReadKafkaTopicOptions, "startOffsets" | "tailPerPartition"> & { topic?: string },
    visit: (record: SealedAuditRecord, bytes: Buffer) => void,
  ): Promise<void> {
    await readKafkaTopic({
      brokers: opts.brokers,
      tls: opts.tls,
      ...from,
      topic: from.topic ?? topic,
      idleTimeoutMs: opts.requestTimeoutMs ?? 5_000,
      onRecord: (r) => {
        try {
          const rec = decodeSealedRecord(r.value);
          if (rec.gatewayInstance === opts.instance) visit(rec, r.value);
        } catch {
          // skipped, see above
        }
      },
    });
  }

  /** Without a trust configured (a sink alone), the signer's own certificate; without a signer, any checkpoint naming this instance. */
  const signer = opts.checkpointSigner;
  const trust: CheckpointTrust | undefined = opts.trust ?? (signer ? { certificates: [new X509Certificate(Buffer.from(signer.certificates[0] as Uint8Array))] } : undefined);

  /** The newest checkpoint of this instance in the checkpoint topic (read whole: a first start, a new chain). */
  async function newestOwnCheckpoint(): Promise<PreviousCheckpoint | undefined> {
    let newest: PreviousCheckpoint | undefined;
    await readKafkaTopic({
      brokers: opts.brokers,
      tls: opts.tls,
      topic: checkpointTopic,
      idleTimeoutMs: opts.requestTimeoutMs ?? 5_000,
      onRecord: (r) => {
        try {
          const cp = decodeCheckpoint(r.value);
          if (cp.gatewayInstance !== opts.instance || cp.sequence === 0n || cp.sequence <= (newest?.sequence ?? 0n)) return;
          if (trust && !trustedCheckpointSigner(cp, trust)) return;
          newest = { sequence: cp.sequence, headHash: cp.headHash, position: `${r.topic}/${r.partition}/${r.offset}` };
        } catch {
          // not a checkpoint: verify reports it
        }
      },
    });
    return newest;
  }

  const spool = await openAuditSpool(opts.spoolPath).catch(startFailed);
  openedAtStart.push(spool);
  const stateOptions = { path: opts.chainStatePath, instance: opts.instance, ...(signer && { key: () => signer.stateKey }), ...(trust && { trust }) };
  let problem: string | undefined;
  let state: ChainStateFile | undefined;
  try {
    state = await openChainStateFile(stateOptions);
    openedAtStart.push(state);
  } catch (err) {
    if (!(err instanceof ChainStateError)) return startFailed(err);
    problem = err.message;
  }
  const spoolLastRecord = spool.lastRecord() && decodeSealedRecord(spool.lastRecord() as Uint8Array);
  let head: ChainHead = state?.head ?? genesisHead(opts.instance);
  let recovered = 0;
  try {
    if (state && !state.head) {
      // A first start, or everything local deleted: the spool and the checkpoint topic tell them apart.
      if (spoolLastRecord?.gatewayInstance === opts.instance) {
        problem = `the chain state ${opts.chainStatePath} is missing (or was never saved) but the spool ${opts.spoolPath} holds records of instance ${opts.instance} up to sequence ${spoolLastRecord.sequence}: the state was deleted or replaced`;
      } else {
        const cp = await newestOwnCheckpoint();
        if (cp) problem = `the chain state ${opts.chainStatePath} is missing (or was never saved) but topic ${checkpointTopic} holds checkpoints of instance ${opts.instance} up to sequence ${cp.sequence} (${cp.position}): the state was deleted or replaced, or another gateway uses this instance name`;
      }
    } else if (state?.head && state.resume) {
      const resume = state.resume;
      const sameTopic = (resume.topic ?? topic) === topic;
      const shorter = sameTopic && resume.offsets ? resume.offsets.findIndex((o, p) => p < nextOffsets.length && o > (nextOffsets[p] as bigint)) : -1;
      if (shorter >= 0) {
        problem = `topic ${topic} ends at offset ${nextOffsets[shorter]} in partition ${shorter}, before the offset ${resume.offsets?.[shorter]} the chain state ${opts.chainStatePath} recorded: records were deleted from the topic, or it was deleted and created again`;
      } else if (!resume.clean || resume.offsets) {
        // The last run's records after the saved head: an unclean stop leaves some (acknowledged after its last
        // save) and the chain continues from the newest of them, never beside it (no fork); after a clean stop
        // there are none, unless someone with the key ring added them (looked for from the offsets saved at the
        // close, a short read; a state whose offsets did not fit its slot is not searched after a clean stop).
        const found = await newestOwnRecordInKafka(head.sequence, resume);
        if (found && resume.clean) {
          problem = `the gateway stopped cleanly at sequence ${head.sequence} (chain state ${opts.chainStatePath}) but topic ${resume.topic ?? topic} holds its records up to sequence ${found.sequence}: records ${head.sequence + 1n}..${found.sequence} were added while it was stopped`;
        } else if (found) {
          recovered = Number(found.sequence - head.sequence);
          head = found;
        }
      }
    }
  } catch (err) {
    return startFailed(new Error(`the audit chain head could not be checked against Kafka: ${(err as Error).message}`, { cause: err }));
  }
  let restartOf: Omit<ChainRestart, "sequence"> | undefined;
  if (problem) {
    await state?.close().catch(() => undefined);
    if (!opts.newChain) return startFailed(new ChainStateError(opts.chainStatePath, problem));
    if (!signer) return startFailed(new Error("kafka audit sink: a new audit chain needs a checkpoint signer"));
    try {
      // Continues after everything of this instance the topic holds (a forged record that does not open is skipped).
      head = (await newestOwnRecordInKafka(0n, { clean: false })) ?? genesisHead(opts.instance);
      const replaced = await replaceChainStateFile(stateOptions);
      state = replaced.state;
      openedAtStart.push(state);
      restartOf = { instance: opts.instance, reason: problem, previousCheckpoint: await newestOwnCheckpoint(), refusedStateKeptAs: replaced.keptAs };
    } catch (err) {
      return startFailed(err);
    }
  }
  const stateFile = state as ChainStateFile;
  if (spoolLastRecord && spoolLastRecord.gatewayInstance === opts.instance && spoolLastRecord.sequence > head.sequence) {
    // A crash between the spool's fsync and the chain state's leaves the spool ahead: it is the truth.
    head = { instance: opts.instance, sequence: spoolLastRecord.sequence, headHash: recordHash(spool.lastRecord() as Uint8Array) };
  }
  const chain = createAuditChain(head, opts.keyRing, suite);
  const lock = createMutex();

  // Chain-state saves, one at a time (each alternates the file's two slots).
  const stateLock = createMutex();
  const saveState = (h: ChainHead, resume: ResumeHint) => stateLock(() => stateFile.save(h, resume));
  // The gateway's certificate key was rotated: the state is saved again under the new key at once.
  signer?.onSwitch?.(() => void stateLock(() => stateFile.rekey()).catch(() => undefined));
  /** The last checkpoint published, to leave in the chain state at a clean close when it names the final head. */
  let lastCheckpoint: { bytes: Uint8Array; sequence: bigint } | undefined;
  const hintIntervalMs = opts.resumeHintIntervalMs ?? 1_000;
  let lastHintAt = Date.now();
  let hintSaving: Promise<void> | undefined;
  /**
   * After a commit Kafka acknowledged: now and then, and off the exchange's path, save the head
   * with the partitions' next offsets. Until the clean close the state says "unclean", so a
   * crash makes the next start look in Kafka from these offsets for what was acknowledged
   * after this head. Called under the commit lock: head and offsets belong together.
   */
  const saveHintNowAndThen = () => {
    if (hintSaving || Date.now() - lastHintAt < hintIntervalMs) return;
    lastHintAt = Date.now();
    hintSaving = saveState(chain.head(), { clean: false, topic, offsets: [...nextOffsets] })
      .catch((err: unknown) => {
        lastError = `the chain state could not be saved: ${(err as Error).message}`;
      })
      .finally(() => {
        hintSaving = undefined;
      });
  };
  try {
    // This run is under way: until its clean close, a restart must look in Kafka for its records.
    await saveState(head, { clean: false, topic, offsets: [...nextOffsets] });
  } catch (err) {
    return startFailed(err);
  }

  let sent = 0;
  let spooled = 0;
  let drained = 0;
  let reconciled = 0;
  let commits = 0;
  let checkpoints = 0;
  let checkpointsSkipped = 0;
  let refusedSpoolFull = 0;
  let lastError: string | undefined;
  let kafkaReachable = true;
  let closing = false;
  let closed = false;

  type Outgoing = MessageToProduce<string, Buffer, string, string> & { partition: number };
  const messageOf = (bytes: Uint8Array, sealed?: SealedAuditRecord): Outgoing => {
    const r = sealed ?? decodeSealedRecord(bytes);
    return {
      topic,
      // Chosen here from all partitions (not only those with a leader now), so a key's records
      // always land in the same partition, before and after an outage.
      partition: auditPartitionOf(r.requesterAgency, partitionCount),
      key: r.requesterAgency,
      value: Buffer.from(bytes),
      headers: {
        [AUDIT_HEADERS.schemaVersion]: String(r.schemaVersion),
        [AUDIT_HEADERS.keyId]: r.keyId,
        [AUDIT_HEADERS.eventType]: AuditEventType[r.eventType] ?? String(r.eventType),
        [AUDIT_HEADERS.requesterAgency]: r.requesterAgency,
        [AUDIT_HEADERS.chainPosition]: `${r.gatewayInstance}/${r.sequence}`,
      },
    };
  };

  /** Produces records (and optionally a checkpoint); resolves to each record's "topic/partition/offset". */
  async function produce(records: readonly Uint8Array[], checkpoint?: Uint8Array, sealedRecords?: readonly SealedAuditRecord[]): Promise<string[]> {
    const messages = records.map((b, i) => messageOf(b, sealedRecords?.[i]));
    const batch: Array<MessageToProduce<string, Buffer, string, string>> = [...messages];
    if (checkpoint) batch.push({ topic: checkpointTopic, key: opts.instance, value: Buffer.from(checkpoint), headers: { [AUDIT_HEADERS.schemaVersion]: "1" } });
    if (producerFailed) {
      await producer.close().catch(() => undefined);
      producer = newProducer();
      producerFailed = false;
    }
    let result;
    try {
      result = await producer.send({ messages: batch });
    } catch (err) {
      producerFailed = true;
      // Also when the drain sent it: the batch may be in Kafka although the answer was lost, and
      // the new producer's id cannot be deduplicated against the old one's, so look before resending.
      reconcileBeforeDrain = true;
      throw err;
    }
    const base = new Map<number, bigint>();
    for (const o of result.offsets ?? []) if (o.topic === topic) base.set(o.partition, o.offset);
    const next = new Map<number, bigint>();
    const positions = messages.map((m) => {
      const p = m.partition;
      const off = next.get(p) ?? base.get(p) ?? -1n;
      next.set(p, off + 1n);
      return `${topic}/${p}/${off}`;
    });
    for (const [p, n] of next) if (p < nextOffsets.length && n > (nextOffsets[p] as bigint)) nextOffsets[p] = n;
    return positions;
  }

  /**
   * Hashes of this instance's records at the tails of the partitions, as far
   * back as the spool could reach: those of the spool already there (a send
   * whose acknowledgement was lost) are not sent again.
   */
  async function alreadyInKafka(): Promise<Set<string>> {
    const first = decodeSealedRecord(spool.peek(1)[0]).sequence;
    const found = new Set<string>();
    await readOwnRecords({ tailPerPartition: spool.depth() + (opts.maxBatch ?? 1024), topic: reconcileTopic }, (rec, bytes) => {
      if (rec.sequence >= first) found.add(Buffer.from(recordHash(bytes)).toString("hex"));
    });
    return found;
  }

  /** Records per drain request. */
  const DRAIN_CHUNK = 500;
  let draining: Promise<void> | undefined;
  const startDrain = () => {
    if (draining || closed) return;
    draining = (async () => {
      while (spool.depth() > 0 && !closed) {
        try {
          if (reconcileBeforeDrain) {
            const present = await alreadyInKafka();
            const skip = spool.peek(spool.depth()).findIndex((r) => !present.has(Buffer.from(recordHash(r)).toString("hex")));
            const n = skip < 0 ? spool.depth() : skip;
            await lock(async () => {
              await spool.markDelivered(n);
              reconciled += n;
              reconcileBeforeDrain = false;
              reconcileTopic = topic;
              if (spool.depth() === 0) kafkaReachable = true;
            });
            continue;
          }
          const sendChunk = async () => {
            const chunk = spool.peek(DRAIN_CHUNK);
            await produce(chunk);
            return chunk.length;
          };
          const markDrained = async (n: number) => {
            await spool.markDelivered(n);
            drained += n;
            if (spool.depth() === 0) kafkaReachable = true;
          };
          if (spool.depth() <= DRAIN_CHUNK) {
            // The last chunk goes under the commit lock, so no commit can spool behind it. Sent
            // outside the lock, every commit arriving within one produce round trip lands in the
            // spool behind the chunk: under steady load the drain never finds the spool empty,
            // and the sink keeps spooling (and reporting Kafka unreachable) for as long as the
            // load lasts, although Kafka is back. Commits wait one produce
            // round trip, as they would for a direct send.
            await lock(async () => markDrained(await sendChunk()));
          } else {
            // A long backlog is sent without holding commits up; they join the spool behind it.
            const n = await sendChunk();
            await lock(() => markDrained(n));
          }
        } catch (err) {
          lastError = kafkaErrorMessage(err);
          if (closing) return;
          await new Promise((r) => setTimeout(r, drainRetryMs));
        }
      }
      if (spool.depth() === 0) kafkaReachable = true;
    })().finally(() => {
      draining = undefined;
    });
  };
  if (spool.depth() > 0) {
    // Left by an earlier run that may have died between a send and its acknowledgement.
    kafkaReachable = false;
    reconcileBeforeDrain = true;
    reconcileTopic = stateFile.resume?.topic ?? topic;
    startDrain();
  }

  const spoolFull = () => {
    refusedSpoolFull++;
    return new CredexError("AUDIT_SPOOL_FULL", undefined, { spoolDepth: String(spool.depth()), spoolMax: String(spoolMax) });
  };

  const committer = createGroupCommitter<Item, AuditReceipt | undefined>((items) =>
    lock(async () => {
      const before = chain.head();
      const events = items.filter((i): i is Extract<Item, { kind: "event" }> => i.kind === "event");
      const wantCheckpoint = items.length > events.length;
      const results: Array<AuditReceipt | undefined | Error> = [];
      const sealed: Array<{ bytes: Uint8Array; record: SealedAuditRecord; sequence: bigint; hash: Uint8Array; index: number }> = [];
      const direct = spool.depth() === 0;
      const room = direct ? Infinity : spoolMax - spool.depth();
      for (const item of items) {
        if (item.kind === "checkpoint") {
          results.push(undefined);
          continue;
        }
        if (sealed.length >= room) {
          results.push(spoolFull());
          continue;
        }
        try {
          const c = chain.append(item.event);
          sealed.push({ bytes: c.bytes, record: c.record, sequence: c.record.sequence, hash: c.hash, index: results.length });
          results.push(undefined);
        } catch (err) {
          results.push(new CredexError("AUDIT_UNAVAILABLE", `the audit event could not be sealed: ${(err as Error).message}`, {}, { cause: err }));
        }
      }
      if (sealed.length === 0 && !wantCheckpoint) return results;

      const toSpool = async (list: typeof sealed) => {
        const fit = Math.max(0, Math.min(list.length, spoolMax - spool.depth()));
        const kept = list.slice(0, fit);
        for (const s of list.slice(fit)) results[s.index] = spoolFull();
        const last = kept[kept.length - 1];
        chain.reset(last ? { instance: opts.instance, sequence: last.sequence, headHash: last.hash } : before);
        try {
          await spool.append(kept.map((s) => s.bytes));
        } catch (err) {
          chain.reset(before);
          throw new CredexError("AUDIT_UNAVAILABLE", "the audit spool could not be written", {}, { cause: err });
        }
        await saveState(chain.head(), { clean: false, topic, offsets: [...nextOffsets] });
        spooled += kept.length;
        for (const s of kept) results[s.index] = { medium: "spool", position: `${opts.spoolPath}#${s.sequence}`, sequence: s.sequence };
        startDrain();
      };

      if (!direct) {
        if (wantCheckpoint) checkpointsSkipped++;
        await toSpool(sealed);
      } else {
        const cp = wantCheckpoint && opts.checkpointSigner ? encodeCheckpoint(createCheckpoint(chain.head(), opts.checkpointSigner)) : undefined;
        // No local write on the exchange's path: what Kafka acknowledged is found there again
        // after a crash (the state says where to look; see saveHintNowAndThen).
        let positions: string[];
        try {
          positions = await produce(sealed.map((s) => s.bytes), cp, sealed.map((s) => s.record));
        } catch (err) {
          lastError = kafkaErrorMessage(err);
          kafkaReachable = false;
          reconcileBeforeDrain = true;
          if (cp) checkpointsSkipped++;
          await toSpool(sealed);
          commits++;
          return results;
        }
        sent += sealed.length;
        saveHintNowAndThen();
        if (cp) {
          checkpoints++;
          lastCheckpoint = { bytes: cp, sequence: chain.head().sequence };
        }
        sealed.forEach((s, i) => (results[s.index] = { medium: "kafka", position: positions[i], sequence: s.sequence }));
      }
      commits++;
      return results;
    }), { maxBatch: opts.maxBatch ?? 1024 });

  const timer = opts.checkpointSigner
    ? setInterval(() => void committer.submit({ kind: "checkpoint" }).catch(() => undefined), opts.checkpointIntervalMs ?? 60_000)
    : undefined;
  timer?.unref();

  let restart: ChainRestart | undefined;
  if (restartOf) {
    try {
      restart = await announceChainRestart((item) => committer.submit(item), restartOf);
    } catch (err) {
      if (timer) clearInterval(timer);
      return startFailed(new Error(`the new audit chain could not be announced: ${(err as Error).message}`, { cause: err }));
    }
  }

  return {
    async append(event) {
      if (closing) throw new CredexError("AUDIT_UNAVAILABLE", "the audit sink is closed");
      return (await committer.submit({ kind: "event", event })) as AuditReceipt;
    },
    async checkpoint() {
      if (!opts.checkpointSigner) throw new Error("kafka audit sink: no checkpoint signer configured");
      await committer.submit({ kind: "checkpoint" });
    },
    flush: () => committer.idle(),
    async close() {
      if (closing) return;
      closing = true;
      if (timer) clearInterval(timer);
      if (opts.checkpointSigner && spool.depth() === 0) await committer.submit({ kind: "checkpoint" }).catch(() => undefined);
      await committer.idle();
      // Undelivered spool entries stay on disk; the next start drains them.
      closed = true;
      await draining;
      await producer.close().catch(() => undefined);
      // Nothing is in flight: the head is exact, and the next start only checks that nothing of this instance came after it.
      await hintSaving;
      const finalHead = chain.head();
      const saved = await saveState(finalHead, { clean: true, topic, offsets: [...nextOffsets] }).then(
        () => true,
        (err: unknown) => {
          lastError = `the chain state could not be saved at close: ${(err as Error).message}`;
          return false;
        },
      );
      // Its checkpoint lets a start under another key (changed while stopped) take the state over.
      if (saved && spool.depth() === 0 && lastCheckpoint?.sequence === finalHead.sequence) await stateFile.saveHandover(lastCheckpoint.bytes).catch(() => undefined);
      await spool.close();
      await stateFile.close();
    },
    describe: () => `kafka ${opts.brokers} topic ${topic} (instance ${opts.instance}, ${opts.suite}, spool ${opts.spoolPath})`,
    restart,
    stats: () => ({
      sent,
      spooled,
      drained,
      reconciled,
      recovered,
      spoolDepth: spool.depth(),
      spoolMaxRecords: spoolMax,
      kafkaReachable,
      lastSequence: chain.head().sequence,
      commits,
      checkpoints,
      checkpointsSkipped,
      refusedSpoolFull,
      ...(lastError !== undefined && { lastError }),
      topicWarnings: check.warnings,
    }),
  };
}
