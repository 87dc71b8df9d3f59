import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LogBatch, LogRecord } from "../../core/lists/list-log.js";
import { openFileListLog } from "./file-list-log.js";
import { sealListLog } from "../../core/lists/sealed-list-log.js";
import { createByteSealer } from "../../core/audit/seal.js";
import { generateKeyRing } from "../../core/audit/key-ring.js";
import { SealSuite } from "../../gen/credex/v1/audit_pb.js";
import type { CredexError } from "../../core/errors.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempLog(): string {
  const dir = mkdtempSync(join(tmpdir(), "credex-list-log-"));
  dirs.push(dir);
  return join(dir, "lists", "log");
}
const msg = (n: number) => ({ key: `k${n}`, value: new TextEncoder().encode(`v${n}`) });

describe("file list log", () => {
  it("appends with offsets, reads from a position, then follows new records", async () => {
    const log = await openFileListLog(tempLog(), "embedded");
    expect(await log.append([msg(0), msg(1), msg(2)])).toEqual([0n, 1n, 2n].map((offset) => ({ partition: 0, offset })));
    const seen: LogRecord[] = [];
    let wake: () => void = () => undefined;
    const reader = await log.read(new Map([[0, 1n]]), async (batch: LogBatch) => {
      seen.push(...batch.records);
      wake();
    });
    const until = (n: number) => new Promise<void>((resolve) => {
      wake = () => seen.length >= n && resolve();
      wake();
    });
    await until(2);
    await log.append([msg(3)]);
    await until(3);
    expect(seen.map((r) => [r.offset, r.key])).toEqual([[1n, "k1"], [2n, "k2"], [3n, "k3"]]);
    expect(await log.endPosition()).toEqual(new Map([[0, 4n]]));
    await reader.close();
    await log.close();
  });

  it("keeps its records across a reopen and cuts off a torn tail", async () => {
    const path = tempLog();
    const log = await openFileListLog(path);
    await log.append([msg(0), msg(1)]);
    await log.close();
    const good = statSync(path).size;
    appendFileSync(path, Buffer.from([0, 0, 0, 50, 0, 2, 1, 2])); // a frame header whose body never made it to disk
    const reopened = await openFileListLog(path);
    expect(statSync(path).size).toBe(good);
    expect(await reopened.endPosition()).toEqual(new Map([[0, 2n]]));
    expect(await reopened.append([msg(2)])).toEqual([{ partition: 0, offset: 2n }]);
    await reopened.close();
  });

  it("ok/written 0600 in directories it creates 0700, also when the file was left wider (issue 16 item 10)", async () => {
    const path = tempLog();
    const log = await openFileListLog(path);
    await log.append([msg(0)]);
    await log.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    chmodSync(path, 0o644);
    await (await openFileListLog(path)).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe("sealed list log (issue 16 item 10)", () => {
  const ring = generateKeyRing("k1");
  const entryBytes = new TextEncoder().encode("subject 91230184MA1BUFLT44, measure, case (2026)沪01执1号");

  it.each([SealSuite.AES_256_GCM, SealSuite.SM4_CTR_HMAC_SM3])("ok/suite %s: the file holds only the key and sealed bytes; reading returns the entry", async (suite) => {
    const path = tempLog();
    const log = sealListLog(await openFileListLog(path), createByteSealer(ring, suite, "lists"));
    await log.append([{ key: "dishonest_debtors/pseudonym-1", value: entryBytes }]);
    const raw = readFileSync(path);
    expect(raw.includes(Buffer.from("91230184MA1BUFLT44"))).toBe(false);
    expect(raw.includes(Buffer.from("dishonest_debtors/pseudonym-1"))).toBe(true);
    const seen: LogRecord[] = [];
    const reader = await log.read(new Map(), async (batch) => void seen.push(...batch.records));
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 5));
    await reader.close();
    expect(Buffer.from(seen[0]!.value).equals(Buffer.from(entryBytes))).toBe(true);
    await log.close();
  });

  it.each([
    ["fail/a record moved to another key (another subject's pseudonym)", (bytes: Buffer) => bytes.toString("latin1").replace("pseudonym-1", "pseudonym-2")],
    ["fail/a record altered in place", (bytes: Buffer) => Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([bytes[bytes.length - 1]! ^ 1])]).toString("latin1")],
  ])("%s does not open: the reader fails with LIST_LOG_UNAVAILABLE", async (_name, tamper) => {
    const path = tempLog();
    const sealer = createByteSealer(ring, SealSuite.AES_256_GCM, "lists");
    const log = sealListLog(await openFileListLog(path), sealer);
    await log.append([{ key: "dishonest_debtors/pseudonym-1", value: entryBytes }]);
    await log.close();
    // Keep the frame's own check valid: an attacker who can write the disk can recompute it.
    const bytes = readFileSync(path);
    const key = bytes.subarray(10, 10 + bytes.readUInt16BE(4));
    const tampered = Buffer.from(tamper(bytes), "latin1");
    const newKey = tampered.subarray(10, 10 + key.length);
    const value = tampered.subarray(10 + key.length);
    const check = createHash("sha256").update(newKey).update(value).digest().subarray(0, 4);
    check.copy(tampered, 6);
    writeFileSync(path, tampered);
    const reopened = sealListLog(await openFileListLog(path), sealer);
    expect(await reopened.endPosition()).toEqual(new Map([[0, 1n]]));
    const reader = await reopened.read(new Map(), async () => undefined);
    const failure = await reader.done.then(() => undefined, (err: CredexError) => err);
    expect(failure?.reason).toBe("LIST_LOG_UNAVAILABLE");
    await reopened.close();
  });
});
