import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { SealSuite, SealedAuditRecordSchema } from "../../gen/credex/v1/audit_pb.js";
import { sampleAuditEvent } from "../../../test/support/audit-fixtures.js";
import { GENESIS_HASH } from "./audit-chain.js";
import { generateKeyRing } from "./key-ring.js";
import { openSealedRecord, sealAuditEvent, SealError } from "./seal.js";
import { monthsBetween, subjectTag } from "./subject-tag.js";

const ring = generateKeyRing("k1");
const input = { gatewayInstance: "gw-1", sequence: 1n, prevHash: GENESIS_HASH, suite: SealSuite.AES_256_GCM };

describe("the keyed monthly subject tag of an audit record's clear header", () => {
  it("ok/stable within a month, different across months, subjects and keys", () => {
    const tag = (p: string, at: string, key = ring.pseudonymKey) => subjectTag(key, p, new Date(at)).toString("hex");
    expect(tag("p1", "2026-11-01T00:00:00Z")).toBe(tag("p1", "2026-11-30T23:59:59Z"));
    expect(tag("p1", "2026-11-30T23:59:59Z")).not.toBe(tag("p1", "2026-12-01T00:00:00Z"));
    expect(tag("p1", "2026-11-05T00:00:00Z")).not.toBe(tag("p2", "2026-11-05T00:00:00Z"));
    expect(tag("p1", "2026-11-05T00:00:00Z")).not.toBe(tag("p1", "2026-11-05T00:00:00Z", generateKeyRing("k2").pseudonymKey));
    expect(subjectTag(ring.pseudonymKey, "p1", new Date())).toHaveLength(16);
  });

  it("ok/monthsBetween covers every month, across a year's end", () => {
    expect(monthsBetween(new Date("2025-11-20T00:00:00Z"), new Date("2026-02-03T00:00:00Z")).map((d) => d.toISOString().slice(0, 7))).toEqual(["2025-11", "2025-12", "2026-01", "2026-02"]);
  });

  it("ok/sealing tags an event by its subject and sealing month; an event without a subject has no tag", () => {
    const at = new Date("2026-11-26T04:00:00Z");
    const tagged = sealAuditEvent(sampleAuditEvent(1, { pseudonym: "p1" }), { ...input, sealedAt: at }, ring);
    expect(Buffer.from(tagged.subjectTag).equals(subjectTag(ring.pseudonymKey, "p1", at))).toBe(true);
    const untagged = sealAuditEvent(sampleAuditEvent(2, { pseudonym: "" }), input, ring);
    expect(untagged.subjectTag).toHaveLength(0);
    expect(openSealedRecord(untagged, ring).exchangeId).toBe("ex-2");
  });

  it("fail/the tag is authenticated: stripped, swapped or added, the record no longer opens", () => {
    const tagged = sealAuditEvent(sampleAuditEvent(3, { pseudonym: "p1" }), input, ring);
    const other = sealAuditEvent(sampleAuditEvent(4, { pseudonym: "p2" }), input, ring);
    expect(() => openSealedRecord(create(SealedAuditRecordSchema, { ...tagged, subjectTag: new Uint8Array(0) }), ring)).toThrow(SealError);
    expect(() => openSealedRecord(create(SealedAuditRecordSchema, { ...tagged, subjectTag: other.subjectTag }), ring)).toThrow(SealError);
    const bare = sealAuditEvent(sampleAuditEvent(5, { pseudonym: "" }), input, ring);
    expect(() => openSealedRecord(create(SealedAuditRecordSchema, { ...bare, subjectTag: tagged.subjectTag }), ring)).toThrow(SealError);
  });
});
