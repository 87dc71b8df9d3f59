import { describe, expect, it, vi } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CreditRecordSchema, Polarity, SubjectType, type CreditRecord } from "../../gen/credex/v1/types_pb.js";
import { AgencyStatus } from "../../gen/credex/v1/exchange_pb.js";
import { AUDITED_RECORD_ID_BYTES, release, type DataQualityEvent, type ReleaseInput } from "./release.js";
import type { ExchangeDecision } from "./authorize.js";
import type { ProviderOutcome } from "./fetch.js";
import type { Catalogue, CategoryInfo } from "../catalogue.js";

const subject = { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" };
const now = new Date("2026-06-01T00:00:00Z");

/** Ended half a year before `now`: within Art. 16's five years. */
const recentEnd = new Date("2025-12-01T00:00:00Z");

type RecordExtra = Partial<{
  owner: string;
  category: string;
  level: number;
  polarity: Polarity;
  /** Default `recentEnd`; null: no end. */
  endedAt: Date | null;
  ongoing: boolean;
  lastConfirmedAt: Date;
  notifiedAt: Date;
  subjectType: SubjectType;
  subjectId: string;
  disputed: boolean;
}>;

function rec(id: string, fields: Array<[string, number]>, extra: RecordExtra = {}): CreditRecord {
  const endedAt = extra.endedAt === undefined ? recentEnd : extra.endedAt;
  return create(CreditRecordSchema, {
    recordId: id,
    ownerAgency: extra.owner ?? "safe",
    subject: { type: extra.subjectType ?? subject.type, id: extra.subjectId ?? subject.id },
    category: extra.category ?? "forex_violation",
    polarity: extra.polarity ?? Polarity.NEGATIVE,
    level: extra.level ?? 3,
    endedAt: endedAt ? timestampFromDate(endedAt) : undefined,
    ongoing: extra.ongoing ?? false,
    lastConfirmedAt: extra.lastConfirmedAt ? timestampFromDate(extra.lastConfirmedAt) : undefined,
    notifiedAt: extra.notifiedAt ? timestampFromDate(extra.notifiedAt) : undefined,
    fields: fields.map(([name, level]) => ({ name, value: `v-${name}`, level })),
    disputed: extra.disputed ?? false,
  });
}

/**
 * The shipped catalogue's classification of the categories used here (policies/categories.yaml), each with
 * its allow-list of fields: a name alone is at the category's level, `[name, level]` classified on its own.
 */
const category = (name: string, level: number, negative: boolean, fields: Array<string | [string, number]>, publicByLaw = false): [string, CategoryInfo] => [
  name,
  {
    name, level, sensitive: level === 4, negative, publicByLaw, sectors: [], description: name,
    fields: new Map(fields.map((f): [string, number] => (typeof f === "string" ? [f, level] : f)).map(([f, l]) => [f, { level: l, sensitive: l === 4 }])),
  },
];
const catalogue: Catalogue = {
  categories: new Map([
    category("forex_violation", 3, true, ["violation", "fine", "a", ["account_balance_usd", 4]]),
    category("forex_registration", 2, false, ["a", "b", "c"]),
    category("loan_overdue", 3, true, ["lender", "overdue_days"]),
    category("loan_record", 3, false, ["lender", "status", ["collateral_valuation_cny", 4]]),
    category("administrative_penalty", 1, true, ["decision_no"], true),
    category("red_list", 1, false, ["list"]),
    category("income", 4, false, ["annual_income_cny"]),
    ["insurance_claim", { ...category("insurance_claim", 3, false, ["insurer"])[1], fields: new Map([["insurer", { level: 3, sensitive: false }], ["finding", { level: 3, sensitive: false, negative: true }]]) }],
  ]),
};

const decision = (maxLevel: number, category = "forex_violation", owner = "safe"): ExchangeDecision => grants([[category, maxLevel]], owner);

const grants = (levels: Array<[category: string, maxLevel: number]>, owner = "safe"): ExchangeDecision => ({
  grants: levels.map(([category, maxLevel]) => ({ owner, category, maxLevel, matchedRule: "p, test" })),
  denials: [],
  policyRevision: "rev",
  decidedAt: now,
});

const outcome = (records: CreditRecord[], agencyId = "safe"): ProviderOutcome => ({ agencyId, status: "OK", detail: "", records, bytes: 0, requestedAt: now, respondedAt: now });

const input = (extra: Partial<ReleaseInput> = {}): ReleaseInput => ({ catalogue, subjectType: subject.type, subjectId: subject.id, sensitiveAllowed: () => false, now, ...extra });

describe("release", () => {
  it("ok/keeps records and fields within the grant", () => {
    const { results, stats } = release(decision(3), [outcome([rec("r1", [["violation", 3], ["fine", 2]])])], input());
    expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["violation", "fine"]);
    expect(stats).toMatchObject({ recordsReleased: 1, recordsWithheld: 0, fieldsReleased: 2, fieldsWithheld: 0 });
  });

  it("fail/withholds records above the granted level and removes fields above it", () => {
    const registration = { category: "forex_registration", polarity: Polarity.NEUTRAL };
    const { results, stats } = release(decision(2, "forex_registration"), [outcome([rec("r1", [["a", 2]], { ...registration, level: 3 }), rec("r2", [["b", 2], ["c", 3]], { ...registration, level: 2 })])], input());
    expect(results[0]!.records.map((r) => r.recordId)).toEqual(["r2"]);
    expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["b"]);
    expect(results[0]!.withheld.map((w) => [w.reason, w.records, w.fields])).toEqual([["LEVEL_ABOVE_GRANT", 1, 1]]);
    expect([...stats.withheldFieldNames]).toEqual(["c"]);
  });

  it("fail/level-4 content needs named consent or a grant for its category (Art. 14.2)", () => {
    const records = () => [rec("r1", [["account_balance_usd", 4], ["violation", 3]], { level: 3 })];
    const without = release(decision(4), [outcome(records())], input());
    expect(without.results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["violation"]);
    expect(without.results[0]!.withheld[0]!.reason).toBe("SENSITIVE_NOT_CONSENTED");
    const named = release(decision(4), [outcome(records())], input({ sensitiveAllowed: (_o, c) => c === "forex_violation" }));
    expect(named.results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["account_balance_usd", "violation"]);
  });

  it("fail/prohibited fields never pass, whatever their level, and are reported (Art. 14.1)", () => {
    const onProhibited = vi.fn();
    const { results } = release(decision(4), [outcome([rec("r1", [["medical_history", 1], ["blood_type", 2], ["a", 5], ["fine", 2]])])], input({ onProhibited }));
    expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["fine"]);
    expect(onProhibited).toHaveBeenCalledTimes(3);
    expect(onProhibited.mock.calls.map((c) => c[0].fieldName)).toEqual(["medical_history", "blood_type", "a"]);
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
    const positiveOld = rec("pos", [["a", 2]], { level: 2, category: "forex_registration", endedAt: new Date("2015-01-01T00:00:00Z"), polarity: Polarity.POSITIVE });
    const { results } = release(grants([["forex_violation", 3], ["forex_registration", 2]]), [outcome([old, recent, positiveOld])], input());
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

  it("ok/the ids of released records are kept by owner for the audit (standing to object); withheld ones and ids outside the record-id form are not", () => {
    const { stats } = release(decision(3), [outcome([rec("r-1", [["a", 3]]), rec("r 2<script>", [["a", 3]]), rec("r-3", [["a", 3]], { level: 4 })])], input());
    expect([...stats.releasedRecords]).toEqual([["safe", ["r-1"]]]);
    expect(stats.releasedRecordIdsOmitted).toBe(1);
    // Bounded, so that one large answer cannot push its audit record past what the sink accepts.
    const many = Array.from({ length: 2_100 }, (_, i) => rec(`${String(i).padStart(4, "0")}${"x".repeat(124)}`, [["a", 3]]));
    const bounded = release(decision(3), [outcome(many)], input()).stats;
    expect(bounded.releasedRecords.get("safe")!.length).toBe(Math.floor(AUDITED_RECORD_ID_BYTES / 128));
    expect(bounded.releasedRecordIdsOmitted).toBe(2_100 - Math.floor(AUDITED_RECORD_ID_BYTES / 128));
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

  describe("item 6: the gateway, not the provider, decides the level", () => {
    const NO_OTHER_PROBLEMS = { unknownFields: 0, unknownFieldNames: [], negativeWithoutEnd: 0 };
    const reported = () => {
      const events: DataQualityEvent[] = [];
      return { events, onDataQuality: (e: DataQualityEvent) => void events.push(e) };
    };

    it("item 6: a level-4 record labelled level 1 is withheld from a level-1 grant, and the mislabel is reported", () => {
      const { events, onDataQuality } = reported();
      const mislabelled = rec("inc-1", [["annual_income_cny", 1]], { level: 1, category: "income", polarity: Polarity.NEUTRAL });
      const { results, stats } = release(decision(1, "income"), [outcome([mislabelled])], input({ onDataQuality }));
      expect(results[0]!.records).toHaveLength(0);
      expect(results[0]!.withheld.map((w) => [w.reason, w.records])).toEqual([["LEVEL_ABOVE_GRANT", 1]]);
      expect(stats.fieldsReleased).toBe(0);
      expect(events).toEqual([{ provider: "safe", mislabelledRecords: 1, mislabelledFields: 0, properties: ["level", "sensitive"], recordIds: ["inc-1"], ...NO_OTHER_PROBLEMS }]);
    });

    it("item 6: a level-4 record labelled level 3 still needs written consent naming its category (Art. 14.2)", () => {
      const mislabelled = () => [rec("inc-2", [["annual_income_cny", 3]], { level: 3, category: "income", polarity: Polarity.NEUTRAL })];
      const without = release(decision(4, "income"), [outcome(mislabelled())], input());
      expect(without.results[0]!.withheld.map((w) => [w.reason, w.records])).toEqual([["SENSITIVE_NOT_CONSENTED", 1]]);
      const named = release(decision(4, "income"), [outcome(mislabelled())], input({ sensitiveAllowed: (_o, c) => c === "income" }));
      expect(named.results[0]!.records.map((r) => r.recordId)).toEqual(["inc-2"]);
    });

    it("item 6: a record of a negative category labelled positive and ended more than 5 years ago is withheld (Art. 16)", () => {
      const { events, onDataQuality } = reported();
      const old = new Date("2020-01-01T00:00:00Z");
      const records = [
        rec("pen-pos", [["decision_no", 1]], { level: 1, category: "administrative_penalty", polarity: Polarity.POSITIVE, endedAt: old }),
        rec("pen-unset", [["decision_no", 1]], { level: 1, category: "administrative_penalty", polarity: Polarity.UNSPECIFIED, endedAt: old }),
        // A non-negative category: the 5-year limit does not apply, nothing is mislabelled.
        rec("red", [["list", 1]], { level: 1, category: "red_list", polarity: Polarity.POSITIVE, endedAt: old }),
      ];
      const { results } = release(grants([["administrative_penalty", 1], ["red_list", 1]]), [outcome(records)], input({ onDataQuality }));
      expect(results[0]!.records.map((r) => r.recordId)).toEqual(["red"]);
      expect(results[0]!.withheld.map((w) => [w.reason, w.records])).toEqual([["NEGATIVE_EXPIRED", 2]]);
      expect(events).toEqual([{ provider: "safe", mislabelledRecords: 2, mislabelledFields: 0, properties: ["negative"], recordIds: ["pen-pos", "pen-unset"], ...NO_OTHER_PROBLEMS }]);
    });

    it("item 6: a field is judged at the catalogue's own level for it, else at least at its category's; a field the catalogue classifies is reported when labelled below", () => {
      const { events, onDataQuality } = reported();
      const record = rec("loan-1", [["lender", 1], ["collateral_valuation_cny", 1], ["status", 0]], { level: 3, category: "loan_record", polarity: Polarity.POSITIVE });
      const { results } = release(decision(3, "loan_record"), [outcome([record])], input({ onDataQuality }));
      // lender: labelled 1, category 3 → 3, within the grant. collateral: the catalogue says 4 → removed. status: carries the record's level.
      expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["lender", "status"]);
      expect(results[0]!.withheld.map((w) => [w.reason, w.records, w.fields])).toEqual([["LEVEL_ABOVE_GRANT", 0, 1]]);
      expect(events).toEqual([{ provider: "safe", mislabelledRecords: 0, mislabelledFields: 1, properties: ["level"], recordIds: ["loan-1"], ...NO_OTHER_PROBLEMS }]);
      // With a grant covering level 4 and consent naming the category, the field passes: the catalogue raised it, it did not drop it.
      const named = release(decision(4, "loan_record"), [outcome([rec("loan-2", [["collateral_valuation_cny", 1]], { level: 3, category: "loan_record", polarity: Polarity.POSITIVE })])], input({ sensitiveAllowed: () => true }));
      expect(named.results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["collateral_valuation_cny"]);
    });

    it("item 6: mislabelling is reported once per provider and exchange, with its counts, however many records", () => {
      const { events, onDataQuality } = reported();
      const many = Array.from({ length: 50 }, (_, i) => rec(`s-${i}`, [["a", 1]], { level: 1, polarity: Polarity.NEGATIVE }));
      const other = [rec("c-1", [["a", 1]], { owner: "csrc", level: 2, polarity: Polarity.NEGATIVE })];
      const d: ExchangeDecision = { ...decision(3), grants: [...decision(3).grants, ...decision(3, "forex_violation", "csrc").grants] };
      const { results } = release(d, [outcome(many), outcome(other, "csrc")], input({ onDataQuality }));
      expect(results.map((r) => r.records.length)).toEqual([50, 1]);
      expect(events.map((e) => [e.provider, e.mislabelledRecords, e.recordIds.length])).toEqual([
        ["safe", 50, 5],
        ["csrc", 1, 1],
      ]);
    });

    it("ok/a provider labelling stricter than the catalogue is followed and not reported", () => {
      const { events, onDataQuality } = reported();
      const stricter = rec("strict", [["decision_no", 3]], { level: 3, category: "administrative_penalty", polarity: Polarity.NEGATIVE });
      const negativeRed = rec("neg-red", [["list", 1]], { level: 1, category: "red_list", polarity: Polarity.NEGATIVE, endedAt: new Date("2020-01-01T00:00:00Z") });
      const { results } = release(grants([["administrative_penalty", 1], ["red_list", 1]]), [outcome([stricter, negativeRed])], input({ onDataQuality }));
      expect(results[0]!.records).toHaveLength(0);
      expect(Object.fromEntries(results[0]!.withheld.map((w) => [w.reason, w.records]))).toEqual({ LEVEL_ABOVE_GRANT: 1, NEGATIVE_EXPIRED: 1 });
      expect(events).toEqual([]);
    });

    it("fail/a record of a category the catalogue does not know is never released", () => {
      const unknown = rec("u", [["a", 1]], { level: 1, category: "not_catalogued" });
      const { results } = release(decision(4, "not_catalogued"), [outcome([unknown])], input());
      expect(results[0]!.withheld.map((w) => [w.reason, w.records])).toEqual([["CATEGORY_NOT_GRANTED", 1]]);
    });
  });
  describe("the catalogue is the allow-list of fields", () => {
    it("fail/a field the catalogue does not list for the category is dropped, counted per provider and reported, never its content", () => {
      const events: DataQualityEvent[] = [];
      const records = [rec("r-1", [["violation", 3], ["internal_risk_note", 1], ["Violation", 3]]), rec("r-2", [["fine", 3], ["internal_risk_note", 1]])];
      const { results, stats } = release(decision(3), [outcome(records)], input({ onDataQuality: (e) => void events.push(e) }));
      expect(results[0]!.records.map((r) => r.fields.map((f) => f.name))).toEqual([["violation"], ["fine"]]);
      expect(results[0]!.withheld.map((w) => [w.reason, w.records, w.fields])).toEqual([["UNKNOWN_FIELD", 0, 3]]);
      expect([...stats.unknownFields]).toEqual([["safe", 3]]);
      // Not in the audit's field names (a provider could flood them), only counted.
      expect([...stats.withheldFieldNames]).toEqual([]);
      expect(events).toEqual([
        { provider: "safe", mislabelledRecords: 0, mislabelledFields: 0, properties: [], recordIds: [], unknownFields: 3, unknownFieldNames: ["internal_risk_note", "Violation"], negativeWithoutEnd: 0 },
      ]);
    });

    it("fail/a field listed for another category does not pass in this one", () => {
      const { results } = release(decision(3), [outcome([rec("r-1", [["lender", 3], ["violation", 3]])])], input());
      expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["violation"]);
    });

    it("fail/Art. 14.1: prohibited data under any spelling raises the prohibited-data report, not the unknown-field one", () => {
      const onProhibited = vi.fn();
      const events: DataQualityEvent[] = [];
      const hostile = ["bloodType", "religiousBelief", "genome", "hiv_status", "宗教信仰", "指纹"];
      const { results, stats } = release(decision(3), [outcome([rec("r-1", [["violation", 3], ...hostile.map((n): [string, number] => [n, 3])])])], input({ onProhibited, onDataQuality: (e) => void events.push(e) }));
      expect(results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["violation"]);
      expect(onProhibited.mock.calls.map((c) => c[0].fieldName)).toEqual(hostile);
      expect(results[0]!.withheld.map((w) => [w.reason, w.fields])).toEqual([["PROHIBITED", 6]]);
      expect(stats.unknownFields.size).toBe(0);
      expect(events).toEqual([]);
    });

    it("fail/a category the catalogue lists no fields for passes none", () => {
      const bare: Catalogue = { categories: new Map([["forex_violation", { name: "forex_violation", level: 3, sensitive: false, negative: true, sectors: [], description: "" }]]) };
      const { results } = release(decision(3), [outcome([rec("r-1", [["violation", 3]])])], input({ catalogue: bare }));
      expect(results[0]!.records[0]!.fields).toEqual([]);
      expect(results[0]!.withheld.map((w) => [w.reason, w.fields])).toEqual([["UNKNOWN_FIELD", 1]]);
    });
  });

  describe("negative information: the catalogue decides (Art. 15, 16)", () => {
    const person = { subjectType: SubjectType.NATURAL_PERSON, subjectId: "11010519491231002X" };
    const personInput = (extra: Partial<ReleaseInput> = {}) => input({ ...person, ...extra });
    const overdue = (id: string, extra: RecordExtra = {}) => rec(id, [["lender", 3]], { category: "loan_overdue", subjectType: person.subjectType, subjectId: person.subjectId, ...extra });
    const notified = new Date("2025-11-01T00:00:00Z");
    const reasons = (r: ReturnType<typeof release>) => Object.fromEntries(r.results[0]!.withheld.map((w) => [w.reason, w.records]));

    it("fail/Art. 16: a negative record with neither ended_at nor ongoing is withheld and reported, even when the provider marks it positive", () => {
      const events: DataQualityEvent[] = [];
      const records = [rec("no-end", [["violation", 3]], { endedAt: null }), rec("no-end-positive", [["violation", 3]], { endedAt: null, polarity: Polarity.POSITIVE })];
      const result = release(decision(3), [outcome(records)], input({ onDataQuality: (e) => void events.push(e) }));
      expect(result.results[0]!.records).toEqual([]);
      expect(reasons(result)).toEqual({ NEGATIVE_END_UNKNOWN: 2 });
      expect(events).toMatchObject([{ provider: "safe", negativeWithoutEnd: 2, mislabelledRecords: 1, properties: ["negative"], recordIds: ["no-end", "no-end-positive"] }]);
    });

    it("fail/Art. 16: a negative-category record marked non-negative and ended more than 5 years ago is no longer provided", () => {
      const result = release(decision(3), [outcome([rec("old-neutral", [["violation", 3]], { polarity: Polarity.NEUTRAL, endedAt: new Date("2021-05-31T00:00:00Z") })])], input());
      expect(reasons(result)).toEqual({ NEGATIVE_EXPIRED: 1 });
    });

    it("ok/Art. 16: an ongoing negative record confirmed within 5 years is provided; one last confirmed 5 years ago or more is not", () => {
      const result = release(
        decision(3),
        [outcome([rec("ongoing", [["violation", 3]], { endedAt: null, ongoing: true, lastConfirmedAt: new Date("2026-05-01T00:00:00Z") }), rec("stale", [["violation", 3]], { endedAt: null, ongoing: true, lastConfirmedAt: new Date("2021-05-31T00:00:00Z") })])],
        input(),
      );
      expect(result.results[0]!.records.map((r) => r.recordId)).toEqual(["ongoing"]);
      expect(reasons(result)).toEqual({ NEGATIVE_EXPIRED: 1 });
    });

    it("fail/Art. 16: an end in the future, or an end that is also ongoing, cannot start the five years", () => {
      const future = rec("future", [["violation", 3]], { endedAt: new Date("2031-01-01T00:00:00Z") });
      const both = rec("both", [["violation", 3]], { ongoing: true, lastConfirmedAt: new Date("2026-05-01T00:00:00Z") });
      const unconfirmed = rec("unconfirmed", [["violation", 3]], { endedAt: null, ongoing: true });
      expect(reasons(release(decision(3), [outcome([future, both, unconfirmed])], input()))).toEqual({ NEGATIVE_END_UNKNOWN: 3 });
    });

    it("fail/Art. 15: a natural person's negative record without notice evidence is withheld; with notified_at it is released", () => {
      const result = release(decision(3, "loan_overdue", "pbccrc"), [outcome([overdue("silent", { owner: "pbccrc" }), overdue("told", { owner: "pbccrc", notifiedAt: notified })], "pbccrc")], personInput());
      expect(result.results[0]!.records.map((r) => r.recordId)).toEqual(["told"]);
      expect(reasons(result)).toEqual({ NEGATIVE_NOT_NOTIFIED: 1 });
    });

    it("fail/Art. 15: marking a natural person's negative record positive does not spare it the notice", () => {
      const result = release(decision(3, "loan_overdue", "pbccrc"), [outcome([overdue("positive", { owner: "pbccrc", polarity: Polarity.POSITIVE })], "pbccrc")], personInput());
      expect(reasons(result)).toEqual({ NEGATIVE_NOT_NOTIFIED: 1 });
    });

    it("fail/Art. 15: a notice dated in the future is no evidence", () => {
      const result = release(decision(3, "loan_overdue", "pbccrc"), [outcome([overdue("later", { owner: "pbccrc", notifiedAt: new Date("2026-07-01T00:00:00Z") })], "pbccrc")], personInput());
      expect(reasons(result)).toEqual({ NEGATIVE_NOT_NOTIFIED: 1 });
    });

    it("ok/Art. 15: negative information public by law (disclosed penalties) needs no notice; a legal person's needs none either", () => {
      const penalty = rec("penalty", [["decision_no", 1]], { category: "administrative_penalty", level: 1, subjectType: person.subjectType, subjectId: person.subjectId });
      const forPerson = release(decision(1, "administrative_penalty"), [outcome([penalty])], personInput());
      expect(forPerson.results[0]!.records.map((r) => r.recordId)).toEqual(["penalty"]);
      const company = release(decision(3), [outcome([rec("company", [["violation", 3]])])], input());
      expect(company.results[0]!.records.map((r) => r.recordId)).toEqual(["company"]);
    });

    it("fail/Art. 15, 16: a negative field in a non-negative record (a claim's fraud finding) is removed when the record's dates do not allow it", () => {
      const events: DataQualityEvent[] = [];
      const claim = (id: string, extra: RecordExtra) => rec(id, [["insurer", 3], ["finding", 3]], { category: "insurance_claim", owner: "nfra", polarity: Polarity.NEUTRAL, ...extra });
      const forCompany = release(decision(3, "insurance_claim", "nfra"), [outcome([claim("open", { endedAt: null }), claim("ended", {})], "nfra")], input({ onDataQuality: (e) => void events.push(e) }));
      expect(forCompany.results[0]!.records.map((r) => [r.recordId, r.fields.map((f) => f.name)])).toEqual([["open", ["insurer"]], ["ended", ["insurer", "finding"]]]);
      expect(forCompany.results[0]!.withheld.map((w) => [w.reason, w.records, w.fields])).toEqual([["NEGATIVE_END_UNKNOWN", 0, 1]]);
      expect(events).toMatchObject([{ provider: "nfra", negativeWithoutEnd: 1 }]);
      const personClaim = claim("person", { subjectType: person.subjectType, subjectId: person.subjectId });
      const forPerson = release(decision(3, "insurance_claim", "nfra"), [outcome([personClaim], "nfra")], personInput());
      expect(forPerson.results[0]!.records[0]!.fields.map((f) => f.name)).toEqual(["insurer"]);
      expect(forPerson.results[0]!.withheld.map((w) => [w.reason, w.fields])).toEqual([["NEGATIVE_NOT_NOTIFIED", 1]]);
    });

    it("ok/a record of a non-negative category needs no end", () => {
      const result = release(decision(2, "forex_registration"), [outcome([rec("reg", [["a", 2]], { category: "forex_registration", level: 2, polarity: Polarity.NEUTRAL, endedAt: null })])], input());
      expect(result.results[0]!.records.map((r) => r.recordId)).toEqual(["reg"]);
    });
  });
});
