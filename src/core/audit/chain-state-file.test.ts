import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeCheckpointPki, makeSigningIdentity, type CheckpointPki } from "../../../test/support/audit-fixtures.js";
import { createCheckpoint, createCheckpointSigner, encodeCheckpoint, type CheckpointSigner } from "./checkpoint.js";
import { openChainStateFile, replaceChainStateFile, type ChainStateFileOptions } from "./chain-state-file.js";

const SLOT = 1024;
const head = (n: number) => ({ instance: "gw-1", sequence: BigInt(n), headHash: new Uint8Array(32).fill(n) });

describe("openChainStateFile (unkeyed: a sink alone, in tests and benchmarks)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "credex-chain-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const open = (path: string, instance = "gw-1") => openChainStateFile({ path, instance });

  it("ok/new file has no head; the last save wins after reopen", async () => {
    const path = join(dir, "s");
    const s1 = await open(path);
    expect([s1.head, s1.origin]).toEqual([undefined, "new"]);
    for (let i = 1; i <= 5; i++) await s1.save(head(i));
    await s1.close();
    const s2 = await open(path);
    expect(s2.head).toEqual({ ...head(5), headHash: Buffer.from(head(5).headHash) });
    expect(s2.origin).toBe("saved");
    await s2.close();
  });
  it("ok/a torn slot falls back to the previous head", async () => {
    const path = join(dir, "s");
    const s1 = await open(path);
    await s1.save(head(1));
    await s1.save(head(2));
    await s1.close();
    const buf = readFileSync(path);
    buf.write("garbage", SLOT + 10); // slot 2 holds sequence 2
    writeFileSync(path, buf);
    const s2 = await open(path);
    expect(s2.head?.sequence).toBe(1n);
    await s2.close();
  });
  it("fail/a state of another instance", async () => {
    const path = join(dir, "s");
    const s1 = await open(path);
    await s1.save(head(1));
    await s1.close();
    await expect(open(path, "gw-2")).rejects.toThrow(`chain state ${path}: belongs to instance "gw-1", not "gw-2"`);
  });
  it("ok/created but never saved (killed before the first record) reopens as new", async () => {
    const path = join(dir, "s");
    const s1 = await open(path);
    await s1.close();
    const s2 = await open(path);
    expect(s2.head).toBeUndefined();
    await s2.save(head(1));
    await s2.close();
    const s3 = await open(path);
    expect(s3.head?.sequence).toBe(1n);
    await s3.close();
  });
  it("ok/a resume hint (clean flag, partition offsets) comes back with its head; a slot without one has none", async () => {
    const path = join(dir, "s");
    const s1 = await open(path);
    await s1.save(head(1));
    await s1.close();
    const s2 = await open(path);
    expect(s2.resume).toBeUndefined();
    await s2.save(head(2), { clean: false, topic: "credex.audit.v1", offsets: [5n, 0n, 12345678901234n] });
    await s2.close();
    const s3 = await open(path);
    expect(s3.head?.sequence).toBe(2n);
    expect(s3.resume).toEqual({ clean: false, topic: "credex.audit.v1", offsets: [5n, 0n, 12345678901234n] });
    await s3.close();
  });
  it("ok/one head saved twice (unclean, then clean at the close; or the other way round): the slot saved last wins", async () => {
    for (const order of [[false, true], [true, false]]) {
      const path = join(dir, `tie-${order.join("-")}`);
      const s1 = await open(path);
      for (const clean of order) await s1.save(head(7), { clean });
      await s1.close();
      const s2 = await open(path);
      expect(s2.resume?.clean, `saved ${order.join(" then ")}`).toBe(order[1]);
      await s2.close();
    }
  });
  it("ok/offsets of too many partitions for a slot are left out, not the hint", async () => {
    const path = join(dir, "s");
    const s1 = await open(path);
    await s1.save(head(3), { clean: false, offsets: Array.from({ length: 200 }, () => 10n ** 15n) });
    await s1.close();
    const s2 = await open(path);
    expect(s2.resume).toEqual({ clean: false });
    await s2.close();
  });
  it("fail/both slots corrupt", async () => {
    const path = join(dir, "s");
    writeFileSync(path, Buffer.concat([Buffer.alloc(2 * SLOT, 0x41), Buffer.alloc(16 * 1024)]));
    await expect(open(path)).rejects.toThrow(`chain state ${path}: no valid slot (corrupt)`);
  });
});

describe("openChainStateFile (keyed with the gateway's certificate key)", () => {
  let dir: string;
  let pki: CheckpointPki;
  let a: CheckpointSigner;
  let b: CheckpointSigner;
  beforeAll(async () => {
    pki = await makeCheckpointPki();
    a = createCheckpointSigner(pki.gateway);
    b = createCheckpointSigner(pki.rotated);
  }, 60_000);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "credex-chain-keyed-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const trust = () => ({ signerAnchors: { ca: [pki.rootPem], trustDomain: pki.trustDomain } });
  const opts = (path: string, signer: CheckpointSigner, over: Partial<ChainStateFileOptions> = {}): ChainStateFileOptions => ({ path, instance: "gw-1", key: () => signer.stateKey, trust: trust(), ...over });

  /** Rewrites slot `n` (1-based) with `edit` applied, the SHA-256 "sum" recomputed (what anyone can do), the MAC left as it was. */
  function editSlot(path: string, n: number, edit: (body: Record<string, unknown>) => void): void {
    const buf = readFileSync(path);
    const raw = JSON.parse(buf.subarray((n - 1) * SLOT, n * SLOT).toString("utf8")) as Record<string, unknown>;
    const { sum: _sum, mac, ...body } = raw;
    edit(body);
    const text = JSON.stringify({ ...body, sum: createHash("sha256").update(JSON.stringify(body)).digest("hex"), ...(mac !== undefined && { mac }) });
    buf.write(`${text}${" ".repeat(SLOT - 1 - text.length)}\n`, (n - 1) * SLOT, "utf8");
    writeFileSync(path, buf);
  }

  it("ok/saved and reopened under the same key", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(opts(path, a));
    await s1.save(head(4), { clean: true });
    await s1.close();
    const s2 = await openChainStateFile(opts(path, a));
    expect([s2.origin, s2.head?.sequence, s2.resume?.clean]).toEqual(["saved", 4n, true]);
    await s2.close();
  });

  it("ok/the longest instance name and topic the config allows fit a keyed slot, with the largest sequence and three offsets", async () => {
    const path = join(dir, "long");
    const instance = "i".repeat(64);
    const s1 = await openChainStateFile({ ...opts(path, a), instance });
    const last = { instance, sequence: 2n ** 64n - 1n, headHash: new Uint8Array(32).fill(0xab) };
    await s1.save(last, { clean: false, topic: "t".repeat(200), offsets: [10n ** 15n, 10n ** 15n, 10n ** 15n] });
    await s1.close();
    const s2 = await openChainStateFile({ ...opts(path, a), instance });
    expect(s2.head?.sequence).toBe(2n ** 64n - 1n);
    expect(s2.resume).toEqual({ clean: false, topic: "t".repeat(200), offsets: [10n ** 15n, 10n ** 15n, 10n ** 15n] });
    await s2.close();
  });

  it("fail/a slot whose head was edited (sum recomputed) fails its key check", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(opts(path, a));
    await s1.save(head(4), { clean: true });
    await s1.save(head(9), { clean: true });
    await s1.close();
    editSlot(path, 2, (body) => (body["sequence"] = "3"));
    await expect(openChainStateFile(opts(path, a))).rejects.toThrow(`chain state ${path} fails its key check (slot 2): it was not saved by this gateway's key (edited or forged)`);
  });

  it("fail/a state without a key, in this format or the 512-byte one of earlier versions, is refused", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile({ path, instance: "gw-1" });
    await s1.save(head(2), { clean: true });
    await s1.close();
    const message = `chain state ${path} was written without a key (by a credex before the keyed chain state, or by someone else): it cannot vouch for the chain head`;
    await expect(openChainStateFile(opts(path, a))).rejects.toThrow(message);
    const body = { instance: "gw-1", sequence: "2", headHash: "02".repeat(32) };
    const text = JSON.stringify({ ...body, sum: createHash("sha256").update(JSON.stringify(body)).digest("hex") });
    writeFileSync(path, `${text}${" ".repeat(511 - text.length)}\n`.repeat(2));
    await expect(openChainStateFile(opts(path, a))).rejects.toThrow(message);
  });

  it("ok/rekey: after the gateway's key is rotated the state is saved again under the new key (a crash then still starts)", async () => {
    const path = join(dir, "s");
    let current = a;
    const s1 = await openChainStateFile(opts(path, a, { key: () => current.stateKey }));
    await s1.save(head(5), { clean: false });
    current = b;
    await s1.rekey();
    // killed here: no clean close, no checkpoint left
    const s2 = await openChainStateFile(opts(path, b));
    expect([s2.origin, s2.head?.sequence, s2.resume?.clean]).toEqual(["saved", 5n, false]);
    await Promise.all([s1.close(), s2.close()]);
  });

  it("ok/a key changed while stopped: the clean stop's checkpoint under the old key hands the state over, once", async () => {
    const path = join(dir, "s");
    const s1 = await openChainStateFile(opts(path, a));
    await s1.save(head(6), { clean: true });
    await s1.saveHandover(encodeCheckpoint(createCheckpoint(head(6), a)));
    await s1.close();
    const s2 = await openChainStateFile(opts(path, b));
    expect([s2.origin, s2.head?.sequence]).toEqual(["handover", 6n]);
    await s2.save(head(6), { clean: false });
    await s2.close();
    // The checkpoint served that one start: a slot of the old key rewritten later finds nothing to lean on.
    editSlot(path, 1, (body) => (body["key"] = a.stateKey.id));
    editSlot(path, 2, (body) => (body["key"] = a.stateKey.id));
    await expect(openChainStateFile(opts(path, b))).rejects.toThrow(/was saved under another key .* and no checkpoint of a clean stop was left with it/);
  });

  it("fail/a key changed while stopped: refused after an unclean stop, without the CA, or when the checkpoint names another head", async () => {
    const cases: Array<[string, (path: string) => Promise<void>, Partial<ChainStateFileOptions>, RegExp]> = [
      [
        "unclean",
        async (path) => {
          const s = await openChainStateFile(opts(path, a));
          await s.save(head(6), { clean: false });
          await s.saveHandover(encodeCheckpoint(createCheckpoint(head(6), a)));
          await s.close();
        },
        {},
        /the gateway did not stop cleanly under that key/,
      ],
      [
        "no CA",
        async (path) => {
          const s = await openChainStateFile(opts(path, a));
          await s.save(head(6), { clean: true });
          await s.saveHandover(encodeCheckpoint(createCheckpoint(head(6), a)));
          await s.close();
        },
        { trust: { certificates: [pki.rotated.certificatePem] } },
        /the checkpoint left with it is not signed by a gateway certificate of this CA/,
      ],
      [
        "other head",
        async (path) => {
          const s = await openChainStateFile(opts(path, a));
          await s.save(head(6), { clean: true });
          await s.saveHandover(encodeCheckpoint(createCheckpoint(head(4), a)));
          await s.close();
        },
        {},
        /the checkpoint left with it names sequence 4, not the saved head 6/,
      ],
      [
        "signed by an outsider",
        async (path) => {
          const s = await openChainStateFile(opts(path, a));
          await s.save(head(6), { clean: true });
          await s.saveHandover(encodeCheckpoint(createCheckpoint(head(6), createCheckpointSigner(makeSigningIdentity("ec")))));
          await s.close();
        },
        {},
        /not signed by a gateway certificate of this CA/,
      ],
    ];
    for (const [name, prepare, over, expected] of cases) {
      const path = join(dir, name.replaceAll(" ", "-"));
      await prepare(path);
      await expect(openChainStateFile(opts(path, b, over)), name).rejects.toThrow(expected);
    }
  }, 30_000);

  it("ok/replaceChainStateFile keeps the refused state aside and opens a new one", async () => {
    const path = join(dir, "s");
    writeFileSync(path, "not a chain state");
    const { state, keptAs } = await replaceChainStateFile(opts(path, a), new Date(Date.UTC(2026, 11, 2, 3, 4, 5)));
    expect(keptAs).toBe(`${path}.refused-2026-12-02T03-04-05-000Z`);
    expect(readFileSync(keptAs!, "utf8")).toBe("not a chain state");
    expect([state.origin, state.head]).toEqual(["new", undefined]);
    await state.close();
  });
});
