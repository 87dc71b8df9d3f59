import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ObjectionResolution, ObjectionSchema, ObjectionStatus } from "../../gen/credex/v1/objections_pb.js";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";
import type { CredexError } from "../errors.js";
import { createMemoryObjectionStore, ObjectionRegistry } from "./objection-registry.js";

const DAY = 86_400_000;

async function setup() {
  let now = new Date("2026-03-01T08:00:00Z");
  const store = createMemoryObjectionStore();
  const registry = await ObjectionRegistry.open({ store, clock: () => now });
  const filedAt = now;
  await registry.add(
    create(ObjectionSchema, {
      objectionId: "o1",
      recordId: "r1",
      ownerAgency: "sh-credit",
      filedBy: "pbccrc",
      status: ObjectionStatus.OPEN,
      filedAt: timestampFromDate(filedAt),
      dueAt: timestampFromDate(registry.dueAt(filedAt)),
    }),
  );
  return { registry, store, advance: (ms: number) => (now = new Date(now.getTime() + ms)), now: () => now };
}

const reasonOf = async (p: Promise<unknown>) => p.then(() => "none", (err: CredexError) => err.reason);

describe("ObjectionRegistry", () => {
  it("marks the record disputed while open and counts 20 days (Art. 25)", async () => {
    const { registry } = await setup();
    expect(registry.isDisputed("sh-credit", "r1")).toBe(true);
    expect(registry.isDisputed("sh-credit", "r2")).toBe(false);
    expect(registry.isDisputed("pbccrc", "r1")).toBe(false);
    expect(registry.daysLeft(registry.get("o1")!)).toBe(20);
  });

  it("raises a breach once, after 24:00 CST of the 20th day after receipt (Art. 25; Civil Code Art. 201, 203), and remembers it across a restart", async () => {
    const { registry, store, advance } = await setup();
    // Filed 1 March 16:00 CST: the period ends at 24:00 CST on 21 March (16:00 UTC), not 20 x 24 h after filing.
    expect(registry.get("o1")!.dueAt).toEqual(timestampFromDate(new Date("2026-03-21T16:00:00Z")));
    advance(20 * DAY);
    expect(await registry.takeOverdue()).toEqual([]);
    advance(8 * 3_600_000 - 1);
    expect(await registry.takeOverdue()).toEqual([]);
    advance(1);
    expect((await registry.takeOverdue()).map((o) => o.objectionId)).toEqual(["o1"]);
    expect(await registry.takeOverdue()).toEqual([]);
    const reopened = await ObjectionRegistry.open({ store, clock: () => new Date("2026-04-01T00:00:00Z") });
    expect(await reopened.takeOverdue()).toEqual([]);
    expect(reopened.isDisputed("sh-credit", "r1")).toBe(true);
  });

  it.each([
    ["ok/corrected-clears", ObjectionResolution.CORRECTED, false],
    ["ok/mark-removed-clears", ObjectionResolution.MARK_REMOVED, false],
    ["ok/both-statements-kept-stays-disputed", ObjectionResolution.BOTH_STATEMENTS_KEPT, true],
    ["ok/record-deleted-clears", ObjectionResolution.RECORD_DELETED, false],
  ])("%s", async (_name, resolution, disputed) => {
    const { registry } = await setup();
    const resolved = await registry.resolve("o1", resolution, "sh-credit");
    expect(resolved.status).toBe(ObjectionStatus.RESOLVED);
    expect(registry.isDisputed("sh-credit", "r1")).toBe(disputed);
    expect(await registry.takeOverdue(new Date("2030-01-01"))).toEqual([]);
  });

  it.each([
    ["fail/not-found", "o9", ObjectionResolution.CORRECTED, "sh-credit", "OBJECTION_NOT_FOUND"],
    ["fail/not-owner", "o1", ObjectionResolution.CORRECTED, "pbccrc", "OBJECTION_NOT_OWNER"],
    ["fail/no-resolution", "o1", ObjectionResolution.UNSPECIFIED, "sh-credit", "OBJECTION_INVALID"],
  ])("%s", async (_name, id, resolution, by, reason) => {
    const { registry } = await setup();
    expect(await reasonOf(registry.resolve(id, resolution, by))).toBe(reason);
    expect(registry.isDisputed("sh-credit", "r1")).toBe(true);
  });

  it("fail/already-resolved", async () => {
    const { registry } = await setup();
    await registry.resolve("o1", ObjectionResolution.CORRECTED, "sh-credit");
    expect(await reasonOf(registry.resolve("o1", ObjectionResolution.CORRECTED, "sh-credit"))).toBe("OBJECTION_ALREADY_RESOLVED");
  });

  it("does not change state when the store fails", async () => {
    const { registry, store } = await setup();
    store.save = async () => {
      throw new Error("disk full");
    };
    await expect(registry.resolve("o1", ObjectionResolution.CORRECTED, "sh-credit")).rejects.toThrow("disk full");
    expect(registry.isDisputed("sh-credit", "r1")).toBe(true);
  });
});

describe("the answer reaches the filer and the notices their recipients, saved with the resolution (Art. 25; PIPL Art. 46)", () => {
  const notice = (recipientAgency: string) => ({
    noticeId: `n-${recipientAgency}`,
    recipientAgency,
    ownerAgency: "sh-credit",
    recordId: "r1",
    subjectType: SubjectType.LEGAL_PERSON,
    resolution: ObjectionResolution.CORRECTED,
  });
  const outcome = { statementSealed: new Uint8Array([1, 2, 3]), notices: [notice("csrc"), notice("nfra")] };

  it("ok/only the filer's answers and only the recipient's notices, numbered in order, kept across a restart", async () => {
    const { registry, store } = await setup();
    await registry.resolve("o1", ObjectionResolution.CORRECTED, "sh-credit", outcome);
    expect(registry.answersFor("pbccrc", 0n, 10).map((a) => [a.objection.objectionId, a.answer.sequence, [...a.answer.statementSealed]])).toEqual([["o1", 1n, [1, 2, 3]]]);
    expect(registry.answersFor("csrc", 0n, 10)).toEqual([]);
    expect(registry.answersFor("sh-credit", 0n, 10)).toEqual([]);
    expect(registry.noticesFor("csrc", 0n, 10).map((n) => [n.recordId, n.sequence])).toEqual([["r1", 2n]]);
    expect(registry.noticesFor("nfra", 0n, 10).map((n) => n.sequence)).toEqual([3n]);
    expect(registry.noticesFor("pbccrc", 0n, 10)).toEqual([]);
    expect(registry.noticesFor("csrc", 2n, 10)).toEqual([]);

    const reopened = await ObjectionRegistry.open({ store, clock: () => new Date("2026-03-02T00:00:00Z") });
    expect(reopened.noticesFor("nfra", 0n, 10).map((n) => n.noticeId)).toEqual(["n-nfra"]);
    await reopened.add(create(ObjectionSchema, { objectionId: "o2", recordId: "r2", ownerAgency: "sh-credit", filedBy: "pbccrc", status: ObjectionStatus.OPEN, dueAt: timestampFromDate(new Date("2026-03-22T16:00:00Z")) }));
    await reopened.resolve("o2", ObjectionResolution.MARK_REMOVED, "sh-credit", { statementSealed: new Uint8Array(), notices: [] });
    // Positions continue after a restart: a poller's last_sequence stays valid.
    expect(reopened.answersFor("pbccrc", 1n, 10).map((a) => [a.objection.objectionId, a.answer.sequence])).toEqual([["o2", 4n]]);
  });

  it("fail/two answers at once: one is saved, the other is refused as already resolved", async () => {
    const { registry } = await setup();
    const results = await Promise.all([
      reasonOf(registry.resolve("o1", ObjectionResolution.CORRECTED, "sh-credit", outcome)),
      reasonOf(registry.resolve("o1", ObjectionResolution.RECORD_DELETED, "sh-credit", outcome)),
    ]);
    expect(results.sort()).toEqual(["OBJECTION_ALREADY_RESOLVED", "none"]);
    expect(registry.answersFor("pbccrc", 0n, 10)).toHaveLength(1);
    expect(registry.noticesFor("csrc", 0n, 10)).toHaveLength(1);
  });

  it("fail/a non-owner's answer leaves no answer and no notice (Art. 25: the owner answers)", async () => {
    const { registry } = await setup();
    expect(await reasonOf(registry.resolve("o1", ObjectionResolution.RECORD_DELETED, "csrc", outcome))).toBe("OBJECTION_NOT_OWNER");
    expect(registry.answersFor("pbccrc", 0n, 10)).toEqual([]);
    expect(registry.noticesFor("csrc", 0n, 10)).toEqual([]);
  });

  it("fail/nothing is kept when the store fails", async () => {
    const { registry, store } = await setup();
    store.save = async () => {
      throw new Error("disk full");
    };
    await expect(registry.resolve("o1", ObjectionResolution.CORRECTED, "sh-credit", outcome)).rejects.toThrow("disk full");
    expect(registry.answersFor("pbccrc", 0n, 10)).toEqual([]);
    expect(registry.noticesFor("csrc", 0n, 10)).toEqual([]);
  });
});
