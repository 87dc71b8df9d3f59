import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeCheckpointPki, makeSigningIdentity, sampleAuditEvent, type CheckpointPki } from "../../../test/support/audit-fixtures.js";
import { SealSuite } from "../../gen/credex/v1/audit_pb.js";
import { createAuditChain, recordHash } from "../../core/audit/audit-chain.js";
import { ChainStateError, openChainStateFile } from "../../core/audit/chain-state-file.js";
import { createCheckpointSigner } from "../../core/audit/checkpoint.js";
import { generateKeyRing } from "../../core/audit/key-ring.js";
import { decodeSealedRecord, encodeSealedRecord } from "../../core/audit/seal.js";
import { createChainVerifier, type VerifyReport } from "../../core/audit/verify-chain.js";
import type { KeyRing } from "../../core/audit/key-ring.js";
import { readAuditLogFile } from "./audit-log-file.js";
import { createFileAuditSink, type FileAuditSink, type FileAuditSinkOptions } from "./file-audit-sink.js";

/** `certs`: who signs checkpoints; none: the chain structure only (records not under a signed checkpoint pass as unverified). */
async function verifyFile(path: string, ring: KeyRing, certs: string[] = []): Promise<VerifyReport> {
  const v = createChainVerifier({ keyRing: ring, certificates: certs, allowUnsignedTail: certs.length === 0 });
  for await (const e of readAuditLogFile(path)) {
    if (e.kind === "record") v.addRecord(e.bytes, `${path}:${e.line}`, path);
    else if (e.kind === "checkpoint") v.addCheckpoint(e.bytes, `${path}:${e.line}`);
    else v.addMalformed(`${path}:${e.line}`, e.detail);
  }
  return v.finish();
}

describe("createFileAuditSink", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "credex-audit-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(["AES-256-GCM", "SM4-CTR+HMAC-SM3"] as const)("ok/N concurrent appends → N records in few commits, chain verifies (%s)", async (suite) => {
    const ring = generateKeyRing();
    const path = join(dir, "audit.log");
    const sink = await createFileAuditSink({ path, keyRing: ring, suite, instance: "gw-1" });
    const receipts = await Promise.all(Array.from({ length: 200 }, (_, i) => sink.append(sampleAuditEvent(i))));
    expect(new Set(receipts.map((r) => r.sequence)).size).toBe(200);
    expect(receipts.every((r) => r.medium === "file")).toBe(true);
    expect(sink.stats().records).toBe(200);
    expect(sink.stats().commits).toBeLessThan(200);
    await sink.close();
    expect(readFileSync(path, "utf8").trimEnd().split("\n")).toHaveLength(200);
    const report = await verifyFile(path, ring);
    expect(report.ok).toBe(true);
    expect(report.decrypted).toBe(200);
  });

  it("ok/restart continues the chain (with chain state and checkpoints)", async () => {
    const ring = generateKeyRing();
    const id = makeSigningIdentity("ec");
    const opts = { path: join(dir, "a.log"), keyRing: ring, suite: "AES-256-GCM" as const, instance: "gw-1", chainStatePath: join(dir, "chain.json"), checkpointSigner: createCheckpointSigner(id) };
    const s1 = await createFileAuditSink(opts);
    await Promise.all(Array.from({ length: 10 }, (_, i) => s1.append(sampleAuditEvent(i))));
    await s1.close();
    const s2 = await createFileAuditSink(opts);
    const r = await s2.append(sampleAuditEvent(10));
    expect(r.sequence).toBe(11n);
    await s2.close();
    const report = await verifyFile(opts.path, ring, [id.certificatePem]);
    expect(report.ok).toBe(true);
    expect(report.chains[0]).toMatchObject({ records: 11, lastSequence: 11n, checkpoints: 2 });
  });

  it("fail/a tampered line is detected with its line number", async () => {
    const ring = generateKeyRing();
    const path = join(dir, "audit.log");
    const sink = await createFileAuditSink({ path, keyRing: ring, suite: "AES-256-GCM", instance: "gw-1" });
    for (let i = 0; i < 5; i++) await sink.append(sampleAuditEvent(i));
    await sink.close();
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    const rec = decodeSealedRecord(Buffer.from(lines[2].slice(2), "base64"));
    rec.ciphertext[3] ^= 0x40;
    lines[2] = `R ${Buffer.from(encodeSealedRecord(rec)).toString("base64")}`;
    writeFileSync(path, `${lines.join("\n")}\n`);
    const report = await verifyFile(path, ring);
    expect(report.ok).toBe(false);
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "decrypt", sequence: 3n, position: `${path}:3` });
    expect(report.totalBreaks).toBe(2); // the record fails to open and the next link's prev_hash no longer matches
  });

  it("fail/refuses to start when the chain state is ahead of the file (records removed)", async () => {
    const ring = generateKeyRing();
    const opts = { path: join(dir, "a.log"), keyRing: ring, suite: "AES-256-GCM" as const, instance: "gw-1", chainStatePath: join(dir, "chain.json") };
    const s1 = await createFileAuditSink(opts);
    for (let i = 0; i < 3; i++) await s1.append(sampleAuditEvent(i));
    await s1.close();
    const lines = readFileSync(opts.path, "utf8").trimEnd().split("\n");
    writeFileSync(opts.path, `${lines.slice(0, 2).join("\n")}\n`);
    await expect(createFileAuditSink(opts)).rejects.toThrow(`chain state ${opts.chainStatePath} is at sequence 3 but ${opts.path} ends at 2: records are missing from the audit file`);
  });

  it("ok/the chain state trails the file by one commit while running (its fsync overlaps the next write) and catches up at close", async () => {
    const ring = generateKeyRing();
    const opts = { path: join(dir, "a.log"), keyRing: ring, suite: "AES-256-GCM" as const, instance: "gw-1", chainStatePath: join(dir, "chain.json") };
    const savedSequence = async () => {
      const st = await openChainStateFile({ path: opts.chainStatePath, instance: "gw-1" });
      await st.close();
      return st.head?.sequence ?? 0n;
    };
    const s1 = await createFileAuditSink(opts);
    for (let i = 0; i < 3; i++) await s1.append(sampleAuditEvent(i));
    // Three commits: the third saved the second's head, never one the file does not hold yet.
    expect(await savedSequence()).toBe(2n);
    // A crash now (no close) leaves the state behind the file, which is allowed: the chain continues.
    const s2 = await createFileAuditSink(opts);
    expect((await s2.append(sampleAuditEvent(3))).sequence).toBe(4n);
    await s2.close();
    expect(await savedSequence()).toBe(4n);
    expect((await verifyFile(opts.path, ring)).ok).toBe(true);
    await s1.close(); // the "crashed" one's handles
  });

  it("ok/a torn last line (crash mid-write) is dropped at start", async () => {
    const ring = generateKeyRing();
    const path = join(dir, "a.log");
    const s1 = await createFileAuditSink({ path, keyRing: ring, suite: "AES-256-GCM", instance: "gw-1" });
    await s1.append(sampleAuditEvent(0));
    await s1.close();
    appendFileSync(path, "R AAAA");
    const s2 = await createFileAuditSink({ path, keyRing: ring, suite: "AES-256-GCM", instance: "gw-1" });
    expect((await s2.append(sampleAuditEvent(1))).sequence).toBe(2n);
    await s2.close();
    expect((await verifyFile(path, ring)).ok).toBe(true);
  });

  it("fail/append after close is refused with AUDIT_UNAVAILABLE", async () => {
    const sink = await createFileAuditSink({ path: join(dir, "a.log"), keyRing: generateKeyRing(), suite: "AES-256-GCM", instance: "gw-1" });
    await sink.close();
    await expect(sink.append(sampleAuditEvent(0))).rejects.toMatchObject({ reason: "AUDIT_UNAVAILABLE" });
  });
});

describe("createFileAuditSink: the keyed chain state at start (issue 16, item 2)", () => {
  let dir: string;
  let pki: CheckpointPki;
  beforeAll(async () => {
    pki = await makeCheckpointPki();
  }, 60_000);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "credex-audit-state-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const ring = generateKeyRing();
  const trust = () => ({ signerAnchors: { ca: [pki.rootPem], trustDomain: pki.trustDomain } });
  const options = (over: Partial<FileAuditSinkOptions> = {}): FileAuditSinkOptions => ({
    path: join(dir, "audit.log"),
    keyRing: ring,
    suite: "AES-256-GCM",
    instance: "gw-1",
    chainStatePath: join(dir, "chain-state.json"),
    checkpointSigner: createCheckpointSigner(pki.gateway),
    trust: trust(),
    ...over,
  });
  async function written(n: number, over: Partial<FileAuditSinkOptions> = {}, close = true): Promise<FileAuditSink> {
    const sink = await createFileAuditSink(options(over));
    for (let i = 0; i < n; i++) await sink.append(sampleAuditEvent(i));
    if (close) await sink.close();
    return sink;
  }
  const lines = () => readFileSync(join(dir, "audit.log"), "utf8").trimEnd().split("\n");
  const keep = (l: string[]) => writeFileSync(join(dir, "audit.log"), `${l.join("\n")}\n`);

  it("ok/a first start in an empty directory; a clean stop and a crash (no close) both go on", async () => {
    await written(3);
    await written(2, {}, false); // killed: no close
    const again = await createFileAuditSink(options());
    expect((await again.append(sampleAuditEvent(9))).sequence).toBe(6n);
    await again.close();
    expect((await verifyFile(join(dir, "audit.log"), ring, [pki.gateway.certificatePem])).ok).toBe(true);
  });

  const refusals: Array<[string, () => void | Promise<void>, RegExp]> = [
    ["fail/the chain state deleted while the file holds records", () => rmSync(join(dir, "chain-state.json")), /the chain state .*chain-state\.json is missing \(or was never saved\) but .*audit\.log holds records of instance gw-1 up to sequence 3/],
    ["fail/the file deleted", () => rmSync(join(dir, "audit.log")), /chain state .* is at sequence 3 but .*audit\.log ends at 0: records are missing from the audit file/],
    ["fail/records added after a clean stop", () => writeFileSync(join(dir, "audit.log"), `${lines().join("\n")}\n${lines()[0]!.replace(/^R /, "R ")}\n`), /audit\.log:5: sequence 1 follows 3/],
    [
      "fail/the records rewritten from sequence 2 by a key-ring holder (hashes recomputed)",
      () => {
        const l = lines();
        const first = Buffer.from(l[0]!.slice(2), "base64");
        const forger = createAuditChain({ instance: "gw-1", sequence: 1n, headHash: recordHash(first) }, ring, SealSuite.AES_256_GCM);
        keep([l[0]!, ...[1, 2].map((i) => `R ${Buffer.from(forger.append(sampleAuditEvent(50 + i)).bytes).toString("base64")}`)]);
      },
      /chain state .* and .*audit\.log disagree on record 3: the audit file was altered/,
    ],
    [
      "fail/a chain state from another gateway key (not this CA's)",
      async () => {
        rmSync(join(dir, "chain-state.json"));
        const st = await openChainStateFile({ path: join(dir, "chain-state.json"), instance: "gw-1", key: () => createCheckpointSigner(makeSigningIdentity("ec")).stateKey });
        await st.save({ instance: "gw-1", sequence: 3n, headHash: recordHash(Buffer.from(lines()[2]!.slice(2), "base64")) }, { clean: true });
        await st.close();
      },
      /was saved under another key .* and no checkpoint of a clean stop was left with it/,
    ],
  ];
  it.each(refusals)("%s: refused (ChainStateError naming the file)", async (_name, attack, expected) => {
    await written(3);
    await attack();
    const refused = await createFileAuditSink(options()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ChainStateError);
    expect((refused as Error).message).toMatch(expected);
  });

  it("fail/a refused start leaves nothing behind: the state stays missing, the next start refuses the same way", async () => {
    await written(3);
    rmSync(join(dir, "chain-state.json"));
    for (let i = 0; i < 2; i++) await expect(createFileAuditSink(options())).rejects.toThrow(/chain-state\.json is missing/);
    expect(existsSync(join(dir, "chain-state.json"))).toBe(false);
    expect(lines()).toHaveLength(4);
  });

  it("fail/more records after an unclean stop than one commit writes", async () => {
    await written(3, {}, false);
    const l = lines();
    const head = Buffer.from(l[2]!.slice(2), "base64");
    const forger = createAuditChain({ instance: "gw-1", sequence: 3n, headHash: recordHash(head) }, ring, SealSuite.AES_256_GCM);
    keep([...l, ...[0, 1, 2].map((i) => `R ${Buffer.from(forger.append(sampleAuditEvent(60 + i)).bytes).toString("base64")}`)]);
    await expect(createFileAuditSink(options({ maxBatch: 2 }))).rejects.toThrow(/saved at sequence 2 before an unclean stop, but .* holds records up to sequence 6: more than one commit \(2 records\) beyond it/);
  });

  it("ok/the gateway's key was changed while it was stopped: the clean stop's checkpoint hands the state over", async () => {
    await written(3);
    const again = await createFileAuditSink(options({ checkpointSigner: createCheckpointSigner(pki.rotated) }));
    expect((await again.append(sampleAuditEvent(3))).sequence).toBe(4n);
    await again.close();
    const v = createChainVerifier({ keyRing: ring, signerAnchors: { ca: [pki.rootPem], trustDomain: pki.trustDomain } });
    for await (const e of readAuditLogFile(join(dir, "audit.log"))) {
      if (e.kind === "record") v.addRecord(e.bytes, String(e.line), "f");
      else if (e.kind === "checkpoint") v.addCheckpoint(e.bytes, String(e.line));
    }
    expect(v.finish()).toMatchObject({ ok: true, checkpoints: 2 });
  });

  it("ok/newChain: the refused state is kept aside, a record announcing the new chain (naming the last checkpoint) and a checkpoint follow the file's last record", async () => {
    const sink = await written(2, {}, false);
    await sink.checkpoint();
    for (let i = 2; i < 4; i++) await sink.append(sampleAuditEvent(i));
    await sink.close();
    keep(lines().slice(0, 4)); // R1 R2 C2 R3
    writeFileSync(join(dir, "chain-state.json"), "overwritten");
    const restarted = await createFileAuditSink(options({ newChain: true }));
    expect(restarted.restart).toMatchObject({ instance: "gw-1", sequence: 4n, previousCheckpoint: { sequence: 2n, position: `${join(dir, "audit.log")}:3` } });
    expect(restarted.restart?.reason).toMatch(/chain state .*chain-state\.json: 11 bytes, expected 18432/);
    expect(readFileSync(restarted.restart!.refusedStateKeptAs!, "utf8")).toBe("overwritten");
    await restarted.close();
    const report = await verifyFile(join(dir, "audit.log"), ring, [pki.gateway.certificatePem]);
    expect(report.chains[0]).toMatchObject({ restarts: 1, breaks: 1, firstBreak: { kind: "restart", sequence: 4n, detail: expect.stringContaining("records 3..3 are not covered by a checkpoint") } });
    // The new chain goes on from its own state.
    const next = await createFileAuditSink(options());
    expect((await next.append(sampleAuditEvent(9))).sequence).toBe(5n);
    await next.close();
  });
});
