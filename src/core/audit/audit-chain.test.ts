import { describe, expect, it } from "vitest";
import { SealSuite } from "../../gen/credex/v1/audit_pb.js";
import { sampleAuditEvent } from "../../../test/support/audit-fixtures.js";
import { createAuditChain, GENESIS_HASH, genesisHead, recordHash } from "./audit-chain.js";
import { generateKeyRing } from "./key-ring.js";
import { decodeSealedRecord } from "./seal.js";

describe("createAuditChain", () => {
  it("ok/sequences from 1, each prev_hash is the SHA-256 of the previous record's bytes", () => {
    const chain = createAuditChain(genesisHead("gw-1"), generateKeyRing(), SealSuite.AES_256_GCM);
    const a = chain.append(sampleAuditEvent(1));
    const b = chain.append(sampleAuditEvent(2));
    expect(a.record.sequence).toBe(1n);
    expect(Buffer.from(a.record.prevHash).equals(Buffer.from(GENESIS_HASH))).toBe(true);
    expect(Buffer.from(decodeSealedRecord(b.bytes).prevHash).equals(Buffer.from(recordHash(a.bytes)))).toBe(true);
    expect(chain.head()).toMatchObject({ sequence: 2n });
  });
});
