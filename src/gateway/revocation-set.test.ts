import { describe, expect, it } from "vitest";
import { CredexError } from "../core/errors.js";
import { RevocationSet } from "./revocation-set.js";

const refusal = (f: () => unknown): Pick<CredexError, "reason" | "message" | "metadata"> => {
  try {
    f();
  } catch (err) {
    if (err instanceof CredexError) return { reason: err.reason, message: err.message, metadata: err.metadata };
    throw err;
  }
  throw new Error("expected a CredexError");
};

describe("revocation set: who may undo what (issue 16, item 5)", () => {
  it("ok/each revocation keeps its source; lookup gives the CA's first", () => {
    const set = new RevocationSet();
    set.add("00ab", "drill", { source: "officer", by: "admin/security/alice" });
    set.add("AB", "keyCompromise", { source: "ca-control", by: "f".repeat(64), revokedAt: new Date("2026-11-26T01:00:00Z") });
    expect(set.lookup("ab")).toMatchObject({ reason: "keyCompromise", source: "ca-control" });
    expect(set.sources("AB").map((r) => [r.source, r.by])).toEqual([
      ["ca-control", "f".repeat(64)],
      ["officer", "admin/security/alice"],
    ]);
    expect(set.size()).toBe(1);
  });

  const cases: Array<{ name: string; setup: (s: RevocationSet) => void; lifts?: string[]; refused?: { reason: string; source?: string } }> = [
    { name: "ok/an officer's own revocation", setup: (s) => s.add("C1", "drill", { source: "officer" }), lifts: ["officer"] },
    { name: "ok/a playbook's revocation (reversible by an officer)", setup: (s) => s.add("C1", "incident inc-1", { source: "playbook" }), lifts: ["playbook"] },
    {
      name: "ok/officer and playbook together",
      setup: (s) => {
        s.add("C1", "incident inc-1", { source: "playbook" });
        s.add("C1", "drill", { source: "officer" });
      },
      lifts: ["playbook", "officer"],
    },
    { name: "fail/the CA's signed control item", setup: (s) => s.add("C1", "keyCompromise", { source: "ca-control" }), refused: { reason: "REVOCATION_NOT_LIFTABLE", source: "ca-control" } },
    { name: "fail/the CA's CRL", setup: (s) => s.replaceAll([["C1", { reason: "keyCompromise", revokedAt: new Date() }]]), refused: { reason: "REVOCATION_NOT_LIFTABLE", source: "crl" } },
    {
      name: "fail/an officer's revocation the CA revoked too: nothing is lifted",
      setup: (s) => {
        s.add("C1", "drill", { source: "officer" });
        s.add("C1", "keyCompromise", { source: "ca-control" });
      },
      refused: { reason: "REVOCATION_NOT_LIFTABLE", source: "ca-control" },
    },
    { name: "fail/a serial that is not revoked", setup: () => undefined, refused: { reason: "ADMIN_TARGET_UNKNOWN" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const set = new RevocationSet();
      c.setup(set);
      const before = set.sources("C1").map((r) => r.source);
      if (c.refused) {
        const e = refusal(() => set.officerLiftable("c1"));
        expect([e.reason, e.metadata["source"]]).toEqual([c.refused.reason, c.refused.source]);
        expect(set.sources("C1").map((r) => r.source)).toEqual(before);
        return;
      }
      expect(set.officerLiftable("C1").map((r) => r.source).sort()).toEqual([...c.lifts!].sort());
      expect(set.remove("C1").map((r) => r.source).sort()).toEqual([...c.lifts!].sort());
      expect(set.lookup("C1")).toBeUndefined();
    });
  }

  it("fail/remove never lifts the CA's revocations, whatever sources are asked", () => {
    const set = new RevocationSet();
    set.add("C1", "keyCompromise", { source: "ca-control" });
    set.replaceAll([["C2", { reason: "superseded", revokedAt: new Date() }]]);
    expect(set.remove("C1")).toEqual([]);
    expect(set.remove("C2")).toEqual([]);
    expect([set.lookup("C1")?.source, set.lookup("C2")?.source]).toEqual(["ca-control", "crl"]);
  });

  it("ok/a CRL without the serial lifts the CRL's revocation; one from a control item stays", () => {
    const set = new RevocationSet();
    set.replaceAll([["C1", { reason: "certificateHold", revokedAt: new Date() }]]);
    set.add("C2", "keyCompromise", { source: "ca-control" });
    set.replaceAll([]);
    expect(set.lookup("C1")).toBeUndefined();
    expect(set.lookup("C2")?.source).toBe("ca-control");
  });
});
