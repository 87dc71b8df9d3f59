import { describe, expect, it } from "vitest";
import { createProgress } from "./progress.js";

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  return { stream: { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream, written };
}

describe("progress of long CLI operations", () => {
  it("draws a live line on a terminal, at most every 200 ms, and ends it with a newline when done", () => {
    const { stream, written } = fakeStream(true);
    let t = 1_000;
    const progress = createProgress("verify:", stream, () => t);
    progress(10, 100, "kafka");
    t += 50;
    progress(20, 100, "kafka"); // too soon: skipped
    t += 200;
    progress(50, 100, "kafka");
    progress(100, 100, "kafka"); // the end is always drawn
    expect(written).toHaveLength(3);
    expect(written[1]).toContain("50/100 (50%)");
    expect(written[2]).toMatch(/100\/100 \(100%\)\n$/);
  });

  it("stays quiet when stderr is not a terminal (piped, redirected, CI)", () => {
    const { stream, written } = fakeStream(false);
    const progress = createProgress("verify:", stream);
    progress(1, 2, "x");
    progress(2, 2, "x");
    expect(written).toEqual([]);
  });
});
