import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ObjectionResolution, ObjectionSchema, ObjectionStatus } from "../../gen/credex/v1/objections_pb.js";
import type { CredexError } from "../errors.js";
import { createMemoryObjectionStore, daysLeftUntil, ObjectionRegistry } from "./objection-registry.js";

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

  it("raises a breach once, after the 20th day, and remembers it across a restart", async () => {
    const { registry, store, advance } = await setup();
    advance(20 * DAY - 1);
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

describe("daysLeftUntil", () => {
  it.each([
    ["full-days", 20 * DAY, 20],
    ["started-day-counts", 19 * DAY + 1, 20],
    ["last-ms", 1, 1],
    ["just-overdue", 0, -1],
    ["two-days-overdue", -(DAY + 1), -2],
  ])("%s", (_name, ms, days) => {
    const now = new Date("2026-03-01T00:00:00Z");
    expect(daysLeftUntil(new Date(now.getTime() + ms), now)).toBe(days);
  });
});
