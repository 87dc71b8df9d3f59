import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ListEntryKind, ListEntrySchema, WithdrawalReason } from "../../gen/credex/v1/lists_pb.js";
import { deliveredForm, ListState } from "./list-state.js";

const now = new Date("2026-06-01T00:00:00Z");
const entry = (id: string, subject: string, extra: { kind?: ListEntryKind; withdrawalReason?: WithdrawalReason; effectiveTo?: Timestamp; measure?: string } = {}) =>
  create(ListEntrySchema, { entryId: id, listId: "dishonest_debtors", subject: { type: 1, id: subject }, kind: ListEntryKind.ENTRY, measure: "m", ...extra });

describe("ListState", () => {
  it("keeps the latest entry per key and drops withdrawn and expired ones", () => {
    const state = new ListState();
    state.apply("k1", entry("e1", "A"));
    state.apply("k2", entry("e2", "B"));
    state.apply("k1", entry("e3", "A", { kind: ListEntryKind.WITHDRAWAL, withdrawalReason: WithdrawalReason.CREDIT_REPAIR }));
    state.apply("k3", entry("e4", "C", { effectiveTo: timestampFromDate(new Date(now.getTime() - 1)) }));
    state.apply("k2", entry("e5", "B", { measure: "updated" }));
    expect(state.current(now).map((e) => e.entryId)).toEqual(["e5"]);
    expect(state.size).toBe(3);
  });
});

describe("deliveredForm", () => {
  it("delivers an expired entry as a withdrawal (EXPIRED)", () => {
    const expired = deliveredForm(entry("e1", "A", { effectiveTo: timestampFromDate(now) }), now);
    expect([expired.kind, expired.withdrawalReason]).toEqual([ListEntryKind.WITHDRAWAL, WithdrawalReason.EXPIRED]);
  });

  it("leaves an entry in force as it is", () => {
    const e = entry("e1", "A", { effectiveTo: timestampFromDate(new Date(now.getTime() + 1)) });
    expect(deliveredForm(e, now)).toBe(e);
  });
});
