import { describe, expect, it } from "vitest";
import { createDisclosureLateDetector } from "./disclosure-late.js";

const at = new Date("2026-12-10T02:00:00Z");

describe("disclosure-late (7 working days, NDRC 发改办财金〔2015〕2700号)", () => {
  it("raises one level IV incident per late entry, naming its owner, and ignores other events", () => {
    const d = createDisclosureLateDetector();
    const event = {
      kind: "disclosure-late" as const,
      at,
      ownerAgency: "csrc",
      entryId: "e-1",
      category: "administrative_penalty",
      decisionDate: new Date("2026-11-20T02:00:00Z"),
      lagWorkingDays: 14,
      maxLagWorkingDays: 7,
    };
    expect(d.observeEvent!(event)).toEqual([
      expect.objectContaining({
        detector: "disclosure-late",
        key: "csrc/e-1",
        level: "IV",
        summary: expect.stringContaining("14 working days after the decision of 2026-11-20"),
        attributes: expect.objectContaining({ owner: "csrc", entry_id: "e-1", lag_working_days: "14" }),
      }),
    ]);
    expect(d.observeEvent!({ kind: "policy-rejected", at, revision: "r", problem: "p" })).toEqual([]);
  });
});
