import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { makeCheckpointPki, makeSigningIdentity, sampleAuditEvent, type CheckpointPki } from "../../../test/support/audit-fixtures.js";
import type { CertificateAuthority } from "../../adapters/pki/certificate-authority.js";
import { buildCrl } from "../../adapters/pki/crl.js";
import { createFileAuditSink } from "../../adapters/audit/file-audit-sink.js";
import { createCheckpointSigner } from "../../core/audit/checkpoint.js";
import { loadKeyRing, serializeKeyRing, generateKeyRing } from "../../core/audit/key-ring.js";
import { subjectPseudonym } from "../../core/audit/pseudonym.js";
import { DecisionEffect } from "../../gen/credex/v1/audit_pb.js";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";
import { UsageError } from "../command.js";
import { command } from "./audit.js";

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const w = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    return { code: await command.run(args), stdout, stderr };
  } finally {
    w.mockRestore();
    e.mockRestore();
  }
}

describe("credex audit (file source)", () => {
  let dir: string;
  let log: string;
  let keys: string;
  let cert: string;
  const ring = generateKeyRing("k1");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "credex-audit-cli-"));
    log = join(dir, "audit.log");
    keys = join(dir, "keys.json");
    cert = join(dir, "gw.pem");
    writeFileSync(keys, serializeKeyRing(ring), { mode: 0o600 });
    const id = makeSigningIdentity("ec");
    writeFileSync(cert, id.certificatePem);
    const sink = await createFileAuditSink({ path: log, keyRing: ring, suite: "SM4-CTR+HMAC-SM3", instance: "gw-1", checkpointSigner: createCheckpointSigner(id) });
    const p = subjectPseudonym(ring.pseudonymKey, SubjectType.NATURAL_PERSON, "11010519491231002X");
    for (let i = 0; i < 12; i++) {
      await sink.append(sampleAuditEvent(i, { effect: i % 3 === 0 ? DecisionEffect.DENY : DecisionEffect.ALLOW, ...(i === 7 && { pseudonym: p }), categories: i === 5 ? ["loans", "penal,ties"] : ["penalties"] }));
    }
    await sink.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ok/verify: exit 0 with a summary", async () => {
    const r = await cli(["verify", "--file", log, "--key-ring", keys, "--cert", cert]);
    expect(r.stdout).toBe(
      "records 12, checkpoints 1, decrypted 12, chains 1\nchain gw-1: sequences 1..12, 12 records, 1 checkpoints: OK\nverify: OK\n",
    );
    expect(r.code).toBe(0);
  });

  it("fail/verify: a deleted line is reported with the line after it, exit 1", async () => {
    const lines = readFileSync(log, "utf8").split("\n");
    const cut = join(dir, "cut.log");
    writeFileSync(cut, lines.filter((_, i) => i !== 3).join("\n"));
    const r = await cli(["verify", "--file", cut, "--key-ring", keys, "--cert", cert]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`first break: gap at sequence 4: ${cut}:4: sequences 4..4 missing before this record`);
  });

  it("fail/verify: the last record removed is caught by the checkpoint", async () => {
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    const cut = join(dir, "tail.log");
    writeFileSync(cut, `${[...lines.slice(0, 11), lines[12]].join("\n")}\n`);
    const r = await cli(["verify", "--file", cut, "--cert", cert]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`first break: missing-after-checkpoint at sequence 12: ${cut}:12: sequences 12..12 are missing: the checkpoint covers sequence 12 but the chain ends at 11`);
  });

  it("fail/verify: records after the last signed checkpoint (a gateway still writing, or a forged tail); ok/--allow-unsigned-tail reports them as UNVERIFIED", async () => {
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    const cut = join(dir, "unsigned.log");
    writeFileSync(cut, `${lines.slice(0, 12).join("\n")}\n`); // the closing checkpoint (line 13) is gone
    const strict = await cli(["verify", "--file", cut, "--key-ring", keys, "--cert", cert]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(`first break: no-checkpoint at sequence 1: ${cut}:1: no signed checkpoint covers sequences 1..12`);
    const live = await cli(["verify", "--file", cut, "--key-ring", keys, "--cert", cert, "--allow-unsigned-tail"]);
    expect(live.stdout).toBe(
      "records 12, checkpoints 0, decrypted 12, chains 1\n" +
        "chain gw-1: sequences 1..12, 12 records, 0 checkpoints: OK\n" +
        `  UNVERIFIED (--allow-unsigned-tail): sequences 1..12 from ${cut}:1 on are not covered by a signed checkpoint\n` +
        "verify: OK, 12 records UNVERIFIED (not covered by a signed checkpoint)\n",
    );
    expect(live.code).toBe(0);
    const unpinned = await cli(["verify", "--file", log, "--key-ring", keys]);
    expect(unpinned.code).toBe(1);
    expect(unpinned.stdout).toContain("no signed checkpoint covers sequences 1..12 (1 checkpoints whose signatures were not checked: give --cert or --ca)");
  });

  it("ok/tail filters by decision and by raw subject id (never printed)", async () => {
    const denied = await cli(["tail", "--file", log, "--key-ring", keys, "--decision", "deny", "--jsonl"]);
    expect(denied.stdout.trim().split("\n").map((l) => JSON.parse(l).event.exchangeId)).toEqual(["ex-0", "ex-3", "ex-6", "ex-9"]);
    const subject = await cli(["tail", "--file", log, "--key-ring", keys, "--subject", "11010519491231002X"]);
    expect(subject.stdout.split("\n")[0]).toMatch(/^RECEIVED\s+AGENCY/);
    expect(subject.stdout).toContain("ex-7");
    expect(subject.stdout.trim().split("\n")).toHaveLength(2);
    expect(subject.stdout).not.toContain("11010519491231002X");
  });

  it("ok/export csv quotes fields (RFC 4180)", async () => {
    const out = join(dir, "x.csv");
    const r = await cli(["export", "--file", log, "--key-ring", keys, "--format", "csv", "--category", "loans", "--out", out]);
    expect(r.code).toBe(0);
    const rows = readFileSync(out, "utf8").split("\r\n");
    expect(rows[0].startsWith("position,instance,sequence,exchange_id")).toBe(true);
    expect(rows[1]).toContain(`"loans;penal,ties"`);
    expect(rows).toHaveLength(3);
  });

  it("fail/usage errors", async () => {
    await expect(cli(["tail", "--file", log])).rejects.toThrow(new UsageError("--key-ring is required"));
    await expect(cli(["export", "--file", log, "--key-ring", keys, "--format", "xml"])).rejects.toThrow('--format must be jsonl or csv, not "xml"');
    await expect(cli(["tail", "--file", log, "--key-ring", keys, "--purpose", "fun"])).rejects.toThrow(/--purpose "fun" is not one of: loan_approval/);
    await expect(cli(["verify", "--file", log, "--brokers", "127.0.0.1:1"])).rejects.toThrow("give either --file or --brokers, not both");
    await expect(cli(["frobnicate"])).rejects.toThrow('unknown subcommand "frobnicate"');
  });

  it("ok/tail --follow prints events appended later, until SIGINT", async () => {
    const path = join(dir, "follow.log");
    const sink = await createFileAuditSink({ path, keyRing: ring, suite: "AES-256-GCM", instance: "gw-f" });
    await sink.append(sampleAuditEvent(0));
    let stdout = "";
    const w = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
    try {
      const running = command.run(["tail", "--file", path, "--key-ring", keys, "--follow", "--jsonl"]);
      const ids = () => stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l).event.exchangeId);
      await vi.waitFor(() => expect(ids()).toEqual(["ex-0"]), { timeout: 10_000 });
      await sink.append(sampleAuditEvent(1));
      await vi.waitFor(() => expect(ids()).toEqual(["ex-0", "ex-1"]), { timeout: 10_000 });
      process.emit("SIGINT", "SIGINT");
      expect(await running).toBe(0);
    } finally {
      w.mockRestore();
      await sink.close();
    }
  });

  it("ok/keyring new and rotate keep old keys", async () => {
    const path = join(dir, "new-keys.json");
    expect((await cli(["keyring", "new", "--out", path])).code).toBe(0);
    const r = await cli(["keyring", "rotate", "--key-ring", path, "--key-id", "k2"]);
    expect(r.stdout).toBe("active key is now k2; kept: k1, k2\n");
    const rotated = await loadKeyRing(path);
    expect(rotated.activeKeyId).toBe("k2");
  });
});

describe("credex audit verify --ca, --crl (checkpoints trusted through the CA)", () => {
  let dir: string;
  let log: string;
  let bundle: string;
  let pki: CheckpointPki;
  const crlFile = (name: string, issuer: CertificateAuthority, reason: "keyCompromise" | "superseded", revokedAt: Date) => {
    const file = join(dir, name);
    const serial = new X509Certificate(pki.gateway.certificatePem).serialNumber;
    const now = new Date();
    writeFileSync(file, buildCrl({ issuer, revoked: [{ serial, revokedAt, reason }], crlNumber: 1, thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000) }).pem);
    return file;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "credex-audit-ca-"));
    pki = await makeCheckpointPki();
    bundle = join(dir, "ca-bundle.pem");
    writeFileSync(bundle, pki.rootPem + pki.issuingPem);
    log = join(dir, "audit.log");
    const sink = await createFileAuditSink({ path: log, keyRing: generateKeyRing("k1"), suite: "AES-256-GCM", instance: "gw-1", checkpointSigner: createCheckpointSigner(pki.gateway) });
    for (let i = 0; i < 3; i++) await sink.append(sampleAuditEvent(i));
    await sink.close();
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ok/the checkpoint's own certificate, through the CA bundle; ok/with a CRL that supersedes it later", async () => {
    const r = await cli(["verify", "--file", log, "--ca", bundle, "--trust-domain", pki.trustDomain]);
    expect([r.code, r.stdout]).toEqual([0, expect.stringContaining("records 3, checkpoints 1, not decrypted (no --key-ring), chains 1\n")]);
    const later = crlFile("superseded.pem", pki.issuingCa, "superseded", new Date(Date.now() + 60_000));
    expect((await cli(["verify", "--file", log, "--ca", bundle, "--trust-domain", pki.trustDomain, "--crl", later])).code).toBe(0);
  });

  it("fail/the signer's key was reported compromised: exit 1, the reason named", async () => {
    const compromised = crlFile("compromised.pem", pki.issuingCa, "keyCompromise", new Date(Date.now() + 60_000));
    const r = await cli(["verify", "--file", log, "--ca", bundle, "--trust-domain", pki.trustDomain, "--crl", compromised]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/first break: checkpoint-signature at sequence 3: .*audit\.log:4: the signer [0-9a-f]{64} is neither given by --cert nor trusted through the CA: certificate 1 \(.*\) was revoked \(keyCompromise\) on /);
  });

  it("fail/usage: --crl without --ca; a CRL signed by a same-named CA outside the bundle; --ca without a certificate", async () => {
    await expect(cli(["verify", "--file", log, "--crl", bundle])).rejects.toThrow(new UsageError("--crl only applies with --ca"));
    const other = await makeCheckpointPki();
    const foreign = crlFile("foreign.pem", other.issuingCa, "keyCompromise", new Date());
    await expect(cli(["verify", "--file", log, "--ca", bundle, "--crl", foreign])).rejects.toThrow(`the CRL ${foreign}: the CRL's signature does not verify with its issuer's key`);
    await expect(cli(["verify", "--file", log, "--ca", log])).rejects.toThrow(`--ca ${log} holds no PEM certificate`);
  }, 60_000);
});
