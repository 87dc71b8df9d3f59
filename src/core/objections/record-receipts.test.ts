import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType } from "../../gen/credex/v1/audit_pb.js";
import { createRecordReceipts, receiptsOfAuditEvent } from "./record-receipts.js";

const DAY = 86_400_000;
const t0 = new Date("2026-06-01T00:00:00Z");
const receipt = (recordId: string, at = t0, agency = "pbccrc") => ({ agency, ownerAgency: "sh-credit", recordId, subjectPseudonym: "p1", at });

describe("item 7: record receipts (who received which record in an audited exchange)", () => {
  it("ok/a noted receipt gives standing for that agency, owner, record and subject only", () => {
    const receipts = createRecordReceipts({ retentionMs: 180 * DAY, maxEntries: 1_000 });
    receipts.note(receipt("r1"));
    expect(receipts.received(receipt("r1"), t0)).toBe(true);
    expect(receipts.received(receipt("r1", t0, "csrc"), t0)).toBe(false);
    expect(receipts.received(receipt("r2"), t0)).toBe(false);
    expect(receipts.received({ ...receipt("r1"), subjectPseudonym: "p2" }, t0)).toBe(false);
    expect(receipts.received({ ...receipt("r1"), ownerAgency: "csrc" }, t0)).toBe(false);
  });

  it("fail/a receipt older than the window gives no standing; the oldest go first beyond maxEntries", () => {
    const receipts = createRecordReceipts({ retentionMs: 10 * DAY, maxEntries: 1_000 });
    receipts.note(receipt("old"));
    expect(receipts.received(receipt("old"), new Date(t0.getTime() + 11 * DAY))).toBe(false);
    const bounded = createRecordReceipts({ retentionMs: 10 * DAY, maxEntries: 1_000 });
    for (let i = 0; i < 1_001; i++) bounded.note(receipt(`r${i}`, new Date(t0.getTime() + i)));
    expect(bounded.size()).toBe(1_000);
    expect(bounded.received(receipt("r0"), t0)).toBe(false);
    expect(bounded.received(receipt("r1000"), t0)).toBe(true);
    // Receiving a record again renews it: it is no longer among the oldest.
    bounded.note(receipt("r1", new Date(t0.getTime() + 5_000)));
    bounded.note(receipt("new", new Date(t0.getTime() + 6_000)));
    expect(bounded.received(receipt("r1"), t0)).toBe(true);
    expect(bounded.received(receipt("r2"), t0)).toBe(false);
  });

  it("ok/an answered exchange's audit event shows its released records; a refused one shows none", () => {
    const event = create(AuditEventSchema, {
      type: AuditEventType.EXCHANGE,
      requester: { agencyId: "pbccrc" },
      subjectPseudonym: "p1",
      repliedAt: timestampFromDate(t0),
      release: { releasedRecords: [{ ownerAgency: "sh-credit", recordIds: ["r1", "r2"] }] },
    });
    expect(receiptsOfAuditEvent(event)).toEqual([receipt("r1"), receipt("r2")]);
    expect(receiptsOfAuditEvent(create(AuditEventSchema, { ...event, statusCode: 7 }))).toEqual([]);
    expect(receiptsOfAuditEvent(create(AuditEventSchema, { ...event, type: AuditEventType.OBJECTION }))).toEqual([]);
  });
});

describe("record receipts name the recipients of a corrected record (Art. 25; PIPL Art. 46)", () => {
  it("ok/every agency that received this record about this subject since the given day, with its latest receipt", () => {
    const receipts = createRecordReceipts({ retentionMs: 180 * DAY, maxEntries: 1_000 });
    const now = new Date(t0.getTime() + 100 * DAY);
    receipts.note(receipt("r1", new Date(t0.getTime() + 20 * DAY), "csrc"));
    receipts.note(receipt("r1", new Date(t0.getTime() + 50 * DAY), "csrc"));
    receipts.note(receipt("r1", new Date(t0.getTime() + 5 * DAY), "nfra"));
    receipts.note(receipt("r1", new Date(t0.getTime() + 60 * DAY), "safe"));
    receipts.note(receipt("r2", new Date(t0.getTime() + 60 * DAY), "pbccrc"));
    receipts.note({ ...receipt("r1", new Date(t0.getTime() + 60 * DAY), "sh-credit"), subjectPseudonym: "p2" });
    const since = new Date(now.getTime() - 90 * DAY);
    const found = receipts.receivers({ ownerAgency: "sh-credit", recordId: "r1", subjectPseudonym: "p1" }, since, now);
    // nfra received it 95 days ago: outside the 90 days, no notice.
    expect(found.map((r) => [r.agency, r.at.toISOString()]).sort()).toEqual([
      ["csrc", new Date(t0.getTime() + 50 * DAY).toISOString()],
      ["safe", new Date(t0.getTime() + 60 * DAY).toISOString()],
    ]);
  });

  it("fail/an agency id ending like another is not confused with it", () => {
    const receipts = createRecordReceipts({ retentionMs: 180 * DAY, maxEntries: 1_000 });
    receipts.note(receipt("r1", t0, "x-csrc"));
    expect(receipts.receivers({ ownerAgency: "sh-credit", recordId: "r1", subjectPseudonym: "p1" }, new Date(0), t0).map((r) => r.agency)).toEqual(["x-csrc"]);
    expect(receipts.receivers({ ownerAgency: "h-credit", recordId: "r1", subjectPseudonym: "p1" }, new Date(0), t0)).toEqual([]);
  });
});
