import { describe, expect, it } from "vitest";
import type { AuditSink } from "../core/audit-sink.js";
import type { AuditEvent } from "../gen/credex/v1/audit_pb.js";
import { recordAuditWaits } from "./audit-wait.js";

function delayedSink(ms: number, fail = false): AuditSink & { appended: number } {
  const s = {
    appended: 0,
    append: async () => {
      s.appended++;
      await new Promise((r) => setTimeout(r, ms));
      if (fail) throw new Error("audit down");
      return { medium: "test", position: String(s.appended) };
    },
    flush: async () => undefined,
    close: async () => undefined,
    describe: () => "delayed",
  };
  return s;
}

const event = {} as AuditEvent;

describe("recordAuditWaits", () => {
  it("records the wait of each append only between start and stop, and passes results through", async () => {
    const inner = delayedSink(20);
    const rec = recordAuditWaits(inner);
    await rec.sink.append(event);
    expect(rec.stop()).toBeUndefined();
    rec.start();
    const receipts = await Promise.all([rec.sink.append(event), rec.sink.append(event)]);
    const waits = rec.stop();
    await rec.sink.append(event);
    expect(receipts.map((r) => r.medium)).toEqual(["test", "test"]);
    expect(inner.appended).toBe(4);
    expect(waits).toBeDefined();
    expect(waits!.p50).toBeGreaterThanOrEqual(15);
    expect(waits!.max).toBeLessThan(1_000);
  });

  it("records failed appends too and does not swallow their error", async () => {
    const rec = recordAuditWaits(delayedSink(5, true));
    rec.start();
    await expect(rec.sink.append(event)).rejects.toThrow("audit down");
    expect(rec.stop()?.p50).toBeGreaterThan(0);
  });
});
