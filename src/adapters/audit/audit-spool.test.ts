import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openAuditSpool } from "./audit-spool.js";

const rec = (i: number) => Buffer.from(`record-${i}`);

describe("openAuditSpool", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "credex-spool-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("ok/appends, delivers in order, survives a restart mid-drain, empties when drained", async () => {
    const path = join(dir, "spool");
    const s1 = await openAuditSpool(path);
    await s1.append([rec(1), rec(2), rec(3)]);
    await s1.append([rec(4)]);
    expect(s1.depth()).toBe(4);
    expect(s1.peek(2).map(String)).toEqual(["record-1", "record-2"]);
    await s1.markDelivered(2);
    await s1.close();

    const s2 = await openAuditSpool(path);
    expect(s2.depth()).toBe(2);
    expect(s2.peek(10).map(String)).toEqual(["record-3", "record-4"]);
    expect(String(s2.lastRecord())).toBe("record-4");
    await s2.markDelivered(2);
    expect(s2.depth()).toBe(0);
    expect(statSync(path).size).toBe(0);
    await s2.append([rec(5)]);
    await s2.close();

    const s3 = await openAuditSpool(path);
    expect(s3.peek(10).map(String)).toEqual(["record-5"]);
    await s3.close();
  });

  it("ok/a cursor left beyond an emptied file (crash after truncation) reads as 0", async () => {
    const path = join(dir, "spool");
    writeFileSync(path, "");
    writeFileSync(`${path}.cursor`, `{"delivered":7}\n`);
    const s = await openAuditSpool(path);
    await s.append([rec(1)]);
    await s.close();
    const again = await openAuditSpool(path);
    expect(again.depth()).toBe(1);
    expect(readFileSync(`${path}.cursor`, "utf8")).toBe(`{"delivered":0}\n`);
    await again.close();
  });

  it("fail/more delivered than pending", async () => {
    const s = await openAuditSpool(join(dir, "spool"));
    await s.append([rec(1)]);
    await expect(s.markDelivered(2)).rejects.toThrow("cannot mark 2 spool entries delivered: only 1 pending");
    await s.close();
  });
});
