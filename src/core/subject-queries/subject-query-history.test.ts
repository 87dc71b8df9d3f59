import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, SealSuite, type SealedAuditRecord } from "../../gen/credex/v1/audit_pb.js";
import { Purpose } from "../../gen/credex/v1/types_pb.js";
import { sampleAuditEvent } from "../../../test/support/audit-fixtures.js";
import { GENESIS_HASH } from "../audit/audit-chain.js";
import { generateKeyRing, type KeyRing } from "../audit/key-ring.js";
import { sealAuditEvent } from "../audit/seal.js";
import { subjectQueryHistory } from "./subject-query-history.js";

const ring = generateKeyRing("k1");
const now = new Date("2026-11-26T12:00:00Z");

function sealed(i: number, pseudonym: string, at: Date, over: { method?: string; statusCode?: number; type?: AuditEventType } = {}): SealedAuditRecord {
  const event = create(AuditEventSchema, {
    ...sampleAuditEvent(i, { pseudonym, at, agency: `agency-${i}`, purpose: Purpose.LOAN_APPROVAL, categories: ["income"] }),
    method: over.method ?? "Query",
    statusCode: over.statusCode ?? 0,
    type: over.type ?? AuditEventType.EXCHANGE,
    receivedAt: timestampFromDate(at),
  });
  return sealAuditEvent(event, { gatewayInstance: "gw-1", sequence: BigInt(i), prevHash: GENESIS_HASH, suite: SealSuite.AES_256_GCM, sealedAt: at }, ring);
}

/** The ring, counting how many records were opened with it (each open takes the data key once). */
function countingRing(): { ring: KeyRing; opened: () => number } {
  let n = 0;
  return { ring: { ...ring, key: (id: string) => (n++, ring.key(id)), has: (id: string) => ring.has(id) }, opened: () => n };
}

describe("subjectQueryHistory (Regulation Art. 22; PIPL Art. 45)", () => {
  const days = (d: number) => new Date(now.getTime() - d * 86_400_000);
  const records = [
    sealed(1, "alice", days(40)),
    sealed(2, "bob", days(30)),
    sealed(3, "alice", days(20), { statusCode: 7 }),
    sealed(4, "alice", days(10), { statusCode: 16 }), // unauthenticated caller: not a query by a verified agency
    sealed(5, "alice", days(5), { method: "FileObjection", type: AuditEventType.OBJECTION }),
    sealed(6, "bob", days(2)),
    sealed(7, "alice", days(1), { method: "QueryStream" }),
  ];
  const scan = async (_from: Date, onRecord: (r: SealedAuditRecord) => void) => records.forEach(onRecord);

  it("ok/lists the subject's queries, oldest first, and opens no record of another subject", async () => {
    const counter = countingRing();
    const h = await subjectQueryHistory({ scan, ring: counter.ring, subjectPseudonym: "alice", from: days(60), now, limit: 100 });
    expect(h.queries.map((q) => [q.agencyId, q.answered])).toEqual([
      ["agency-1", true],
      ["agency-3", false],
      ["agency-7", true],
    ]);
    // Records 1, 3, 4 and 7 carry alice's tags and are opened; bob's (2, 6) and the objection (5) are never decrypted.
    expect(h.opened).toBe(4);
    expect(counter.opened()).toBe(4);
  });

  it("ok/the window starts at `from`; the limit keeps the most recent", async () => {
    expect((await subjectQueryHistory({ scan, ring, subjectPseudonym: "alice", from: days(25), now, limit: 100 })).queries.map((q) => q.agencyId)).toEqual(["agency-3", "agency-7"]);
    const limited = await subjectQueryHistory({ scan, ring, subjectPseudonym: "alice", from: days(60), now, limit: 2 });
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.queries.map((q) => q.agencyId)).toEqual(["agency-3", "agency-7"]);
  });

  it("fail/a record sealed with another key ring is not the gateway's audit and is skipped", async () => {
    const foreign = sealAuditEvent(sampleAuditEvent(9, { pseudonym: "alice", at: days(1) }), { gatewayInstance: "gw-x", sequence: 1n, prevHash: GENESIS_HASH, suite: SealSuite.AES_256_GCM, sealedAt: days(1) }, generateKeyRing("k1"));
    const h = await subjectQueryHistory({ scan: async (_f, on) => on(foreign), ring, subjectPseudonym: "alice", from: days(60), now, limit: 100 });
    expect(h.queries).toHaveLength(0);
  });
});
