import { describe, expect, it } from "vitest";
import { randomTraceId } from "./trace-id.js";

describe("randomTraceId", () => {
  it("gives 32 lowercase hex digits, distinct across pool refills", () => {
    const ids = Array.from({ length: 1_000 }, () => randomTraceId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain("0".repeat(32));
  });
});
