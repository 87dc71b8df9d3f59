import { describe, expect, it, vi } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CreditRecordSchema, Polarity, SubjectType, type CreditRecord } from "../../gen/credex/v1/types_pb.js";
import { AgencyStatus } from "../../gen/credex/v1/exchange_pb.js";
import { release, type ReleaseInput } from "./release.js";
import type { ExchangeDecision } from "./authorize.js";
import type { ProviderOutcome } from "./fetch.js";

const subject = { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" };
const now = new Date("2026-06-01T00:00:00Z");

function rec(id: string, fields: Array<[string, number]>, extra: Partial<{ owner: string; category: string; level: number; polarity: Polarity; endedAt: Date; subjectId: string; disputed: boolean }> = {}): CreditRecord {
  return create(CreditRecordSchema, {
    recordId: id,
    ownerAgency: extra.owner ?? "safe",
    subject: { ...subject, id: extra.subjectId ?? subject.id },
    category: extra.category ?? "forex_violation",
    polarity: extra.polarity ?? Polarity.NEGATIVE,
    level: extra.level ?? 3,
    endedAt: extra.endedAt ? timestampFromDate(extra.endedAt) : undefined,
    fields: fields.map(([name, level]) => ({ name, value: `v-${name}`, level })),
    disputed: extra.disputed ?? false,
  });
}

const decision = (maxLevel: number, category = "forex_violation", owner = "safe"): ExchangeDecision => ({
  grants: [{ owner, category, maxLevel, matchedRule: "p, test" }],
  denials: [],
  policyRevision: "rev",
  decidedAt: now,
});

const outcome = (records: CreditRecord[], agencyId = "safe"): ProviderOutcome => ({ agencyId, status: "OK", detail: "", records, bytes: 0, requestedAt: now, respondedAt: now });

const input = (extra: Partial<ReleaseInput> = {}): ReleaseInput => ({ subjectType: subject.type, subjectId: subject.id, sensitiveAllowed: () => false, now, ...extra });

describe("release", () => {
  it("ok/keeps records and fields within the grant", () => {
    const { results, stats } = release(decision(3), [outcome([rec("r1", [["violation", 3], ["fine", 2]])])], input());
    expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["violation", "fine"]);
    expect(stats).toMatchObject({ recordsReleased: 1, recordsWithheld: 0, fieldsReleased: 2, fieldsWithheld: 0 });
  });

  it("fail/withholds records above the granted level and removes fields above it", () => {
    const { results, stats } = release(decision(2), [outcome([rec("r1", [["a", 2]], { level: 3 }), rec("r2", [["b", 2], ["c", 3]], { level: 2 })])], input());
    expect(results[0]!.records.map((r) => r.recordId)).toEqual(["r2"]);
    expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["b"]);
    expect(results[0]!.withheld.map((w) => [w.reason, w.records, w.fields])).toEqual([["LEVEL_ABOVE_GRANT", 1, 1]]);
    expect([...stats.withheldFieldNames]).toEqual(["c"]);
  });

  it("fail/level-4 content needs named consent or a grant for its category (Art. 14.2)", () => {
    const records = () => [rec("r1", [["income", 4], ["employer", 3]], { level: 3, category: "income", owner: "safe" })];
    const without = release(decision(4, "income"), [outcome(records())], input());
    expect(without.results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["employer"]);
    expect(without.results[0]!.withheld[0]!.reason).toBe("SENSITIVE_NOT_CONSENTED");
    const named = release(decision(4, "income"), [outcome(records())], input({ sensitiveAllowed: (_o, c) => c === "income" }));
    expect(named.results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["income", "employer"]);
  });

  it("fail/prohibited fields never pass, whatever their level, and are reported (Art. 14.1)", () => {
    const onProhibited = vi.fn();
    const { results } = release(decision(4), [outcome([rec("r1", [["medical_history", 1], ["blood_type", 2], ["x", 5], ["fine", 2]])])], input({ onProhibited }));
    expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["fine"]);
    expect(onProhibited).toHaveBeenCalledTimes(3);
    expect(onProhibited.mock.calls.map((c) => c[0].fieldName)).toEqual(["medical_history", "blood_type", "x"]);
  });

  it("fail/a prohibited-level record is withheld whole", () => {
    const onProhibited = vi.fn();
    const { results } = release(decision(4), [outcome([rec("r1", [["a", 1]], { level: 5 })])], input({ onProhibited }));
    expect(results[0]!.records).toHaveLength(0);
    expect(onProhibited).toHaveBeenCalledOnce();
  });

  it("fail/negative records are not provided 5 years after the event ended (Art. 16)", () => {
    const old = rec("old", [["a", 3]], { endedAt: new Date("2021-05-31T00:00:00Z") });
    const recent = rec("recent", [["a", 3]], { endedAt: new Date("2021-06-02T00:00:00Z") });
    const positiveOld = rec("pos", [["a", 3]], { endedAt: new Date("2015-01-01T00:00:00Z"), polarity: Polarity.POSITIVE });
    const { results } = release(decision(3), [outcome([old, recent, positiveOld])], input());
    expect(results[0]!.records.map((r) => r.recordId)).toEqual(["recent", "pos"]);
    expect(results[0]!.withheld[0]).toMatchObject({ reason: "NEGATIVE_EXPIRED", records: 1 });
  });

  it("fail/a provider cannot answer about another subject, another owner's records or ungranted categories", () => {
    const { results, stats } = release(
      decision(3),
      [outcome([rec("s", [], { subjectId: "91350200MA2YJ1XR9G" }), rec("o", [], { owner: "csrc" }), rec("c", [], { category: "loan_overdue" })])],
      input(),
    );
    expect(results[0]!.records).toHaveLength(0);
    expect(Object.fromEntries([...stats.withheld].map(([r, [n]]) => [r, n]))).toEqual({ SUBJECT_MISMATCH: 1, OWNER_MISMATCH: 1, CATEGORY_NOT_GRANTED: 1 });
  });

  it("ok/marks records under an open objection as disputed (Art. 25)", () => {
    const { results } = release(decision(3), [outcome([rec("r1", [["a", 3]]), rec("r2", [["a", 3]], { disputed: true })])], input({ isDisputed: (_o, id) => id === "r1" }));
    expect(results[0]!.records.map((r) => r.disputed)).toEqual([true, true]);
  });

  it("ok/reports failed providers and owners refused by policy with their status", () => {
    const failed: ProviderOutcome = { ...outcome([]), agencyId: "nfra", status: "UNAVAILABLE", detail: "the provider is unreachable" };
    const d: ExchangeDecision = { ...decision(3), denials: [{ owner: "csrc", category: "securities_violation", reason: "PURPOSE_NOT_PERMITTED", matchedRule: "" }] };
    const { results } = release(d, [outcome([]), failed], input());
    expect(results.map((r) => [r.agencyId, AgencyStatus[r.status], r.detail])).toEqual([
      ["safe", "OK", ""],
      ["nfra", "UNAVAILABLE", "the provider is unreachable"],
      ["csrc", "NOT_PERMITTED", "PURPOSE_NOT_PERMITTED"],
    ]);
  });
});
