import { describe, expect, it } from "vitest";
import { incidentFromMessage, incidentMessageOf } from "./incident-message.js";
import type { Incident } from "./incident.js";

describe("Incident message", () => {
  it("round-trips an incident through the GatewayAdmin message", () => {
    const i: Incident = {
      id: "inc-1",
      detector: "subject-enumeration",
      key: "bank-a",
      category: "information-destruction",
      level: "III",
      summary: "harvest",
      gatewayInstance: "gw-1",
      agency: "bank-a",
      openedAt: "2026-01-05T09:00:00.000Z",
      updatedAt: "2026-01-05T09:01:00.000Z",
      reportBy: "2026-01-05T10:00:00.000Z",
      state: "contained",
      evidence: { exchangeIds: ["x1"], count: 100, pseudonyms: ["ab"], attributes: { threshold: "100" } },
      timeline: [{ at: "2026-01-05T09:00:00.000Z", kind: "opened", actor: "detector:subject-enumeration", text: "harvest", details: { level: "III" } }],
    };
    expect(incidentFromMessage(incidentMessageOf(i))).toEqual(i);
  });
});
