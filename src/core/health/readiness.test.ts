import { describe, expect, it } from "vitest";
import { readinessOf } from "./readiness.js";

describe("readiness", () => {
  it("fail/starting: not ready until the start has loaded the gateway's state", () => {
    expect(readinessOf("starting", undefined)).toEqual({ ready: false, phase: "starting", waitingFor: ["start: audit chain, control topic and member state not loaded yet"] });
  });

  it("ok/serving with a file sink (no spool figures)", () => {
    expect(readinessOf("serving", { queued: 3 })).toEqual({ ready: true, phase: "serving", waitingFor: [] });
  });

  // No audit, no answer: a full spool fails every exchange closed, so the replica leaves the Service.
  it("fail/serving with the Kafka sink's spool full", () => {
    expect(readinessOf("serving", { spoolDepth: 100, spoolMaxRecords: 100, kafkaReachable: false })).toMatchObject({ ready: false, waitingFor: ["audit: spool full, Kafka unreachable"] });
  });

  it("ok/serving while Kafka is away and the spool has room: the spool keeps answers audited", () => {
    expect(readinessOf("serving", { spoolDepth: 99, spoolMaxRecords: 100, kafkaReachable: false }).ready).toBe(true);
  });

  it("fail/draining: no new exchanges once SIGTERM arrived", () => {
    expect(readinessOf("draining", { spoolDepth: 0, spoolMaxRecords: 100 })).toMatchObject({ ready: false, phase: "draining" });
  });
});
