import { describe, expect, it } from "vitest";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ListEntryKind, ListEntrySchema, WithdrawalReason } from "../../gen/credex/v1/lists_pb.js";
import { Level, SubjectType } from "../../gen/credex/v1/types_pb.js";
import type { CredexError } from "../errors.js";
import type { Principal } from "../principal.js";
import type { ListCatalogue } from "./list-catalogue.js";
import { validateListEntry } from "./publish-list-entries.js";

const catalogue: ListCatalogue = {
  lists: new Map([
    ["dishonest_debtors", { id: "dishonest_debtors", owners: ["sh-credit"], level: 1, kind: "punishment", description: "" }],
    ["fraud_watch", { id: "fraud_watch", owners: ["pbccrc"], level: 3, kind: "punishment", description: "" }],
  ]),
};
const publisher = { agencyId: "sh-credit" } as Principal;
const base: MessageInitShape<typeof ListEntrySchema> = {
  listId: "dishonest_debtors",
  subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" },
  measure: "restriction on high consumption",
  legalBasis: "(2026)沪01执1号",
  kind: ListEntryKind.ENTRY,
};
const t = (iso: string) => timestampFromDate(new Date(iso));

function outcome(init: MessageInitShape<typeof ListEntrySchema>, who: Principal = publisher): string {
  try {
    return `level ${validateListEntry(catalogue, who, create(ListEntrySchema, init), 0)}`;
  } catch (err) {
    const e = err as CredexError;
    return e.metadata["field"] ? `${e.reason}:${e.metadata["field"]}` : e.reason;
  }
}

describe("validateListEntry", () => {
  it.each([
    ["ok/entry-takes-list-level", base, "level 1"],
    ["ok/withdrawal", { listId: "dishonest_debtors", subject: base.subject, kind: ListEntryKind.WITHDRAWAL, withdrawalReason: WithdrawalReason.CREDIT_REPAIR }, "level 1"],
    ["fail/unknown-list", { ...base, listId: "nope" }, "LIST_UNKNOWN"],
    ["fail/not-owner", { ...base, listId: "fraud_watch" }, "LIST_NOT_OWNED"],
    ["fail/no-subject", { ...base, subject: undefined }, "SUBJECT_MISSING"],
    ["fail/bad-uscc", { ...base, subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217X" } }, "USCC_INVALID"],
    ["fail/no-measure", { ...base, measure: "" }, "LIST_ENTRY_INVALID:measure"],
    ["fail/no-legal-basis", { ...base, legalBasis: "" }, "LIST_ENTRY_INVALID:legal_basis"],
    ["fail/kind-missing", { ...base, kind: ListEntryKind.UNSPECIFIED }, "LIST_ENTRY_INVALID:kind"],
    ["fail/withdrawal-without-reason", { ...base, kind: ListEntryKind.WITHDRAWAL }, "LIST_ENTRY_INVALID:withdrawal_reason"],
    ["fail/reason-on-entry", { ...base, withdrawalReason: WithdrawalReason.EXPIRED }, "LIST_ENTRY_INVALID:withdrawal_reason"],
    ["fail/ends-before-it-starts", { ...base, effectiveFrom: t("2026-02-01"), effectiveTo: t("2026-01-01") }, "LIST_ENTRY_INVALID:effective_to"],
    ["fail/level-above-list", { ...base, level: Level.SHARED }, "LIST_ENTRY_INVALID:level"],
    ["fail/prohibited-level", { ...base, level: Level.PROHIBITED }, "LIST_ENTRY_INVALID:level"],
    ["fail/gateway-fields-set", { ...base, ownerAgency: "pbccrc" }, "LIST_ENTRY_INVALID:entry_id/owner_agency/published_at"],
    ["fail/measure-too-long", { ...base, measure: "x".repeat(513) }, "LIST_ENTRY_INVALID:measure"],
  ] as const)("%s", (_name, init, expected) => {
    expect(outcome(init as MessageInitShape<typeof ListEntrySchema>)).toBe(expected);
  });
});
