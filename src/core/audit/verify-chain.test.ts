import { describe, expect, it } from "vitest";
import { SealSuite } from "../../gen/credex/v1/audit_pb.js";
import { makeCheckpointPki, makeSigningIdentity, sampleAuditEvent } from "../../../test/support/audit-fixtures.js";
import { createAuditChain, genesisHead, type ChainedRecord } from "./audit-chain.js";
import { createCheckpoint, createCheckpointSigner, encodeCheckpoint } from "./checkpoint.js";
import { generateKeyRing } from "./key-ring.js";
import { decodeSealedRecord, encodeSealedRecord } from "./seal.js";
import { verifyChain, type VerifyEntry } from "./verify-chain.js";

const ring = generateKeyRing("k1");
const id = makeSigningIdentity("ec");
const signer = createCheckpointSigner(id);

function build(n: number, instance = "gw-1"): ChainedRecord[] {
  const chain = createAuditChain(genesisHead(instance), ring, SealSuite.AES_256_GCM);
  return Array.from({ length: n }, (_, i) => chain.append(sampleAuditEvent(i)));
}
const entries = (recs: ChainedRecord[], stream = "f"): VerifyEntry[] =>
  recs.map((r, i) => ({ kind: "record", bytes: r.bytes, position: `${stream}:${i + 1}`, stream }));

describe("verifyChain", () => {
  it("ok/an intact chain, two instances, with a checkpoint", () => {
    const a = build(5, "gw-a");
    const b = build(3, "gw-b");
    const cp = createCheckpoint({ instance: "gw-a", sequence: 5n, headHash: a[4].hash }, signer);
    const report = verifyChain([...entries(a), ...entries(b, "g"), { kind: "checkpoint", bytes: encodeCheckpoint(cp), position: "cp:1" }], { keyRing: ring, certificates: [id.certificatePem] });
    expect(report.ok).toBe(true);
    expect(report.decrypted).toBe(8);
    expect(report.chains.map((c) => [c.instance, c.records, c.lastSequence, c.checkpoints])).toEqual([["gw-a", 5, 5n, 1], ["gw-b", 3, 3n, 0]]);
  });

  it("fail/gap names the record after it", () => {
    const recs = build(5);
    const report = verifyChain(entries(recs).filter((_, i) => i !== 2));
    expect(report.ok).toBe(false);
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "gap", sequence: 3n, position: "f:4" });
  });

  it("fail/first record missing", () => {
    const report = verifyChain(entries(build(3)).slice(1));
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "gap", sequence: 1n });
    expect(verifyChain(entries(build(3)).slice(1), { requireGenesis: false }).ok).toBe(true);
  });

  it("fail/reorder within a stream", () => {
    const e = entries(build(4));
    [e[1], e[2]] = [e[2], e[1]];
    const report = verifyChain(e);
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "reorder", sequence: 2n, position: "f:2" });
  });

  it("ok/records spread over streams (partitions) interleave freely", () => {
    const recs = build(4);
    const report = verifyChain([
      { kind: "record", bytes: recs[1].bytes, position: "t/1/0", stream: "t/1" },
      { kind: "record", bytes: recs[0].bytes, position: "t/0/0", stream: "t/0" },
      { kind: "record", bytes: recs[3].bytes, position: "t/1/1", stream: "t/1" },
      { kind: "record", bytes: recs[2].bytes, position: "t/0/1", stream: "t/0" },
    ]);
    expect(report.ok).toBe(true);
  });

  it("fail/duplicate and fork", () => {
    const recs = build(3);
    const other = build(3);
    const dup = verifyChain([...entries(recs), { kind: "record", bytes: recs[2].bytes, position: "f:4", stream: "g" }]);
    expect(dup.chains[0].firstBreak).toMatchObject({ kind: "duplicate", sequence: 3n, position: "f:4" });
    const fork = verifyChain([...entries(recs), { kind: "record", bytes: other[1].bytes, position: "f:4", stream: "g" }]);
    expect(fork.chains[0].firstBreak).toMatchObject({ kind: "fork", sequence: 2n, position: "f:4" });
  });

  it("fail/a forged record (re-sealed with a valid key but not the chain's) breaks the next link", () => {
    const recs = build(4);
    const forgedChain = createAuditChain({ instance: "gw-1", sequence: 1n, headHash: recs[0].hash }, generateKeyRing("k1"), SealSuite.AES_256_GCM);
    const forged = forgedChain.append(sampleAuditEvent(99));
    const e = entries(recs);
    e[1] = { ...e[1], bytes: forged.bytes };
    const report = verifyChain(e, { keyRing: ring });
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "decrypt", sequence: 2n, position: "f:2" });
    expect(verifyChain(e).chains[0].firstBreak).toMatchObject({ kind: "bad-hash", sequence: 3n, position: "f:3" });
  });

  it("fail/an altered header does not decrypt", () => {
    const recs = build(2);
    const r = decodeSealedRecord(recs[1].bytes);
    r.requesterAgency = "someone-else";
    const e = entries(recs);
    e[1] = { ...e[1], bytes: encodeSealedRecord(r) };
    expect(verifyChain(e, { keyRing: ring }).chains[0].firstBreak).toMatchObject({ kind: "decrypt", position: "f:2" });
  });

  it("fail/truncated tail is caught by a checkpoint", () => {
    const recs = build(5);
    const cp = createCheckpoint({ instance: "gw-1", sequence: 5n, headHash: recs[4].hash }, signer);
    const report = verifyChain([...entries(recs.slice(0, 3)), { kind: "checkpoint", bytes: encodeCheckpoint(cp), position: "cp:9" }], { certificates: [id.certificatePem] });
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "missing-after-checkpoint", sequence: 4n, position: "cp:9" });
  });

  it("fail/checkpoint signature and checkpoint mismatch", () => {
    const recs = build(2);
    const bad = createCheckpoint({ instance: "gw-1", sequence: 2n, headHash: recs[1].hash }, signer);
    bad.sequence = 1n;
    const r1 = verifyChain([...entries(recs), { kind: "checkpoint", bytes: encodeCheckpoint(bad), position: "cp:1" }], { certificates: [id.certificatePem] });
    expect(r1.chains[0].firstBreak).toMatchObject({ kind: "checkpoint-signature", position: "cp:1" });
    const wrong = createCheckpoint({ instance: "gw-1", sequence: 2n, headHash: recs[0].hash }, signer);
    const r2 = verifyChain([...entries(recs), { kind: "checkpoint", bytes: encodeCheckpoint(wrong), position: "cp:1" }], { certificates: [id.certificatePem] });
    expect(r2.chains[0].firstBreak).toMatchObject({ kind: "checkpoint-mismatch", sequence: 2n, position: "f:2" });
    const unknown = verifyChain([...entries(recs), { kind: "checkpoint", bytes: encodeCheckpoint(wrong), position: "cp:1" }], { certificates: [makeSigningIdentity("ec").certificatePem] });
    expect(unknown.chains[0].firstBreak?.kind).toBe("checkpoint-signature");
  });

  it("ok/with the CA, checkpoints signed before and after a rotation verify without pinning either certificate; fail/one signed by an agency", async () => {
    const pki = await makeCheckpointPki();
    const recs = build(4);
    const cp = (seq: number, who: { privateKeyPem: string; certificatePem: string }, at: string): VerifyEntry => ({
      kind: "checkpoint",
      bytes: encodeCheckpoint(createCheckpoint({ instance: "gw-1", sequence: BigInt(seq), headHash: recs[seq - 1]!.hash }, createCheckpointSigner(who))),
      position: at,
    });
    const signerAnchors = { ca: [pki.rootPem], trustDomain: pki.trustDomain };
    const rotated = verifyChain([...entries(recs), cp(2, pki.gateway, "cp:1"), cp(4, pki.rotated, "cp:2")], { keyRing: ring, signerAnchors });
    expect(rotated.ok).toBe(true);
    expect([rotated.checkpoints, rotated.checkpointsUnchecked]).toEqual([2, 0]);
    // Pinning only the new certificate, without the CA, leaves the older checkpoint unaccounted for.
    const pinned = verifyChain([...entries(recs), cp(2, pki.gateway, "cp:1"), cp(4, pki.rotated, "cp:2")], { certificates: [pki.rotated.certificatePem] });
    expect(pinned.chains[0]!.firstBreak).toMatchObject({ kind: "checkpoint-signature", position: "cp:1", detail: expect.stringContaining("unknown certificate") });
    const byAgency = verifyChain([...entries(recs), cp(4, pki.agency, "cp:3")], { signerAnchors });
    expect(byAgency.chains[0]!.firstBreak).toMatchObject({ kind: "checkpoint-signature", position: "cp:3", detail: expect.stringContaining("does not name the gateway") });
  }, 60_000);

  it("fail/malformed bytes are reported without a chain", () => {
    const report = verifyChain([{ kind: "record", bytes: Buffer.from([0xff, 0xff, 0xff]), position: "f:1" }]);
    expect(report.ok).toBe(false);
    expect(report.orphanBreaks[0]).toMatchObject({ kind: "malformed", position: "f:1" });
  });
});
