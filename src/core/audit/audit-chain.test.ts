import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SealSuite } from "../../gen/credex/v1/audit_pb.js";
import { sampleAuditEvent } from "../../../test/support/audit-fixtures.js";
import { createAuditChain, GENESIS_HASH, genesisHead, openChainStateFile, recordHash } from "./audit-chain.js";
import { generateKeyRing } from "./key-ring.js";
import { decodeSealedRecord } from "./seal.js";

describe("createAuditChain", () => {
  it("ok/sequences from 1, each prev_hash is the SHA-256 of the previous record's bytes", () => {
    const chain = createAuditChain(genesisHead("gw-1"), generateKeyRing(), SealSuite.AES_256_GCM);
    const a = chain.append(sampleAuditEvent(1));
    const b = chain.append(sampleAuditEvent(2));
    expect(a.record.sequence).toBe(1n);
    expect(Buffer.from(a.record.prevHash).equals(Buffer.from(GENESIS_HASH))).toBe(true);
    expect(Buffer.from(decodeSealedRecord(b.bytes).prevHash).equals(Buffer.from(recordHash(a.bytes)))).toBe(true);
    expect(chain.head()).toMatchObject({ sequence: 2n });
  });
});

describe("openChainStateFile", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "credex-chain-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const head = (n: number) => ({ instance: "gw-1", sequence: BigInt(n), headHash: new Uint8Array(32).fill(n) });

  it("ok/new file has no head; the last save wins after reopen", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(path, "gw-1");
    expect(s1.head).toBeUndefined();
    for (let i = 1; i <= 5; i++) await s1.save(head(i));
    await s1.close();
    const s2 = await openChainStateFile(path, "gw-1");
    expect(s2.head).toEqual({ ...head(5), headHash: Buffer.from(head(5).headHash) });
    await s2.close();
  });
  it("ok/a torn slot falls back to the previous head", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(path, "gw-1");
    await s1.save(head(1));
    await s1.save(head(2));
    await s1.close();
    const buf = readFileSync(path);
    buf.write("garbage", 512 + 10); // slot 1 holds sequence 2
    writeFileSync(path, buf);
    const s2 = await openChainStateFile(path, "gw-1");
    expect(s2.head?.sequence).toBe(1n);
    await s2.save(head(3));
    await s2.close();
    const s3 = await openChainStateFile(path, "gw-1");
    expect(s3.head?.sequence).toBe(3n);
    await s3.close();
  });
  it("fail/another instance's state", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(path, "gw-1");
    await s1.save(head(1));
    await s1.close();
    await expect(openChainStateFile(path, "gw-2")).rejects.toThrow(`chain state ${path}: belongs to instance "gw-1", not "gw-2"`);
  });
  it("ok/created but never saved (killed before the first record) reopens as new", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(path, "gw-1");
    await s1.close();
    const s2 = await openChainStateFile(path, "gw-1");
    expect(s2.head).toBeUndefined();
    await s2.save(head(1));
    await s2.close();
    const s3 = await openChainStateFile(path, "gw-1");
    expect(s3.head?.sequence).toBe(1n);
    await s3.close();
  });
  it("ok/a resume hint (clean flag, partition offsets) comes back with its head; a slot without one has none", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(path, "gw-1");
    await s1.save(head(1));
    await s1.close();
    const s2 = await openChainStateFile(path, "gw-1");
    expect(s2.resume).toBeUndefined();
    await s2.save(head(2), { clean: false, topic: "credex.audit.v1", offsets: [5n, 0n, 12345678901234n] });
    await s2.close();
    const s3 = await openChainStateFile(path, "gw-1");
    expect(s3.head?.sequence).toBe(2n);
    expect(s3.resume).toEqual({ clean: false, topic: "credex.audit.v1", offsets: [5n, 0n, 12345678901234n] });
    await s3.close();
  });
  it("ok/one head saved unclean and clean: the unclean slot wins, whichever was written last", async () => {
    for (const order of [[false, true], [true, false]]) {
      const path = join(dir, `tie-${order.join("-")}`);
      const s1 = await openChainStateFile(path, "gw-1");
      for (const clean of order) await s1.save(head(7), { clean });
      await s1.close();
      const s2 = await openChainStateFile(path, "gw-1");
      expect(s2.resume?.clean, `saved ${order.join(" then ")}`).toBe(false);
      await s2.close();
    }
  });
  it("ok/offsets of too many partitions for a slot are left out, not the hint", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(path, "gw-1");
    await s1.save(head(3), { clean: false, offsets: Array.from({ length: 200 }, () => 10n ** 15n) });
    await s1.close();
    const s2 = await openChainStateFile(path, "gw-1");
    expect(s2.resume).toEqual({ clean: false });
    await s2.close();
  });
  it("ok/the longest instance name and topic the config allows fit a slot, with the largest sequence", async () => {
    const path = join(dir, "long");
    const instance = "i".repeat(64);
    const s1 = await openChainStateFile(path, instance);
    const last = { instance, sequence: 2n ** 64n - 1n, headHash: new Uint8Array(32).fill(0xab) };
    await s1.save(last, { clean: false, topic: "t".repeat(200), offsets: [1n, 2n, 3n] });
    await s1.close();
    const s2 = await openChainStateFile(path, instance);
    expect(s2.head?.sequence).toBe(2n ** 64n - 1n);
    expect(s2.resume).toMatchObject({ clean: false, topic: "t".repeat(200) });
    await s2.close();
  });
  it("fail/both slots corrupt", async () => {
    const path = join(dir, "s");
    writeFileSync(path, Buffer.alloc(1024, 0x41));
    await expect(openChainStateFile(path, "gw-1")).rejects.toThrow(`chain state ${path}: no valid slot (corrupt)`);
  });
});
