/**
 * `credex pki` end to end through the CLI dispatcher, in temp directories,
 * with OpenSSL as the independent judge of certificates and CRLs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueIntoDirectory } from "../src/adapters/pki/ca-directory.js";
import { credex } from "./support/cli.js";

// The PEM label of a PKCS#8 EncryptedPrivateKeyInfo (RFC 7468 §11), assembled so that no key-shaped
// text is committed: every key these tests see is generated at run time.
const ENCRYPTED_KEY_PEM_HEADER = ["-----BEGIN", "ENCRYPTED", "PRIVATE", "KEY-----"].join(" ");

const USCC = "91310110666007217T";
let root: string;
let dir: string;
let passFile: string;


const pass = () => ["--dir", dir, "--passphrase-file", passFile];
const serialOf = (stdout: string) => /serial ([0-9a-f]+)/.exec(stdout)![1]!;

function openssl(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
const verify = (cert: string, ...extra: string[]) =>
  openssl("verify", ...extra, "-CAfile", join(dir, "root-ca.crt"), "-untrusted", join(dir, "issuing-ca.crt"), cert);

beforeAll(async () => {
  expect(execFileSync("openssl", ["version"], { encoding: "utf8" })).toMatch(/^OpenSSL 3\./);
  root = mkdtempSync(join(tmpdir(), "credex-pki-cli-"));
  dir = join(root, "ca");
  passFile = join(root, "pass");
  writeFileSync(passFile, "a long operator passphrase\n", { mode: 0o600 });
  const r = await credex("pki", "init", "--trust-domain", "credex.test", ...pass());
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("credex pki init", () => {
  it("writes the CA directory layout; keys 0600 and encrypted PKCS#8", () => {
    for (const f of ["root-ca.crt", "issuing-ca.crt", "ca-bundle.pem", "index.json", "crl.pem", "operations.log"]) {
      expect(statSync(join(dir, f)).isFile(), f).toBe(true);
    }
    for (const k of ["root-ca.key", "issuing-ca.key"]) {
      expect(statSync(join(dir, k)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, k), "utf8")).toMatch(new RegExp(`^${ENCRYPTED_KEY_PEM_HEADER}`));
    }
    const root = new X509Certificate(readFileSync(join(dir, "root-ca.crt")));
    expect(root.publicKey.asymmetricKeyDetails?.modulusLength).toBeGreaterThanOrEqual(3072);
    expect(verify(join(dir, "issuing-ca.crt")).status).toBe(0);
  });

  it("refuses a second init over an existing CA", async () => {
    const r = await credex("pki", "init", ...pass());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("already holds a CA");
  });

  it("refuses CA keys under 3072 bits", async () => {
    const r = await credex("pki", "init", "--dir", join(root, "weak"), "--key-bits", "2048");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--key-bits must be an integer from 3072 to 8192");
  });
});

describe("credex pki issue", () => {
  it("ok/agency: openssl verifies the chain; identity, USCC and sector in the certificate", async () => {
    const r = await credex("pki", "issue", "--agency", "pboc-crc", "--sector", "BANKING", "--uscc", USCC, "--key-bits", "2048", ...pass());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const cert = join(dir, "issued", "pboc-crc.crt");
    const v = verify(cert, "-purpose", "sslclient");
    expect(v.out).toContain(`${cert}: OK`);
    expect(v.status).toBe(0);
    expect(statSync(join(dir, "issued", "pboc-crc.key")).mode & 0o777).toBe(0o600);
    const x = new X509Certificate(readFileSync(cert));
    expect(x.subjectAltName).toBe("URI:spiffe://credex.test/agency/pboc-crc");
    expect(x.subject).toContain(`serialNumber=${USCC}`);
    expect(x.subject).toContain("OU=BANKING");
    expect(x.serialNumber.toLowerCase()).toBe(serialOf(r.stdout));
  });

  it("ok/gateway (server and client) and admin (role in URI SAN and OU)", async () => {
    expect((await credex("pki", "issue", "--gateway", "--name", "gw-1", "--key-bits", "2048", ...pass())).code).toBe(0);
    expect(verify(join(dir, "issued", "gw-1.crt"), "-purpose", "sslserver").status).toBe(0);
    expect(verify(join(dir, "issued", "gw-1.crt"), "-purpose", "sslclient").status).toBe(0);
    expect((await credex("pki", "issue", "--admin", "alice", "--role", "security", "--key-bits", "2048", ...pass())).code).toBe(0);
    const admin = new X509Certificate(readFileSync(join(dir, "issued", "alice.crt")));
    expect(admin.subjectAltName).toBe("URI:spiffe://credex.test/admin/security/alice");
    expect(admin.subject).toContain("OU=admin:security");
    expect(verify(join(dir, "issued", "alice.crt"), "-purpose", "sslclient").status).toBe(0);
  });

  it("fail/a sector spelt otherwise than the registry (OU would never authenticate) is refused, and logged as refused", async () => {
    const r = await credex("pki", "issue", "--agency", "court-x", "--sector", "court", "--uscc", USCC, ...pass());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("credex pki: --sector court is not a member type (one of: BANKING, SECURITIES, INSURANCE, FOREX, REGIONAL, TAX, MARKET_SUPERVISION, COURT, CREDIT_BUREAU)");
    const last = JSON.parse(readFileSync(join(dir, "operations.log"), "utf8").trim().split("\n").at(-1)!);
    expect(last).toMatchObject({ operation: "issue agency", name: "court-x", outcome: "refused" });
    expect(() => statSync(join(dir, "issued", "court-x.crt"))).toThrow();
  });

  it("fail/bad USCC is refused with the problem named, and logged as refused", async () => {
    const r = await credex("pki", "issue", "--agency", "bad", "--sector", "BANKING", "--uscc", "91310110666007217U", ...pass());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'credex pki: --uscc 91310110666007217U is not a valid Unified Social Credit Code (GB 32100-2015): check character at position 18 is "U", expected "T"',
    );
    const last = JSON.parse(readFileSync(join(dir, "operations.log"), "utf8").trim().split("\n").at(-1)!);
    expect(last).toMatchObject({ operation: "issue agency", name: "bad", outcome: "refused" });
    expect(() => statSync(join(dir, "issued", "bad.crt"))).toThrow();
  });

  it("fail/without the passphrase the encrypted CA key is not used", async () => {
    const r = await credex("pki", "issue", "--provider", "csrc", "--dir", dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the CA keys are encrypted: give --passphrase-file");
  });

  it("fail/a wrong passphrase, a held lock and a validity beyond the issuing CA are refused", async () => {
    const wrong = join(root, "wrong-pass");
    writeFileSync(wrong, "not the passphrase\n", { mode: 0o600 });
    const w = await credex("pki", "issue", "--provider", "p1", "--dir", dir, "--passphrase-file", wrong);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain("cannot decrypt the issuing CA key: wrong passphrase?");

    writeFileSync(join(dir, ".lock"), "12345\n");
    try {
      const l = await credex("pki", "issue", "--provider", "p1", ...pass());
      expect(l.code).toBe(2);
      expect(l.stderr).toContain("another pki operation holds");
    } finally {
      rmSync(join(dir, ".lock"));
    }

    const d = await credex("pki", "issue", "--provider", "p1", "--days", "3000", ...pass());
    expect(d.code).toBe(2);
    expect(d.stderr).toContain("--days 3000 would outlive the issuing CA");
    expect(() => statSync(join(dir, "issued", "p1-provider.crt"))).toThrow();
  });

  it("fail/a second live certificate under one name is refused", async () => {
    const r = await credex("pki", "issue", "--agency", "pboc-crc", "--sector", "BANKING", "--uscc", USCC, ...pass());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"pboc-crc" already has a live agency certificate');
  });

  it("fail/admin needs a known role; exactly one kind", async () => {
    expect((await credex("pki", "issue", "--admin", "bob", "--role", "root", ...pass())).stderr).toContain("--role must be one of system, security, audit");
    expect((await credex("pki", "issue", "--gateway", "--admin", "bob", ...pass())).stderr).toContain("give exactly one of");
  });
});

describe("credex pki revoke, crl, renew, list, inspect", () => {
  let revokedSerial: string;
  let keepSerial: string;

  beforeAll(async () => {
    const a = await credex("pki", "issue", "--agency", "revokee", "--sector", "INSURANCE", "--uscc", "91350200MA2YJ1XR9G", "--key-bits", "2048", ...pass());
    revokedSerial = serialOf(a.stdout);
    const b = await credex("pki", "issue", "--agency", "keeper", "--sector", "SECURITIES", "--uscc", "91230184MA1BUFLT44", "--key-bits", "2048", "--days", "10", ...pass());
    keepSerial = serialOf(b.stdout);
    const r = await credex("pki", "revoke", "--serial", revokedSerial, "--reason", "keyCompromise", ...pass());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("the CRL is a signed X.509 v2 CRL that lists the revoked serial with its reason", () => {
    const text = openssl("crl", "-in", join(dir, "crl.pem"), "-noout", "-text");
    expect(text.status).toBe(0);
    expect(text.out).toContain("Certificate Revocation List (CRL):");
    expect(text.out).toContain("Version 2 (0x1)");
    expect(text.out).toMatch(/X509v3 CRL Number:\s*\n\s*\d+/);
    expect(text.out).toContain("X509v3 Authority Key Identifier:");
    expect(text.out).toContain(`Serial Number: ${revokedSerial.toUpperCase()}`);
    expect(text.out).toMatch(/X509v3 CRL Reason Code:\s*\n\s*Key Compromise/);
    expect(text.out).not.toContain(keepSerial.toUpperCase());
    const sig = openssl("crl", "-in", join(dir, "crl.pem"), "-noout", "-CAfile", join(dir, "ca-bundle.pem"));
    expect(sig.out).toContain("verify OK");
  });

  it("openssl verify -crl_check fails for the revoked certificate and passes for another", () => {
    const crl = ["-crl_check", "-CRLfile", join(dir, "crl.pem")];
    const bad = verify(join(dir, "issued", "revokee.crt"), ...crl);
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain("certificate revoked");
    expect(verify(join(dir, "issued", "keeper.crt"), ...crl).status).toBe(0);
  });

  it("a TLS server given crl.pem (Node's crl option) refuses the revoked client and accepts another", async () => {
    const server = createServer(
      {
        cert: readFileSync(join(dir, "issued", "gw-1.crt")),
        key: readFileSync(join(dir, "issued", "gw-1.key")),
        ca: readFileSync(join(dir, "ca-bundle.pem")),
        // Node sets CRL checking for the whole chain: the root's CRL covers the issuing CA.
        crl: [readFileSync(join(dir, "root-crl.pem")), readFileSync(join(dir, "crl.pem"))],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => socket.end("ok"),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const connectAs = (name: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({
          host: "127.0.0.1",
          port,
          servername: "localhost",
          ca: readFileSync(join(dir, "ca-bundle.pem")),
          cert: readFileSync(join(dir, "issued", `${name}.crt`)),
          key: readFileSync(join(dir, "issued", `${name}.key`)),
        });
        let data = "";
        socket.on("data", (d: Buffer) => (data += d.toString()));
        socket.on("end", () => (data ? resolve(data) : reject(new Error("closed"))));
        socket.on("error", reject);
      });
    try {
      await expect(connectAs("keeper")).resolves.toBe("ok");
      await expect(connectAs("revokee")).rejects.toThrow();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("revoke accepts the serial as openssl prints it (upper case, colons)", async () => {
    const r = await credex("pki", "issue", "--provider", "p-colon", "--key-bits", "2048", ...pass());
    const serial = serialOf(r.stdout);
    const printed = serial.toUpperCase().match(/../g)!.join(":");
    const v = await credex("pki", "revoke", "--serial", printed, "--reason", "cessationOfOperation", ...pass());
    expect(v.stderr).toBe("");
    expect(v.stdout).toContain(`serial ${serial} (cessationOfOperation)`);
  });

  it("with -crl_check_all the root CRL is needed too, and suffices", () => {
    const only = verify(join(dir, "issued", "keeper.crt"), "-crl_check_all", "-CRLfile", join(dir, "crl.pem"));
    expect(only.status).not.toBe(0);
    expect(only.out).toContain("unable to get certificate CRL");
    const both = ["-crl_check_all", "-CRLfile", join(dir, "crl.pem"), "-CRLfile", join(dir, "root-crl.pem")];
    expect(verify(join(dir, "issued", "keeper.crt"), ...both).status).toBe(0);
    expect(verify(join(dir, "issued", "revokee.crt"), ...both).out).toContain("certificate revoked");
  });

  it("crl --root re-signs the root CRL with the root key", async () => {
    const r = await credex("pki", "crl", "--root", ...pass());
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/root-crl\.pem: cRLNumber 2, next update in 365 day/);
    const sig = openssl("crl", "-in", join(dir, "root-crl.pem"), "-noout", "-CAfile", join(dir, "root-ca.crt"));
    expect(sig.out).toContain("verify OK");
  });

  it("revoking twice or an unknown serial is refused; unknown reasons are usage errors", async () => {
    expect((await credex("pki", "revoke", "--serial", revokedSerial, "--reason", "superseded", ...pass())).stderr).toContain("was already revoked");
    expect((await credex("pki", "revoke", "--serial", "01", "--reason", "superseded", ...pass())).stderr).toContain("no certificate with serial 01");
    expect((await credex("pki", "revoke", "--serial", keepSerial, "--reason", "fun", ...pass())).stderr).toContain("--reason must be one of");
  });

  it("crl re-signs with a higher cRLNumber", async () => {
    const number = () => Number(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(openssl("crl", "-in", join(dir, "crl.pem"), "-noout", "-text").out)![1]);
    const before = number();
    const r = await credex("pki", "crl", "--days", "2", ...pass());
    expect(r.code).toBe(0);
    expect(number()).toBe(before + 1);
  });

  it("renew issues a new key and serial; --revoke-old revokes the previous one as superseded", async () => {
    const oldKey = readFileSync(join(dir, "issued", "gw-1.key"), "utf8");
    const r = await credex("pki", "renew", "gw-1", "--revoke-old", ...pass());
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "issued", "gw-1.key"), "utf8")).not.toBe(oldKey);
    expect(r.stdout).toContain("revoked (superseded)");
    expect(verify(join(dir, "issued", "gw-1.crt"), "-crl_check", "-CRLfile", join(dir, "crl.pem")).status).toBe(0);
    expect(openssl("crl", "-in", join(dir, "crl.pem"), "-noout", "-text").out).toMatch(/Superseded/);
    expect((await credex("pki", "renew", "revokee", ...pass())).stderr).toContain("was revoked (keyCompromise): issue a new certificate instead");
  });

  it("list shows valid, expiring, expired and revoked", async () => {
    const past = new Date(Date.now() - 400 * 24 * 3600 * 1000);
    const pem = readFileSync(passFile, "utf8").trim();
    await issueIntoDirectory(dir, { kind: "provider", name: "old-provider", days: 30, keyBits: 2048 }, { passphrase: pem, now: past });
    const r = await credex("pki", "list", "--dir", dir);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+SERIAL\s+KIND\s+NOT AFTER\s+STATE$/);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `))!;
    expect(row("pboc-crc")).toMatch(/agency\s+\S+\s+valid$/);
    expect(row("keeper")).toMatch(/expiring$/);
    expect(row("revokee")).toMatch(/revoked \(keyCompromise\)$/);
    expect(row("old-provider")).toMatch(/provider\s+\S+\s+expired$/);
    const json = JSON.parse((await credex("pki", "list", "--dir", dir, "--json")).stdout) as Array<{ name: string; state: string }>;
    expect(json.find((c) => c.name === "keeper")?.state).toBe("expiring");
  });

  it("inspect prints the identity and the state from the CA directory", async () => {
    const r = await credex("pki", "inspect", join(dir, "issued", "revokee.crt"), "--dir", dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/principal:\s+agency revokee/);
    expect(r.stdout).toMatch(/uscc:\s+91350200MA2YJ1XR9G/);
    expect(r.stdout).toMatch(/sector:\s+INSURANCE/);
    expect(r.stdout).toMatch(/signed by CA:\s+yes/);
    expect(r.stdout).toMatch(/state:\s+revoked \(keyCompromise/);
    expect(r.stdout).toContain(`serial:`);
  });

  it("operations.log is JSONL with time, operator, operation, serial and outcome", () => {
    const lines = readFileSync(join(dir, "operations.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines[0]).toMatchObject({ operation: "init", outcome: "ok" });
    const revoke = lines.find((l) => l["operation"] === "revoke" && l["outcome"] === "ok")!;
    expect(revoke).toMatchObject({ serial: revokedSerial, name: "revokee" });
    for (const l of lines) {
      expect(Number.isNaN(Date.parse(l["time"]!))).toBe(false);
      expect(typeof l["operator"]).toBe("string");
      expect(["ok", "refused", "failed"]).toContain(l["outcome"]);
    }
  });
});

describe("help", () => {
  it("every subcommand has --help with an example", async () => {
    for (const sub of ["init", "issue", "renew", "revoke", "crl", "list", "inspect"]) {
      const r = await credex("pki", sub, "--help");
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toMatch(/^usage: credex pki /);
      expect(r.stdout, sub).toContain("example");
    }
    expect((await credex("pki", "--help")).stdout).toContain("subcommands:");
    expect((await credex("pki", "nope")).stderr).toContain('unknown subcommand "nope"');
  });
});
