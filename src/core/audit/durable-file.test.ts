import { constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openDurableFile } from "./durable-file.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "credex-durable-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("openDurableFile", () => {
  it("with O_DSYNC: positional writes and appends land, one system call each (no separate fdatasync)", async () => {
    const path = join(dir, "slots");
    const f = await openDurableFile(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    const datasync = vi.spyOn(f.handle, "datasync");
    await f.write(Buffer.from("aaaa"), 0, 4, 0);
    await f.write(Buffer.from("bb"), 0, 2, 1);
    await f.handle.close();
    expect(readFileSync(path, "utf8")).toBe("abba");
    expect(datasync).not.toHaveBeenCalled();
  });

  it("without O_DSYNC on the platform: every write is followed by an fdatasync", async () => {
    const path = join(dir, "log");
    const f = await openDurableFile(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600, 0);
    const datasync = vi.spyOn(f.handle, "datasync");
    await f.write(Buffer.from("one\n"));
    await f.write(Buffer.from("two\n"));
    await f.handle.close();
    expect(readFileSync(path, "utf8")).toBe("one\ntwo\n");
    expect(datasync).toHaveBeenCalledTimes(2);
  });
});
