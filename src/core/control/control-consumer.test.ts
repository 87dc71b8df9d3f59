import { generateKeyPairSync, X509Certificate, createPrivateKey } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createCa } from "../../adapters/pki/certificate-authority.js";
import { createMemoryControlChannel } from "./control-channel.js";
import { startControlConsumer } from "./control-consumer.js";
import { controlItemKey, decodeControlItem, encodeControlItem, signControlItem, type ControlItem } from "./control-item.js";
import { REVOCATION_ITEM, revocationItem, revocationOf } from "./revocation-item.js";

let caCert: X509Certificate;
let caKey: ReturnType<typeof createPrivateKey>;
let otherCert: X509Certificate;
let otherKey: ReturnType<typeof createPrivateKey>;
beforeAll(async () => {
  const ca = await createCa({ commonName: "control issuing", keyBits: 2048 });
  caCert = new X509Certificate(ca.certPem);
  caKey = createPrivateKey(ca.keyPem);
  const other = await createCa({ commonName: "control issuing", keyBits: 2048 });
  otherCert = new X509Certificate(other.certPem);
  otherKey = createPrivateKey(other.keyPem);
});

const notice = { serial: "00:ab:cd", reason: "keyCompromise", revokedAt: new Date("2026-11-26T01:00:00Z") };
const T = new Date("2026-11-26T01:00:01Z");

async function consume(records: Array<{ key: string; value: Uint8Array }>) {
  const channel = createMemoryControlChannel();
  for (const r of records) await channel.publish(r);
  const applied: ControlItem[] = [];
  const rejected: string[] = [];
  const consumer = await startControlConsumer({
    channel,
    trusted: () => [caCert],
    handlers: { [REVOCATION_ITEM]: (item) => applied.push(item) },
    onRejected: (err) => rejected.push(`${err.reason}: ${err.message}`),
  });
  return { channel, consumer, applied, rejected };
}

describe("control items", () => {
  it("ok/round-trip: a signed revocation is applied with its serial, reason and time", async () => {
    const item = signControlItem(revocationItem(notice, T), caCert, caKey);
    expect(controlItemKey(item)).toBe("revocation/ABCD");
    const { applied, rejected } = await consume([{ key: controlItemKey(item), value: encodeControlItem(item) }]);
    expect(rejected).toEqual([]);
    expect(applied.map(revocationOf)).toEqual([{ serial: "ABCD", reason: "keyCompromise", revokedAt: notice.revokedAt }]);
  });

  it("ok/tail: an item published after the replay is applied too", async () => {
    const { channel, applied } = await consume([]);
    const item = signControlItem(revocationItem(notice, T), caCert, caKey);
    await channel.publish({ key: controlItemKey(item), value: encodeControlItem(item) });
    expect(applied).toHaveLength(1);
  });

  it("fail/unknown-signer: signed by a CA with the same name but another key", async () => {
    const item = signControlItem(revocationItem(notice, T), otherCert, otherKey);
    const { applied, rejected } = await consume([{ key: controlItemKey(item), value: encodeControlItem(item) }]);
    expect(applied).toEqual([]);
    expect(rejected[0]).toMatch(/^UNKNOWN_SIGNER: control item revocation\/ABCD is signed by [0-9a-f]{16}…, not a trusted CA$/);
  });

  it("fail/bad-signature: a payload changed after signing", async () => {
    const item = signControlItem(revocationItem(notice, T), caCert, caKey);
    const forged = { ...item, payload: Buffer.from(JSON.stringify({ serial: "ABCD", reason: "superseded", revokedAt: notice.revokedAt.toISOString() })) };
    const { applied, rejected } = await consume([{ key: "revocation/ABCD", value: encodeControlItem(forged) }]);
    expect(applied).toEqual([]);
    expect(rejected).toEqual(["BAD_SIGNATURE: control item revocation/ABCD: the signature does not verify"]);
  });

  it("fail/malformed: not JSON, and an unknown envelope version", async () => {
    const item = JSON.parse(encodeControlItem(signControlItem(revocationItem(notice, T), caCert, caKey)).toString()) as Record<string, unknown>;
    const { rejected } = await consume([
      { key: "x", value: Buffer.from("{nope") },
      { key: "y", value: Buffer.from(JSON.stringify({ ...item, v: 2 })) },
    ]);
    expect(rejected).toEqual(["MALFORMED: the control record is not JSON", "MALFORMED: unsupported control envelope version 2"]);
  });

  it("fail/unknown-type: a signed item nobody handles is reported, not dropped silently", async () => {
    const item = signControlItem({ type: "policy-bundle", id: "p1", issuedAt: T, payload: Buffer.from("x") }, caCert, caKey);
    const { rejected } = await consume([{ key: controlItemKey(item), value: encodeControlItem(item) }]);
    expect(rejected).toEqual(['UNKNOWN_TYPE: no handler for control item type "policy-bundle"']);
  });

  it("fail/key-mismatch (issue 16, item 4): a signed item under another item's key is refused, whatever the key", async () => {
    const revocation = signControlItem(revocationItem(notice, T), caCert, caKey);
    const other = signControlItem(revocationItem({ ...notice, serial: "EF01" }, T), caCert, caKey);
    const { applied, rejected } = await consume([
      // Compaction keeps the latest record per key: each of these would erase the item that owns the key.
      { key: "revocation/EF01", value: encodeControlItem(revocation) },
      { key: "policy-bundle/3", value: encodeControlItem(other) },
      { key: "", value: encodeControlItem(other) },
    ]);
    expect(applied).toEqual([]);
    expect(rejected).toEqual([
      'KEY_MISMATCH: a record under key "revocation/EF01" carries control item revocation/ABCD',
      'KEY_MISMATCH: a record under key "policy-bundle/3" carries control item revocation/EF01',
      'KEY_MISMATCH: a record under key "" carries control item revocation/EF01',
    ]);
  });

  it("fail/tombstone (issue 16, item 4): an empty record under a revocation's key is refused; the revocation stays applied", async () => {
    const item = signControlItem(revocationItem(notice, T), caCert, caKey);
    const { applied, rejected } = await consume([
      { key: controlItemKey(item), value: encodeControlItem(item) },
      { key: controlItemKey(item), value: new Uint8Array() },
    ]);
    expect(applied.map(controlItemKey)).toEqual(["revocation/ABCD"]);
    expect(rejected).toEqual(["TOMBSTONE: an empty record (tombstone) under revocation/ABCD: control items are never undone by deleting records"]);
  });

  it("fail/id-mismatch: a revocation whose payload names another serial", () => {
    const unsigned = { ...revocationItem(notice, T), id: "EF01" };
    const item = decodeControlItem(encodeControlItem(signControlItem(unsigned, caCert, caKey)));
    expect(() => revocationOf(item)).toThrow("the revocation payload names serial ABCD, the item id EF01");
  });

  it("fail/wrong-key: signing with a key that is not the signer certificate's", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(() => signControlItem(revocationItem(notice, T), caCert, privateKey)).toThrow("the signing key does not belong to the signer certificate");
  });
});
