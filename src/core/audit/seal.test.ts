import { describe, expect, it } from "vitest";
import { SealSuite } from "../../gen/credex/v1/audit_pb.js";
import { sampleAuditEvent } from "../../../test/support/audit-fixtures.js";
import { GENESIS_HASH } from "./audit-chain.js";
import { generateKeyRing, rotateKeyRing } from "./key-ring.js";
import { decodeSealedRecord, encodeSealedRecord, openSealedRecord, sealAuditEvent, sealSuiteFromName, SealError } from "./seal.js";

const suites = [
  ["AES-256-GCM", SealSuite.AES_256_GCM],
  ["SM4-CTR+HMAC-SM3", SealSuite.SM4_CTR_HMAC_SM3],
] as const;

describe.each(suites)("seal %s", (name, suite) => {
  const ring = generateKeyRing("k1");
  const input = { gatewayInstance: "gw-1", sequence: 5n, prevHash: GENESIS_HASH, suite };

  it("ok/round-trips and keeps the header in clear", () => {
    expect(sealSuiteFromName(name)).toBe(suite);
    const event = sampleAuditEvent(1);
    const record = decodeSealedRecord(encodeSealedRecord(sealAuditEvent(event, input, ring)));
    expect(record.keyId).toBe("k1");
    expect(record.requesterAgency).toBe("pbc-crc");
    expect(record.sequence).toBe(5n);
    expect(record.nonce.length).toBe(suite === SealSuite.AES_256_GCM ? 12 : 16);
    expect(Buffer.from(record.ciphertext).includes(Buffer.from("ex-1"))).toBe(false);
    expect(openSealedRecord(record, ring)).toEqual(event);
  });

  it.each([
    ["sequence", (r: ReturnType<typeof sealAuditEvent>) => { r.sequence = 6n; }],
    ["prev_hash", (r: ReturnType<typeof sealAuditEvent>) => { r.prevHash = new Uint8Array(32).fill(1); }],
    ["requester", (r: ReturnType<typeof sealAuditEvent>) => { r.requesterAgency = "other"; }],
    ["instance", (r: ReturnType<typeof sealAuditEvent>) => { r.gatewayInstance = "gw-2"; }],
    ["event type", (r: ReturnType<typeof sealAuditEvent>) => { r.eventType = 3; }],
    ["ciphertext", (r: ReturnType<typeof sealAuditEvent>) => { r.ciphertext[0] ^= 1; }],
    ["tag", (r: ReturnType<typeof sealAuditEvent>) => { r.tag[0] ^= 1; }],
  ])("fail/altered %s does not open", (_field, alter) => {
    const record = sealAuditEvent(sampleAuditEvent(2), input, ring);
    alter(record);
    expect(() => openSealedRecord(record, ring)).toThrow(SealError);
  });

  it("ok/rotation: old records open with the rotated ring, new ones use the new key", () => {
    const old = sealAuditEvent(sampleAuditEvent(3), input, ring);
    const rotated = rotateKeyRing(ring, "k2");
    const fresh = sealAuditEvent(sampleAuditEvent(4), input, rotated);
    expect(fresh.keyId).toBe("k2");
    expect(openSealedRecord(old, rotated).exchangeId).toBe("ex-3");
    expect(() => openSealedRecord(fresh, ring)).toThrow('the key ring has no key "k2"');
  });

  it("fail/wrong key", () => {
    const record = sealAuditEvent(sampleAuditEvent(5), input, ring);
    expect(() => openSealedRecord(record, generateKeyRing("k1"))).toThrow(SealError);
  });
});
