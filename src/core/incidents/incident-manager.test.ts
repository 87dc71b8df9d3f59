import { describe, expect, it } from "vitest";
import { createIncidentManager } from "./incident-manager.js";
import { createMemoryIncidentStore } from "./incident-store.js";
import { reportingDeadline } from "./incident.js";
import type { Detector } from "./detector.js";
import type { ExchangeObservation } from "./security-event.js";
import { CredexError } from "../errors.js";

const at = new Date("2026-01-05T09:00:00Z");
const echo: Detector = {
  name: "echo",
  observeExchange: (o) => (o.reason ? [{ detector: "echo", key: o.agencyId ?? "?", category: "network-attack", level: o.reason === "HIGH" ? "II" : "IV", summary: "s", exchangeIds: [o.exchangeId], pseudonyms: ["p1"], count: 1 }] : []),
};
const obs = (id: string, reason?: string): ExchangeObservation => ({ exchangeId: id, at, agencyId: "bank-a", authenticated: true, certSerial: "0A1B", providers: [], reason });

function manager() {
  let n = 0;
  return createIncidentManager({ detectors: [echo], store: createMemoryIncidentStore(), gatewayInstance: "gw-1", operatorClass: "critical-infrastructure", clock: () => at, newId: () => `inc-${++n}` });
}

describe("incident manager", () => {
  it("opens one incident per detector+key and accumulates evidence", () => {
    const m = manager();
    m.observe(obs("x1", "LOW"));
    m.observe(obs("x2", "LOW"));
    m.observe(obs("x3"));
    const list = m.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: "inc-1", detector: "echo", key: "bank-a", agency: "bank-a", state: "open", level: "IV", reportBy: undefined });
    expect(list[0]!.evidence).toMatchObject({ exchangeIds: ["x1", "x2"], count: 2, pseudonyms: ["p1"], attributes: { cert_serial: "0A1B" } });
  });

  it("escalates the level and sets the 1-hour reporting deadline for level III+ (critical infrastructure)", () => {
    const m = manager();
    m.observe(obs("x1", "LOW"));
    m.observe(obs("x2", "HIGH"));
    const i = m.get("inc-1")!;
    expect(i.level).toBe("II");
    expect(i.reportBy).toBe("2026-01-05T10:00:00.000Z");
    expect(i.timeline.map((t) => t.kind)).toEqual(["opened", "escalated"]);
    expect(reportingDeadline("III", "other", at)?.toISOString()).toBe("2026-01-05T13:00:00.000Z");
    expect(reportingDeadline("III", "state-organ", at)?.toISOString()).toBe("2026-01-05T11:00:00.000Z");
  });

  it("moves through its states with a timeline; a resolved incident frees its key", () => {
    const m = manager();
    m.observe(obs("x1", "LOW"));
    m.transition("inc-1", "acknowledged", "admin/security/alice", "looking");
    m.transition("inc-1", "resolved", "admin/security/alice");
    expect(() => m.transition("inc-1", "contained", "admin/security/alice")).toThrowError(expect.objectContaining({ reason: "INCIDENT_STATE_INVALID" }) as CredexError);
    expect(() => m.transition("nope", "resolved", "x")).toThrowError(expect.objectContaining({ reason: "INCIDENT_NOT_FOUND" }) as CredexError);
    m.observe(obs("x2", "LOW"));
    expect(m.list().map((i) => [i.id, i.state])).toEqual([["inc-1", "resolved"], ["inc-2", "open"]]);
    expect(m.get("inc-1")!.timeline.map((t) => t.text)).toEqual(["s", "open → acknowledged: looking", "acknowledged → resolved"]);
  });

  it("a throwing detector or listener never breaks observation", () => {
    const bad: Detector = { name: "bad", observeExchange: () => { throw new Error("boom"); } };
    const m = createIncidentManager({ detectors: [bad, echo], store: createMemoryIncidentStore(), gatewayInstance: "gw", operatorClass: "other" });
    m.subscribe(() => { throw new Error("listener"); });
    m.observe(obs("x1", "LOW"));
    expect(m.list()).toHaveLength(1);
    expect(m.errors).toHaveLength(2);
  });
});
