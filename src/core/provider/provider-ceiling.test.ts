import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { CreditRecordSchema, Level, SubjectType, type CreditRecord } from "../../gen/credex/v1/types_pb.js";
import { CredexError } from "../errors.js";
import { ceilingLevel, fetchLimits, recordsWithin, type FetchAsk, type ProviderCeiling } from "./provider-ceiling.js";

const CEILING: ProviderCeiling = {
  categories: { administrative_penalty: 1, forex_registration: 3, forex_violation: 3 },
  requesters: { csrc: { forex_violation: 1 }, nfra: { administrative_penalty: 0, forex_registration: 0, forex_violation: 0 }, pbccrc: { forex_violation: 4 } },
};

const rec = (recordId: string, category: string, level: number, fields: Array<[string, number]> = []): CreditRecord =>
  create(CreditRecordSchema, {
    recordId,
    ownerAgency: "safe",
    subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" },
    category,
    level,
    fields: fields.map(([name, l]) => ({ name, value: "v", level: l })),
  });

const ask = (requesterAgency: string, maxLevel: number, categories = ["administrative_penalty", "forex_registration", "forex_violation"]): FetchAsk => ({ requesterAgency, maxLevel, categories });

function refusalOf(a: FetchAsk): string {
  try {
    fetchLimits(CEILING, a);
    return "OK";
  } catch (err) {
    const e = err as CredexError;
    return `${e.reason}${e.metadata["field"] ? `:${e.metadata["field"]}` : ""}`;
  }
}

describe("ceilingLevel", () => {
  it.each([
    ["ok/default for a requester not listed", "ndrc", "forex_violation", 3],
    ["ok/the requester's own entry, lower", "csrc", "forex_violation", 1],
    ["ok/the requester's own entry, higher", "pbccrc", "forex_violation", 4],
    ["ok/a requester's entry covers only the categories it lists", "csrc", "forex_registration", 3],
    ["fail/a category not listed anywhere", "pbccrc", "loan_record", 0],
    ["fail/inherited names are not categories", "pbccrc", "toString", 0],
    ["fail/inherited names are not requesters", "constructor", "forex_violation", 3],
  ])("%s", (_name, requester, category, level) => {
    expect(ceilingLevel(CEILING, requester, category)).toBe(level);
  });
});

describe("fetchLimits", () => {
  it("ok/the lower of the gateway's level and the ceiling, per category", () => {
    const limits = fetchLimits(CEILING, ask("csrc", 4));
    expect([...limits.values()].map((l) => [l.category, l.asked, l.ceiling, l.level])).toEqual([
      ["administrative_penalty", 4, 1, 1],
      ["forex_registration", 4, 3, 3],
      ["forex_violation", 4, 1, 1],
    ]);
    expect(fetchLimits(CEILING, ask("ndrc", 2)).get("forex_violation")!.level).toBe(2);
  });

  it.each([
    ["fail/max_level 0 (unset) releases nothing", ask("pbccrc", 0), "FIELD_INVALID:max_level"],
    ["fail/a negative max_level", ask("pbccrc", -1), "FIELD_INVALID:max_level"],
    ["fail/no requester", ask("", 4), "FIELD_INVALID:requester_agency"],
    ["fail/every asked category at 0 for the requester", ask("nfra", 4), "NOT_PERMITTED_BY_PROVIDER"],
    ["fail/only categories the ceiling does not list", ask("pbccrc", 4, ["loan_record"]), "NOT_PERMITTED_BY_PROVIDER"],
    ["ok/one category above 0 is enough", ask("pbccrc", 4, ["loan_record", "administrative_penalty"]), "OK"],
  ])("%s", (_name, a, outcome) => {
    expect(refusalOf(a)).toBe(outcome);
  });
});

describe("recordsWithin", () => {
  const held = [
    rec("p1", "administrative_penalty", Level.PUBLIC),
    rec("r2", "forex_registration", Level.SHARED, [["registered", 0], ["amount", Level.RESTRICTED], ["owner_income", Level.SENSITIVE]]),
    rec("v3", "forex_violation", Level.RESTRICTED),
    rec("v4", "forex_violation", Level.SENSITIVE),
    rec("no-level", "forex_violation", Level.UNSPECIFIED),
    rec("l1", "loan_record", Level.PUBLIC),
  ];
  const ids = (records: CreditRecord[]) => records.map((r) => `${r.recordId}[${r.fields.map((f) => f.name).join(",")}]`);

  it("ok/records up to their category's level; fields above the ceiling removed; unasked categories and records without a level never", () => {
    expect(ids(recordsWithin(held, fetchLimits(CEILING, ask("ndrc", 4))))).toEqual(["p1[]", "r2[registered,amount]", "v3[]"]);
    expect(ids(recordsWithin(held, fetchLimits(CEILING, ask("csrc", 4))))).toEqual(["p1[]", "r2[registered,amount]"]);
  });

  it("ok/fields between the gateway's level and the ceiling are left to the gateway's release stage", () => {
    // The gateway asks for SHARED: r2's RESTRICTED field is within the ceiling (3) and stays for release to count.
    expect(ids(recordsWithin(held, fetchLimits(CEILING, ask("ndrc", 2))))).toEqual(["p1[]", "r2[registered,amount]"]);
  });

  it("ok/the dataset is not changed", () => {
    recordsWithin(held, fetchLimits(CEILING, ask("ndrc", 4)));
    expect(held[1]!.fields.map((f) => f.name)).toEqual(["registered", "amount", "owner_income"]);
  });
});
