import { describe, expect, it } from "vitest";
import { SealSuite } from "../../gen/credex/v1/audit_pb.js";
import { makeCheckpointPki, makeSigningIdentity, sampleAuditEvent } from "../../../test/support/audit-fixtures.js";
import { createAuditChain, genesisHead, type ChainedRecord } from "./audit-chain.js";
import { createCheckpoint, createCheckpointSigner, encodeCheckpoint } from "./checkpoint.js";
import { chainRestartEvent } from "./chain-restart.js";
import { generateKeyRing } from "./key-ring.js";
import { decodeSealedRecord, encodeSealedRecord } from "./seal.js";
import { verifyChain, type ChainBreak, type ChainSummary, type VerifyEntry } from "./verify-chain.js";

const ring = generateKeyRing("k1");
const id = makeSigningIdentity("ec");
const signer = createCheckpointSigner(id);

function build(n: number, instance = "gw-1"): ChainedRecord[] {
  const chain = createAuditChain(genesisHead(instance), ring, SealSuite.AES_256_GCM);
  return Array.from({ length: n }, (_, i) => chain.append(sampleAuditEvent(i)));
}
const entries = (recs: ChainedRecord[], stream = "f"): VerifyEntry[] =>
  recs.map((r, i) => ({ kind: "record", bytes: r.bytes, position: `${stream}:${i + 1}`, stream }));
/** A checkpoint signed by the gateway's key (`signer`) naming record `seq` of `recs`. */
const checkpointOf = (recs: ChainedRecord[], seq: number, position: string, instance = "gw-1", by = signer): VerifyEntry => ({
  kind: "checkpoint",
  bytes: encodeCheckpoint(createCheckpoint({ instance, sequence: BigInt(seq), headHash: recs[seq - 1]!.hash }, by)),
  position,
});
const pinned = { certificates: [id.certificatePem] };

describe("verifyChain", () => {
  it("ok/an intact chain, two instances, with a checkpoint", () => {
    const a = build(5, "gw-a");
    const b = build(3, "gw-b");
    const report = verifyChain([...entries(a), ...entries(b, "g"), checkpointOf(a, 5, "cp:1", "gw-a"), checkpointOf(b, 3, "cp:2", "gw-b")], { keyRing: ring, certificates: [id.certificatePem] });
    expect(report.ok).toBe(true);
    expect(report.decrypted).toBe(8);
    expect(report.chains.map((c) => [c.instance, c.records, c.lastSequence, c.checkpoints])).toEqual([["gw-a", 5, 5n, 1], ["gw-b", 3, 3n, 1]]);
  });

  it("fail/gap names the record after it", () => {
    const recs = build(5);
    const report = verifyChain(entries(recs).filter((_, i) => i !== 2));
    expect(report.ok).toBe(false);
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "gap", sequence: 3n, position: "f:4" });
  });

  it("fail/first record missing", () => {
    const recs = build(3);
    const report = verifyChain([...entries(recs).slice(1), checkpointOf(recs, 3, "cp:1")], pinned);
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "gap", sequence: 1n });
    expect(verifyChain([...entries(recs).slice(1), checkpointOf(recs, 3, "cp:1")], { ...pinned, requireGenesis: false }).ok).toBe(true);
  });

  it("fail/reorder within a stream", () => {
    const e = entries(build(4));
    [e[1], e[2]] = [e[2], e[1]];
    const report = verifyChain(e);
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "reorder", sequence: 2n, position: "f:2" });
  });

  it("ok/records spread over streams (partitions) interleave freely", () => {
    const recs = build(4);
    const report = verifyChain(
      [
        { kind: "record", bytes: recs[1].bytes, position: "t/1/0", stream: "t/1" },
        { kind: "record", bytes: recs[0].bytes, position: "t/0/0", stream: "t/0" },
        { kind: "record", bytes: recs[3].bytes, position: "t/1/1", stream: "t/1" },
        { kind: "record", bytes: recs[2].bytes, position: "t/0/1", stream: "t/0" },
        checkpointOf(recs, 4, "cp/0/0"),
      ],
      pinned,
    );
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
    expect(report.chains[0].firstBreak).toMatchObject({ kind: "missing-after-checkpoint", sequence: 4n, position: "cp:9", detail: "sequences 4..5 are missing: the checkpoint covers sequence 5 but the chain ends at 3" });
  });

  it("fail/checkpoint signature and checkpoint mismatch", () => {
    const recs = build(2);
    const bad = createCheckpoint({ instance: "gw-1", sequence: 2n, headHash: recs[1].hash }, signer);
    bad.sequence = 1n;
    const r1 = verifyChain([...entries(recs), { kind: "checkpoint", bytes: encodeCheckpoint(bad), position: "cp:1" }], { certificates: [id.certificatePem] });
    expect(r1.chains[0].firstBreak).toMatchObject({ kind: "checkpoint-signature", position: "cp:1" });
    const wrong = createCheckpoint({ instance: "gw-1", sequence: 2n, headHash: recs[0].hash }, signer);
    const r2 = verifyChain([...entries(recs), { kind: "checkpoint", bytes: encodeCheckpoint(wrong), position: "cp:1" }], { certificates: [id.certificatePem] });
    expect(r2.chains[0].firstBreak).toMatchObject({ kind: "checkpoint-mismatch", sequence: 2n, position: "f:2", detail: "record differs from the head signed by the checkpoint at cp:1: records 1..2 were altered or replaced" });
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

  describe("coverage by signed checkpoints (issue 16, item 2)", () => {
    const recs = build(6);
    const restartChain = (() => {
      // Records 1-3, a checkpoint at 2, then the gateway restarts its chain at 4 (--new-audit-chain), checkpoint at 5.
      const chain = createAuditChain(genesisHead("gw-1"), ring, SealSuite.AES_256_GCM);
      const r = [chain.append(sampleAuditEvent(0)), chain.append(sampleAuditEvent(1)), chain.append(sampleAuditEvent(2))];
      r.push(chain.append(chainRestartEvent({ instance: "gw-1", reason: "the chain state was missing", previousCheckpoint: undefined, refusedStateKeptAs: undefined })));
      r.push(chain.append(sampleAuditEvent(4)));
      return r;
    })();
    const outsider = createCheckpointSigner(makeSigningIdentity("ec"));
    const cases: Array<[string, VerifyEntry[], Parameters<typeof verifyChain>[1], Partial<ChainBreak> | undefined, Partial<ChainSummary>]> = [
      ["ok/every record under a signed checkpoint", [...entries(recs), checkpointOf(recs, 3, "cp:1"), checkpointOf(recs, 6, "cp:2")], pinned, undefined, { breaks: 0 }],
      ["fail/no checkpoint at all", entries(recs), pinned, { kind: "no-checkpoint", sequence: 1n, position: "f:1", detail: "no signed checkpoint covers sequences 1..6" }, {}],
      [
        "fail/checkpoints whose signatures were not checked vouch for nothing",
        [...entries(recs), checkpointOf(recs, 6, "cp:1")],
        {},
        { kind: "no-checkpoint", detail: "no signed checkpoint covers sequences 1..6 (1 checkpoints whose signatures were not checked: give --cert or --ca)" },
        {},
      ],
      [
        "fail/a tail a key-ring holder added, with a checkpoint it signed itself",
        [...entries(recs), checkpointOf(recs, 4, "cp:1"), checkpointOf(recs, 6, "cp:2", "gw-1", outsider)],
        pinned,
        { kind: "checkpoint-signature", position: "cp:2" },
        { breaks: 2 },
      ],
      [
        "fail/unsigned tail past the last checkpoint",
        [...entries(recs), checkpointOf(recs, 4, "cp:1")],
        pinned,
        { kind: "unsigned-tail", sequence: 5n, position: "f:5", detail: "sequences 5..6 come after the last signed checkpoint (sequence 4 at cp:1): added after it, or the gateway has not closed its sink (still running, or killed)" },
        {},
      ],
      ["ok/allowUnsignedTail reports the tail as unverified", [...entries(recs), checkpointOf(recs, 4, "cp:1")], { ...pinned, allowUnsignedTail: true }, undefined, { breaks: 0, unverified: { from: 5n, to: 6n, position: "f:5" } }],
      ["ok/allowUnsignedTail, a live chain without a checkpoint yet", entries(recs), { ...pinned, allowUnsignedTail: true }, undefined, { breaks: 0, unverified: { from: 1n, to: 6n, position: "f:1" } }],
      [
        "fail/an announced restart, even with allowUnsignedTail, with what it leaves uncovered",
        [...entries(restartChain), checkpointOf(restartChain, 2, "cp:1"), checkpointOf(restartChain, 5, "cp:2")],
        { ...pinned, keyRing: ring, allowUnsignedTail: true },
        {
          kind: "restart",
          sequence: 4n,
          position: "f:4",
          detail:
            "a new chain was started here (--new-audit-chain: the gateway's chain state was missing, failed its key check or did not match the log; see the incident): the last checkpoint before it covers sequence 2 (cp:1); records 3..3 are not covered by a checkpoint, and records after sequence 2 may have been removed",
        },
        { breaks: 1, restarts: 1 },
      ],
      [
        "fail/a checkpoint after a restart does not vouch for what came before it",
        [...entries(restartChain), checkpointOf(restartChain, 5, "cp:2")],
        pinned,
        { kind: "restart", sequence: 4n, detail: expect.stringContaining("no checkpoint before it covers any record; records 1..3 are not covered by a checkpoint, and records before it may have been removed") },
        { breaks: 1 },
      ],
    ];
    it.each(cases)("%s", (_name, input, opts, first, summary) => {
      const report = verifyChain(input, opts);
      expect(report.ok).toBe(first === undefined);
      if (first) expect(report.chains[0]!.firstBreak).toMatchObject(first);
      expect(report.chains[0]).toMatchObject(summary);
    });
  });

  it("fail/malformed bytes are reported without a chain", () => {
    const report = verifyChain([{ kind: "record", bytes: Buffer.from([0xff, 0xff, 0xff]), position: "f:1" }]);
    expect(report.ok).toBe(false);
    expect(report.orphanBreaks[0]).toMatchObject({ kind: "malformed", position: "f:1" });
  });
});
