import { describe, expect, it } from "vitest";
import { createJsonLogger } from "./json-logger.js";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const logger = createJsonLogger({ component: "gateway", ...(level ? { level } : {}), write: (l) => lines.push(l), clock: () => new Date("2026-01-02T03:04:05.678Z") });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createJsonLogger", () => {
  it("writes one JSON line with time, level, component, msg, trace_id first, then the fields", () => {
    const { logger, lines } = capture();
    logger.info("exchange", { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", agency: "pbccrc", records: 3, ok: true, skipped: undefined });
    expect(lines).toEqual([
      '{"time":"2026-01-02T03:04:05.678Z","level":"info","component":"gateway","msg":"exchange","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","agency":"pbccrc","records":3,"ok":true}\n',
    ]);
  });

  it("drops lines below its level and says which levels are enabled", () => {
    const { logger, parsed } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(parsed().map((l) => l["level"])).toEqual(["warn", "error"]);
    expect([logger.enabled("info"), logger.enabled("warn")]).toEqual([false, true]);
    expect(capture().logger.enabled("debug")).toBe(false);
  });

  it("tags child loggers with their component and never lets fields overwrite the reserved keys", () => {
    const { logger, parsed } = capture("debug");
    logger.child("posture").debug("checked", { level: "forged", msg: "forged", component: "forged", time: "forged", failing: 1 });
    expect(parsed()).toEqual([{ time: "2026-01-02T03:04:05.678Z", level: "debug", component: "posture", msg: "checked", failing: 1 }]);
  });

  it("escapes newlines so one call is one line", () => {
    const { logger, lines } = capture();
    logger.error("bad\nthing", { detail: "a\nb" });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split("\n")).toHaveLength(2);
  });
});
