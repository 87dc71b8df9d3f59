import { describe, expect, it } from "vitest";
import { createGroupCommitter } from "./group-commit.js";

describe("createGroupCommitter", () => {
  it("ok/concurrent submissions share commits, in order", async () => {
    const batches: number[][] = [];
    const g = createGroupCommitter<number, number>(async (items) => {
      batches.push([...items]);
      await new Promise((r) => setTimeout(r, 5));
      return items.map((i) => i * 10);
    });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => g.submit(i)));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i * 10));
    expect(batches.flat()).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(batches.length).toBe(1);
  });
  it("ok/items submitted during a commit form the next batch", async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const g = createGroupCommitter<number, number>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await gate;
      return [...items];
    });
    const first = g.submit(0);
    await Promise.resolve();
    await Promise.resolve();
    const rest = [1, 2, 3].map((i) => g.submit(i));
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[0], [1, 2, 3]]);
  });
  it("fail/a thrown commit rejects its batch only; per-item errors reject that item", async () => {
    let n = 0;
    const g = createGroupCommitter<number, number>(async (items) => {
      n++;
      if (n === 1) throw new Error("disk");
      return items.map((i) => (i === 7 ? new Error("bad item") : i));
    });
    await expect(g.submit(1)).rejects.toThrow("disk");
    await expect(Promise.all([g.submit(6), g.submit(8)])).resolves.toEqual([6, 8]);
    await expect(g.submit(7)).rejects.toThrow("bad item");
  });
  it("ok/maxBatch bounds a commit", async () => {
    const sizes: number[] = [];
    const g = createGroupCommitter<number, number>(async (items) => {
      sizes.push(items.length);
      return [...items];
    }, { maxBatch: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => g.submit(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });
});
