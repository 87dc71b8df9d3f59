import { mkdtempSync, rmSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ControlRecord } from "../../core/control/control-channel.js";
import { createFileControlChannel } from "./file-control-channel.js";

const dir = mkdtempSync(join(tmpdir(), "credex-control-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("file control channel", () => {
  it("ok/replay-then-tail: a subscriber gets what was there, then what is appended", async () => {
    const file = join(dir, "control.jsonl");
    const channel = createFileControlChannel(file, { pollMs: 20 });
    await channel.publish({ key: "revocation/01", value: Buffer.from("one") });
    const seen: ControlRecord[] = [];
    const sub = await channel.subscribe((r) => seen.push(r));
    expect(seen.map((r) => [r.key, Buffer.from(r.value).toString()])).toEqual([["revocation/01", "one"]]);
    await channel.publish({ key: "revocation/02", value: Buffer.from("two") });
    // Polling picks the appended line up; wait for it without a timed assertion.
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.from(seen[1]!.value).toString()).toBe("two");
    await sub.close();
    await channel.close();
  });

  it("ok/garbage-line: a line that is not JSON is delivered as an unkeyed record (the consumer refuses and reports it)", async () => {
    const file = join(dir, "garbage.jsonl");
    appendFileSync(file, "not json\n");
    const channel = createFileControlChannel(file);
    const seen: ControlRecord[] = [];
    const sub = await channel.subscribe((r) => seen.push(r));
    expect(seen).toEqual([{ key: "", value: Buffer.from("not json") }]);
    await sub.close();
  });
});
