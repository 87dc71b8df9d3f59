import { describe, expect, it, vi } from "vitest";
import { SpecialAccessRegistry, type ApplyInput } from "./special-access-registry.js";
import { CredexError } from "../errors.js";

const t0 = new Date("2026-11-26T08:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const application: ApplyInput = {
  requesterAgency: "pbccrc",
  requesterCertFingerprint: "aa",
  ownerAgency: "csrc",
  subjectPseudonym: "ps-1",
  categories: ["securities_holding"],
  purpose: "LOAN_APPROVAL",
  justification: "Margin loan collateral check, case 2026-117",
  durationSeconds: 3600,
};
const query = { requesterAgency: "pbccrc", subjectPseudonym: "ps-1", purpose: "LOAN_APPROVAL", categories: ["securities_holding"] };

function reasonOf(fn: () => unknown): string {
  try {
    fn();
    return "OK";
  } catch (err) {
    return (err as CredexError).reason;
  }
}

function approved(maxUses = 2, validSeconds = 0) {
  const onChange = vi.fn();
  const registry = new SpecialAccessRegistry(onChange);
  const a = registry.apply(application, t0);
  const decided = registry.decide({ applicationId: a.applicationId, approverAgency: "csrc", approverCertFingerprint: "bb", approve: true, maxUses, validSeconds, note: "ok" }, at(10));
  return { registry, grantId: decided.grantId!, onChange, decided };
}

describe("special applications", () => {
  it("ok/pending until the owner's approver decides; the grant takes effect at once", () => {
    const { registry, grantId, decided, onChange } = approved();
    expect(decided).toMatchObject({ state: "APPROVED", maxUses: 2, usesLeft: 2, expiresAt: at(10 + 3600).toISOString() });
    expect(registry.use(grantId, query, at(20))).toMatchObject({ ownerAgency: "csrc", usesLeft: 1 });
    expect(onChange).toHaveBeenCalledTimes(3);
  });

  it("fail/the requesting certificate cannot approve (separation of duties)", () => {
    const registry = new SpecialAccessRegistry();
    const a = registry.apply({ ...application, ownerAgency: "pbccrc" }, t0);
    expect(reasonOf(() => registry.decide({ applicationId: a.applicationId, approverAgency: "pbccrc", approverCertFingerprint: "aa", approve: true, maxUses: 1, validSeconds: 0, note: "" }, t0))).toBe("SEPARATION_OF_DUTIES");
  });

  it("fail/another certificate of the requesting agency cannot approve either (issue 16 item 10)", () => {
    const registry = new SpecialAccessRegistry();
    const a = registry.apply({ ...application, ownerAgency: "pbccrc" }, t0);
    for (const approve of [true, false]) {
      expect(reasonOf(() => registry.decide({ applicationId: a.applicationId, approverAgency: "pbccrc", approverCertFingerprint: "cc", approve, maxUses: 1, validSeconds: 0, note: "" }, t0))).toBe("SEPARATION_OF_DUTIES");
    }
    expect(registry.get(a.applicationId)?.state).toBe("PENDING");
  });

  it("fail/only the owner's approver decides, once", () => {
    const registry = new SpecialAccessRegistry();
    const a = registry.apply(application, t0);
    const decide = (agency: string) => registry.decide({ applicationId: a.applicationId, approverAgency: agency, approverCertFingerprint: "zz", approve: false, maxUses: 1, validSeconds: 0, note: "no" }, t0);
    expect(reasonOf(() => decide("safe"))).toBe("APPROVER_NOT_OWNER");
    expect(decide("csrc").state).toBe("REJECTED");
    expect(reasonOf(() => decide("csrc"))).toBe("SPECIAL_APPLICATION_DECIDED");
    expect(reasonOf(() => registry.decide({ applicationId: "nope", approverAgency: "csrc", approverCertFingerprint: "zz", approve: true, maxUses: 1, validSeconds: 0, note: "" }, t0))).toBe("SPECIAL_APPLICATION_UNKNOWN");
  });

  it("fail/grants lapse by uses and by time", () => {
    const byUses = approved(1);
    expect(reasonOf(() => byUses.registry.use(byUses.grantId, query, at(20)))).toBe("OK");
    expect(reasonOf(() => byUses.registry.use(byUses.grantId, query, at(21)))).toBe("SPECIAL_GRANT_EXHAUSTED");
    const byTime = approved(5, 60);
    expect(reasonOf(() => byTime.registry.use(byTime.grantId, query, at(69)))).toBe("OK");
    expect(reasonOf(() => byTime.registry.use(byTime.grantId, query, at(70)))).toBe("SPECIAL_GRANT_EXPIRED");
  });

  it.each([
    ["another requester", { requesterAgency: "nfra" }],
    ["another subject", { subjectPseudonym: "ps-2" }],
    ["another purpose", { purpose: "GUARANTEE" }],
    ["a category outside the grant", { categories: ["securities_holding", "securities_violation"] }],
  ])("fail/a grant does not cover %s", (_name, change) => {
    const { registry, grantId } = approved();
    expect(reasonOf(() => registry.use(grantId, { ...query, ...change }, at(20)))).toBe("SPECIAL_GRANT_MISMATCH");
  });

  it.each([
    ["too short", { durationSeconds: 10 }],
    ["too long", { durationSeconds: 31 * 86_400 }],
    ["no justification", { justification: "because" }],
    ["no categories", { categories: [] }],
  ])("fail/an application %s is refused", (_name, change) => {
    expect(reasonOf(() => new SpecialAccessRegistry().apply({ ...application, ...change }, t0))).not.toBe("OK");
  });

  it("ok/restores from its saved state", () => {
    const { registry, grantId } = approved();
    const restored = SpecialAccessRegistry.restore(registry.all());
    expect(restored.use(grantId, query, at(20)).usesLeft).toBe(1);
  });
});
