import { appendFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LogBatch, LogRecord } from "../../core/lists/list-log.js";
import { openFileListLog } from "./file-list-log.js";

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
});
