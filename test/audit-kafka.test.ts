import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createKafkaAuditSink, AUDIT_HEADERS, type KafkaAuditSinkOptions } from "../src/adapters/kafka/kafka-audit-sink.js";
import { readKafkaTopic } from "../src/adapters/kafka/kafka-topic-reader.js";
import { ensureAuditTopics } from "../src/adapters/kafka/audit-topics.js";
import { createKafkaTopics } from "../src/adapters/kafka/kafka-admin.js";
import { scanKafkaAudit } from "../src/adapters/kafka/kafka-audit-source.js";
import { createAuditChain, genesisHead, type ChainHead } from "../src/core/audit/audit-chain.js";
import { openChainStateFile, type ResumeHint } from "../src/core/audit/chain-state-file.js";
import { auditLogLine } from "../src/adapters/audit/audit-log-file.js";
import { createCheckpointSigner } from "../src/core/audit/checkpoint.js";
import { generateKeyRing, serializeKeyRing } from "../src/core/audit/key-ring.js";
import { decodeSealedRecord, encodeSealedRecord, openSealedRecord } from "../src/core/audit/seal.js";
import { createChainVerifier, type VerifyReport } from "../src/core/audit/verify-chain.js";
import { SealSuite } from "../src/gen/credex/v1/audit_pb.js";
import { command as auditCommand } from "../src/cli/commands/audit.js";
import { startKafkaBroker, stopKafkaBroker } from "../src/dev/kafka-broker.js";
import { makeSigningIdentity, sampleAuditEvent } from "./support/audit-fixtures.js";
import { kafkaBrokers, produceRaw } from "./support/kafka.js";

const ring = generateKeyRing("k1");
const identity = makeSigningIdentity("ec");
const signer = createCheckpointSigner(identity);
let dir: string;
const uniq = () => Math.random().toString(36).slice(2, 8);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "credex-audit-kafka-"));
  writeFileSync(join(dir, "keys.json"), serializeKeyRing(ring), { mode: 0o600 });
  writeFileSync(join(dir, "gw.pem"), identity.certificatePem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sinkOptions(brokers: string, name: string, over: Partial<KafkaAuditSinkOptions> = {}): KafkaAuditSinkOptions {
  return {
    brokers,
    keyRing: ring,
    suite: "AES-256-GCM",
    instance: `gw-${name}`,
    chainStatePath: join(dir, `${name}.chain.json`),
    spoolPath: join(dir, `${name}.spool`),
    topic: `audit.${name}`,
    checkpointTopic: `audit-cp.${name}`,
    checkpointSigner: signer,
    ...over,
  };
}

/** A run that "dies" before any save after start: `more` appends after the first are acknowledged by Kafka alone, then the state file is put back as it was at start. */
async function runThatDiesAfterStart(opts: KafkaAuditSinkOptions, more: number): Promise<void> {
  const first = await createKafkaAuditSink(opts);
  await first.append(sampleAuditEvent(0));
  const asAtCrash = readFileSync(opts.chainStatePath);
  await Promise.all(Array.from({ length: more }, (_, i) => first.append(sampleAuditEvent(i + 1))));
  await first.close();
  writeFileSync(opts.chainStatePath, asAtCrash);
}

/** What a crash after a lost acknowledgement leaves: records 1-5 in Kafka, 6-8 in the spool, 6-7 also in `topic`. */
async function crashAfterLostAck(opts: KafkaAuditSinkOptions, brokers: string, topic: string, resume?: ResumeHint): Promise<void> {
  const s1 = await createKafkaAuditSink(opts);
  for (let i = 0; i < 5; i++) await s1.append(sampleAuditEvent(i));
  await s1.close();
  const state = await openChainStateFile({ path: opts.chainStatePath, instance: opts.instance });
  const chain = createAuditChain(state.head as ChainHead, ring, SealSuite.AES_256_GCM);
  const links = [5, 6, 7].map((i) => chain.append(sampleAuditEvent(i)));
  await state.save(chain.head(), resume);
  await state.close();
  writeFileSync(opts.spoolPath, links.map((l) => auditLogLine("record", l.bytes)).join(""));
  await produceRaw(brokers, topic, links.slice(0, 2).map((l) => ({ key: "x", value: l.bytes })));
}

/** `structureOnly`: a sink without a checkpoint signer, whose records no checkpoint can cover (reported as unverified, not failing). */
async function verifyTopic(brokers: string, name: string, include: (position: string) => boolean = () => true, structureOnly = false): Promise<VerifyReport> {
  const v = createChainVerifier({ keyRing: ring, certificates: [identity.certificatePem], allowUnsignedTail: structureOnly });
  await scanKafkaAudit({ brokers, topic: `audit.${name}`, checkpointTopic: `audit-cp.${name}` }, (e) => {
    if (e.kind === "record" && include(e.position)) v.addRecord(e.bytes, e.position, e.stream);
    else if (e.kind === "checkpoint") v.addCheckpoint(e.bytes, e.position);
  });
  return v.finish();
}

/** Runs `credex audit …` in-process; returns exit code and stdout. */
async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const w = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    return { code: await auditCommand.run(args), stdout };
  } finally {
    w.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("Kafka audit sink (real broker)", () => {
  it("ok/N concurrent appends → N events in Kafka, all decrypt, headers, verify passes; restart continues the chain", async () => {
    const brokers = kafkaBrokers();
    const name = `n-${uniq()}`;
    const sink = await createKafkaAuditSink(sinkOptions(brokers, name));
    const receipts = await Promise.all(Array.from({ length: 300 }, (_, i) => sink.append(sampleAuditEvent(i))));
    expect(receipts.every((r) => r.medium === "kafka" && r.position.startsWith(`audit.${name}/`))).toBe(true);
    expect(sink.stats()).toMatchObject({ sent: 300, spoolDepth: 0, kafkaReachable: true });
    expect(sink.stats().commits).toBeLessThan(300);
    await sink.close();

    const again = await createKafkaAuditSink(sinkOptions(brokers, name));
    expect((await again.append(sampleAuditEvent(300))).sequence).toBe(301n);
    await again.close();

    const seen: Array<{ headers: Record<string, string>; key?: string; value: Buffer }> = [];
    await readKafkaTopic({ brokers, topic: `audit.${name}`, onRecord: (r) => void seen.push({ headers: { ...r.headers }, key: r.key, value: r.value }) });
    expect(seen).toHaveLength(301);
    for (const r of seen) {
      const record = decodeSealedRecord(r.value);
      const event = openSealedRecord(record, ring);
      expect(r.key).toBe(event.requester?.agencyId);
      expect(Object.keys(r.headers).sort()).toEqual(Object.values(AUDIT_HEADERS).sort());
      expect(r.headers[AUDIT_HEADERS.chainPosition]).toBe(`gw-${name}/${record.sequence}`);
      expect(r.headers[AUDIT_HEADERS.keyId]).toBe("k1");
    }
    const report = await verifyTopic(brokers, name);
    expect(report.ok).toBe(true);
    expect(report.decrypted).toBe(301);
    expect(report.chains[0]).toMatchObject({ records: 301, lastSequence: 301n, checkpoints: 2 });

    const { code, stdout } = await cli(["verify", "--brokers", brokers, "--topic", `audit.${name}`, "--checkpoint-topic", `audit-cp.${name}`, "--key-ring", join(dir, "keys.json"), "--cert", join(dir, "gw.pem")]);
    expect(stdout).toContain(`chain gw-${name}: sequences 1..301, 301 records, 2 checkpoints: OK`);
    expect(code).toBe(0);
  });

  it("ok/verify --instance checks one gateway's chain in a topic shared with another sealed under its own key ring", async () => {
    const brokers = kafkaBrokers();
    const name = `i-${uniq()}`;
    const ours = await createKafkaAuditSink(sinkOptions(brokers, name));
    const theirs = await createKafkaAuditSink({ ...sinkOptions(brokers, name), instance: `other-${name}`, keyRing: generateKeyRing("k1"), chainStatePath: join(dir, `${name}.other.chain.json`), spoolPath: join(dir, `${name}.other.spool`) });
    for (let i = 0; i < 4; i++) await Promise.all([ours.append(sampleAuditEvent(i)), theirs.append(sampleAuditEvent(i))]);
    await Promise.all([ours.close(), theirs.close()]);
    const args = ["verify", "--brokers", brokers, "--topic", `audit.${name}`, "--checkpoint-topic", `audit-cp.${name}`, "--key-ring", join(dir, "keys.json"), "--cert", join(dir, "gw.pem")];
    const all = await cli(args);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain(`chain other-${name}: sequences 1..4, 4 records, 1 checkpoints: BROKEN`);
    const one = await cli([...args, "--instance", `gw-${name}`]);
    expect(one.stdout).toContain(`records 4, checkpoints 1, decrypted 4, chains 1\nchain gw-${name}: sequences 1..4, 4 records, 1 checkpoints: OK`);
    expect(one.code).toBe(0);
  });

  it("ok/after an unclean stop the records acknowledged since the last saved head are found in Kafka: the chain goes on without a fork or a gap, and a forged record cannot become the head", async () => {
    const brokers = kafkaBrokers();
    const name = `u-${uniq()}`;
    // Saves at start and at close only: everything in between is acknowledged by Kafka alone.
    const opts = sinkOptions(brokers, name, { resumeHintIntervalMs: 3_600_000 });
    await runThatDiesAfterStart(opts, 40);
    const before = await openChainStateFile({ path: opts.chainStatePath, instance: opts.instance, key: () => signer.stateKey });
    expect([before.head?.sequence, before.resume?.clean]).toEqual([0n, false]);
    await before.close();

    // Someone with write access to the topic plants a record claiming this chain's sequence 999.
    const seen: Buffer[] = [];
    await readKafkaTopic({ brokers, topic: `audit.${name}`, onRecord: (r) => void seen.push(r.value) });
    const forged = decodeSealedRecord(seen[0]!);
    forged.sequence = 999n;
    const [planted] = await produceRaw(brokers, `audit.${name}`, [{ key: "x", value: encodeSealedRecord(forged) }]);
    const plantedAt = `audit.${name}/${planted!.partition}/${planted!.baseOffset}`;

    const again = await createKafkaAuditSink(opts);
    expect(again.stats().recovered).toBe(41);
    expect((await again.append(sampleAuditEvent(41))).sequence).toBe(42n);
    await again.close();

    // Everything but the planted record verifies: 1..42 linked, no sequence twice (a fork), no gap.
    const report = await verifyTopic(brokers, name, (position) => position !== plantedAt);
    expect(report.ok).toBe(true);
    expect(report.chains[0]).toMatchObject({ records: 42, lastSequence: 42n, breaks: 0 });
  });

  it("ok/after an unclean stop and a change of audit topic, the records the last run acknowledged are found in the topic it wrote to", async () => {
    const brokers = kafkaBrokers();
    const name = `m-${uniq()}`;
    const opts = sinkOptions(brokers, name, { resumeHintIntervalMs: 3_600_000 });
    await runThatDiesAfterStart(opts, 20);

    const moved = await createKafkaAuditSink({ ...opts, topic: `audit.${name}-moved`, checkpointTopic: `audit-cp.${name}-moved` });
    expect(moved.stats().recovered).toBe(21);
    expect((await moved.append(sampleAuditEvent(21))).sequence).toBe(22n);
    await moved.close();
    // The old topic holds 1..21 and nothing else: the new one goes on from 22, no sequence reused.
    const old = await verifyTopic(brokers, name);
    expect([old.ok, old.chains[0]?.lastSequence]).toEqual([true, 21n]);
  });

  it("ok/a clean close needs no search at the next start", async () => {
    const brokers = kafkaBrokers();
    const name = `c-${uniq()}`;
    const opts = sinkOptions(brokers, name, { resumeHintIntervalMs: 3_600_000 });
    const first = await createKafkaAuditSink(opts);
    await Promise.all(Array.from({ length: 10 }, (_, i) => first.append(sampleAuditEvent(i))));
    await first.close();
    const state = await openChainStateFile({ path: opts.chainStatePath, instance: opts.instance, key: () => signer.stateKey });
    expect([state.head?.sequence, state.resume?.clean]).toEqual([10n, true]);
    await state.close();
    const again = await createKafkaAuditSink(opts);
    expect(again.stats().recovered).toBe(0);
    expect((await again.append(sampleAuditEvent(10))).sequence).toBe(11n);
    await again.close();
    expect((await verifyTopic(brokers, name)).ok).toBe(true);
  });

  it("fail/a forged record and a deleted one are reported with their offsets, non-zero exit", async () => {
    const brokers = kafkaBrokers();
    const name = `f-${uniq()}`;
    const sink = await createKafkaAuditSink(sinkOptions(brokers, name, { partitions: 1 }));
    for (let i = 0; i < 5; i++) await sink.append(sampleAuditEvent(i, { agency: "csrc" }));
    await sink.close();

    // Forged: a copy of record 3 with another requester, appended at the end of the partition.
    const seen: Buffer[] = [];
    await readKafkaTopic({ brokers, topic: `audit.${name}`, onRecord: (r) => void seen.push(r.value) });
    const forged = decodeSealedRecord(seen[2]);
    forged.requesterAgency = "pbc-crc";
    const [forgedMd] = await produceRaw(brokers, `audit.${name}`, [{ key: "csrc", value: encodeSealedRecord(forged) }]);
    const forgedOffset = forgedMd!.baseOffset;
    // Deleted: another instance's chain produced without its sequence 3.
    const chain = createAuditChain(genesisHead("gw-deleter"), ring, SealSuite.AES_256_GCM);
    const links = Array.from({ length: 5 }, (_, i) => chain.append(sampleAuditEvent(i, { agency: "csrc" })));
    const md = await produceRaw(brokers, `audit.${name}`, links.filter((_, i) => i !== 2).map((l) => ({ key: "csrc", value: l.bytes })));
    const afterGapOffset = md[0]!.baseOffset + 2n;

    const { code, stdout } = await cli(["verify", "--brokers", brokers, "--topic", `audit.${name}`, "--checkpoint-topic", `audit-cp.${name}`, "--key-ring", join(dir, "keys.json"), "--cert", join(dir, "gw.pem")]);
    expect(code).toBe(1);
    expect(stdout).toContain(`chain gw-${name}: sequences 1..5, 5 records, 1 checkpoints: BROKEN`);
    expect(stdout).toContain(`first break: decrypt at sequence 3: audit.${name}/0/${forgedOffset}`);
    expect(stdout).toContain(`chain gw-deleter: sequences 1..5, 4 records, 0 checkpoints: BROKEN (2 breaks)`);
    expect(stdout).toContain(`first break: gap at sequence 3: audit.${name}/0/${afterGapOffset}: sequences 3..3 missing before this record`);
    expect(stdout).toContain("verify: FAILED");
  });

  it("ok/tail and export decrypt and filter by agency and subject", async () => {
    const brokers = kafkaBrokers();
    const name = `t-${uniq()}`;
    const { subjectPseudonym } = await import("../src/core/audit/pseudonym.js");
    const { SubjectType } = await import("../src/gen/credex/v1/types_pb.js");
    const p = subjectPseudonym(ring.pseudonymKey, SubjectType.LEGAL_PERSON, "91310110666007217T");
    const sink = await createKafkaAuditSink(sinkOptions(brokers, name));
    await Promise.all(Array.from({ length: 10 }, (_, i) => sink.append(sampleAuditEvent(i, i === 4 ? { pseudonym: p } : {}))));
    await sink.close();
    const src = ["--brokers", brokers, "--topic", `audit.${name}`, "--key-ring", join(dir, "keys.json")];
    const bySubject = await cli(["tail", ...src, "--subject", "91310110666007217T", "--jsonl"]);
    expect(bySubject.code).toBe(0);
    const lines = bySubject.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).event.exchangeId).toBe("ex-4");
    expect(bySubject.stdout).not.toContain("91310110666007217T");
    const csv = await cli(["export", ...src, "--format", "csv", "--agency", "csrc"]);
    expect(csv.stdout.trim().split("\r\n")).toHaveLength(1 + 5);
    const table = await cli(["tail", ...src, "--decision", "allow", "--last", "3"]);
    expect(table.stdout.trim().split("\n")).toHaveLength(1 + 3);
  });
});

describe("credex audit tail --follow (Kafka)", () => {
  it("ok/prints events produced after it started, until SIGINT", async () => {
    const brokers = kafkaBrokers();
    const name = `w-${uniq()}`;
    const sink = await createKafkaAuditSink(sinkOptions(brokers, name));
    await sink.append(sampleAuditEvent(0));
    let stdout = "";
    const w = vi.spyOn(process.stdout, "write").mockImplementation((x: string | Uint8Array) => ((stdout += String(x)), true));
    try {
      const running = auditCommand.run(["tail", "--follow", "--jsonl", "--brokers", brokers, "--topic", `audit.${name}`, "--key-ring", join(dir, "keys.json")]);
      const ids = () => stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l).event.exchangeId);
      await vi.waitFor(() => expect(ids()).toEqual(["ex-0"]), { timeout: 30_000, interval: 100 });
      await Promise.all([1, 2].map((i) => sink.append(sampleAuditEvent(i))));
      await vi.waitFor(() => expect(ids().sort()).toEqual(["ex-0", "ex-1", "ex-2"]), { timeout: 30_000, interval: 100 });
      process.emit("SIGINT", "SIGINT");
      expect(await running).toBe(0);
    } finally {
      w.mockRestore();
      await sink.close();
    }
  });
});

describe("Kafka audit sink: spool reconciliation", () => {
  it("ok/spooled records that did reach Kafka (acknowledgement lost) are not sent twice", async () => {
    const brokers = kafkaBrokers();
    const name = `c-${uniq()}`;
    const opts = sinkOptions(brokers, name, { checkpointSigner: undefined });
    await crashAfterLostAck(opts, brokers, `audit.${name}`);

    const s2 = await createKafkaAuditSink(opts);
    await vi.waitFor(() => expect(s2.stats().spoolDepth).toBe(0), { timeout: 30_000, interval: 100 });
    const { reconciled, drained, lastError } = s2.stats();
    expect({ reconciled, drained, lastError }).toEqual({ reconciled: 2, drained: 1, lastError: undefined });
    expect((await s2.append(sampleAuditEvent(8))).sequence).toBe(9n);
    await s2.close();
    const report = await verifyTopic(brokers, name, undefined, true);
    expect(report.chains[0]).toMatchObject({ records: 9, lastSequence: 9n, breaks: 0 });
  });
});

describe("Kafka audit sink: spool reconciliation after a change of topic", () => {
  it("ok/spooled records the last run did get into its topic are found there, not sent again to the new one", async () => {
    const brokers = kafkaBrokers();
    const name = `cm-${uniq()}`;
    const opts = sinkOptions(brokers, name, { checkpointSigner: undefined });
    // In a run that wrote to audit.<name>, recorded in its (unclean) state.
    await crashAfterLostAck(opts, brokers, `audit.${name}`, { clean: false, topic: `audit.${name}` });

    const moved = await createKafkaAuditSink({ ...opts, topic: `audit.${name}-moved`, checkpointTopic: `audit-cp.${name}-moved` });
    await vi.waitFor(() => expect(moved.stats().spoolDepth).toBe(0), { timeout: 30_000, interval: 100 });
    expect({ reconciled: moved.stats().reconciled, drained: moved.stats().drained }).toEqual({ reconciled: 2, drained: 1 });
    expect((await moved.append(sampleAuditEvent(8))).sequence).toBe(9n);
    await moved.close();
    const old = await verifyTopic(brokers, name, undefined, true);
    expect(old.chains[0]).toMatchObject({ records: 7, lastSequence: 7n, breaks: 0 });
  });
});

describe("audit topics", () => {
  it("ok/created with 180 days retention; fail/production refuses a shorter one", async () => {
    const brokers = kafkaBrokers();
    const name = `r-${uniq()}`;
    const created = await ensureAuditTopics({ brokers, topics: [`audit.${name}`] });
    expect(created).toEqual({ created: [`audit.${name}`], warnings: [] });
    await createKafkaTopics(brokers, [{ topic: `short.${name}`, configs: { "retention.ms": "86400000" } }]);
    const lax = await ensureAuditTopics({ brokers, topics: [`short.${name}`] });
    expect(lax.warnings).toEqual([`topic short.${name} keeps data 86400000 ms, less than 180 days (Cybersecurity Law Art. 21)`]);
    await expect(ensureAuditTopics({ brokers, topics: [`short.${name}`], production: true })).rejects.toThrow(
      `refusing to start in production mode: topic short.${name} keeps data 86400000 ms, less than 180 days (Cybersecurity Law Art. 21)`,
    );
    await expect(createKafkaAuditSink(sinkOptions(brokers, name, { topic: `short.${name}`, production: true }))).rejects.toThrow("refusing to start in production mode");
  });

  it("ok/gateways starting at once each create their audit topics and start: a topic KRaft has not applied yet (UNKNOWN_TOPIC_OR_PARTITION) is waited for, not a failed start", async () => {
    const brokers = kafkaBrokers();
    // Concurrent creates make the window between the controller's acknowledgement and the
    // broker's metadata wide on any machine: a wait that fails on UNKNOWN_TOPIC_OR_PARTITION fails nearly every time here.
    const names = Array.from({ length: 8 }, () => `k-${uniq()}`);
    const sinks = await Promise.all(names.map((name) => createKafkaAuditSink(sinkOptions(brokers, name, { checkpointSigner: undefined }))));
    try {
      const receipts = await Promise.all(sinks.map((sink) => sink.append(sampleAuditEvent(0))));
      expect(receipts.map((r) => r.medium)).toEqual(names.map(() => "kafka"));
    } finally {
      await Promise.all(sinks.map((sink) => sink.close()));
    }
    const created = await Promise.all(names.map((name) => createKafkaTopics(brokers, [{ topic: `other.${name}`, partitions: 3 }])));
    expect(created).toEqual(names.map((name) => [`other.${name}`]));
  });

  it("ok/tail --from seeks past older records", async () => {
    const brokers = kafkaBrokers();
    const name = `s-${uniq()}`;
    const sink = await createKafkaAuditSink(sinkOptions(brokers, name, { partitions: 2 }));
    await Promise.all(Array.from({ length: 6 }, (_, i) => sink.append(sampleAuditEvent(i, { at: new Date() }))));
    await new Promise((r) => setTimeout(r, 50));
    const from = new Date();
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all(Array.from({ length: 4 }, (_, i) => sink.append(sampleAuditEvent(100 + i, { at: new Date() }))));
    await sink.close();
    const r = await cli(["tail", "--brokers", brokers, "--topic", `audit.${name}`, "--key-ring", join(dir, "keys.json"), "--from", from.toISOString(), "--jsonl"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).event.exchangeId).sort()).toEqual(["ex-100", "ex-101", "ex-102", "ex-103"]);
    const v = await cli(["verify", "--brokers", brokers, "--topic", `audit.${name}`, "--checkpoint-topic", `audit-cp.${name}`, "--from", from.toISOString(), "--cert", join(dir, "gw.pem")]);
    expect(v.stdout).toContain(`chain gw-${name}: sequences 7..10, 4 records, 1 checkpoints: OK`);
    expect(v.code).toBe(0);
  });
});

describe("Kafka audit sink: broker outage", () => {
  let kdir: string;
  beforeAll(() => {
    kdir = mkdtempSync(join(tmpdir(), "credex-kafka-outage-"));
  });
  afterAll(async () => {
    await stopKafkaBroker(kdir).catch(() => undefined);
    rmSync(kdir, { recursive: true, force: true });
  });

  it("ok/unreachable → spool (bounded, fails closed when full) → drained in order when it returns, chain intact", async () => {
    const { brokers } = await startKafkaBroker({ dataDir: kdir });
    const name = `o-${uniq()}`;
    const sink = await createKafkaAuditSink(sinkOptions(brokers, name, { spoolMaxRecords: 50, drainRetryMs: 200 }));
    await Promise.all(Array.from({ length: 20 }, (_, i) => sink.append(sampleAuditEvent(i))));
    expect(sink.stats().sent).toBe(20);

    await stopKafkaBroker(kdir);
    const spooled = await Promise.all(Array.from({ length: 30 }, (_, i) => sink.append(sampleAuditEvent(20 + i))));
    expect(spooled.every((r) => r.medium === "spool")).toBe(true);
    expect(sink.stats()).toMatchObject({ spoolDepth: 30, kafkaReachable: false });
    const more = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => sink.append(sampleAuditEvent(50 + i))));
    const refused = more.filter((r) => r.status === "rejected");
    expect(refused).toHaveLength(10);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ reason: "AUDIT_SPOOL_FULL", code: 14 });
    expect(sink.stats().spoolDepth).toBe(50);

    await startKafkaBroker({ dataDir: kdir });
    await vi.waitFor(() => expect(sink.stats().spoolDepth).toBe(0), { timeout: 60_000, interval: 200 });
    const { drained, reconciled, kafkaReachable } = sink.stats();
    expect({ drained, reconciled, kafkaReachable }).toEqual({ drained: 50, reconciled: 0, kafkaReachable: true });
    const after = await sink.append(sampleAuditEvent(99));
    expect(after.medium).toBe("kafka");
    expect(after.sequence).toBe(71n);
    await sink.close();

    const report = await verifyTopic(brokers, name);
    expect(report.chains[0]).toMatchObject({ records: 71, firstSequence: 1n, lastSequence: 71n, breaks: 0 });
    expect(report.ok).toBe(true);
    // Above the sum of the bounds inside (two broker starts of up to 90 s each, a stop of up to
    // 40 s, the drain's 60 s), so the bound that failed is the one reported, on a loaded machine too.
  }, 420_000);

  it("ok/broker stopped during load: every acknowledged append is in Kafka exactly once, chain intact", async () => {
    const { brokers } = await startKafkaBroker({ dataDir: kdir });
    const name = `l-${uniq()}`;
    const sink = await createKafkaAuditSink(sinkOptions(brokers, name, { drainRetryMs: 200 }));
    const acked = new Map<bigint, string>();
    let failures = 0;
    let stop = false;
    let n = 0;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          const i = n++;
          try {
            const r = await sink.append(sampleAuditEvent(i));
            acked.set(r.sequence as bigint, r.medium);
          } catch {
            failures++;
          }
          // Paced like real traffic: an unpaced loop fills the spool with ~10^5 records during the outage.
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }),
    );
    await vi.waitFor(() => expect(acked.size).toBeGreaterThan(200), { timeout: 30_000, interval: 50 });
    await stopKafkaBroker(kdir);
    await vi.waitFor(() => expect([...acked.values()].filter((m) => m === "spool").length).toBeGreaterThan(50), { timeout: 60_000, interval: 50 });
    await startKafkaBroker({ dataDir: kdir });
    await vi.waitFor(() => expect(sink.stats()).toMatchObject({ kafkaReachable: true, spoolDepth: 0 }), { timeout: 90_000, interval: 100 });
    const afterOutage = acked.size;
    await vi.waitFor(() => expect(acked.size).toBeGreaterThan(afterOutage + 50), { timeout: 30_000, interval: 50 });
    stop = true;
    await load;
    await sink.close();
    expect(failures).toBe(0);

    const report = await verifyTopic(brokers, name);
    expect(report.orphanBreaks).toEqual([]);
    expect(report.chains[0]).toMatchObject({ breaks: 0, records: acked.size, firstSequence: 1n, lastSequence: BigInt(acked.size) });
    expect(report.ok).toBe(true);
    // Above the sum of the bounds inside (see the test before).
  }, 480_000);
});
