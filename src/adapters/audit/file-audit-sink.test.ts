import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeSigningIdentity, sampleAuditEvent } from "../../../test/support/audit-fixtures.js";
import { openChainStateFile } from "../../core/audit/audit-chain.js";
import { createCheckpointSigner } from "../../core/audit/checkpoint.js";
import { generateKeyRing } from "../../core/audit/key-ring.js";
import { decodeSealedRecord, encodeSealedRecord } from "../../core/audit/seal.js";
import { createChainVerifier, type VerifyReport } from "../../core/audit/verify-chain.js";
import type { KeyRing } from "../../core/audit/key-ring.js";
import { readAuditLogFile } from "./audit-log-file.js";
import { createFileAuditSink } from "./file-audit-sink.js";

async function verifyFile(path: string, ring: KeyRing, certs: string[] = []): Promise<VerifyReport> {
  const v = createChainVerifier({ keyRing: ring, certificates: certs });
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
      const st = await openChainStateFile(opts.chainStatePath, "gw-1");
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
