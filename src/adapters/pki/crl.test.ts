import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCa, type CertificateAuthority } from "./certificate-authority.js";
import { buildCrl } from "./crl.js";

let issuing: CertificateAuthority;
let root: CertificateAuthority;
let dir: string;
beforeAll(async () => {
  root = await createCa({ commonName: "crl root", keyBits: 2048 });
  issuing = await createCa({ commonName: "crl issuing", keyBits: 2048, parent: root });
  dir = mkdtempSync(join(tmpdir(), "credex-crl-"));
  writeFileSync(join(dir, "bundle.pem"), root.certPem + issuing.certPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** openssl crl -text of a PEM, also checking its signature against the CA bundle. */
function opensslText(pem: string): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(file, pem);
  const r = spawnSync("openssl", ["crl", "-in", file, "-noout", "-text", "-CAfile", join(dir, "bundle.pem")], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return `${r.stdout}${r.stderr}`;
}

const T0 = new Date("2026-11-26T00:00:00Z");
const T1 = new Date("2026-12-03T00:00:00Z");

describe("buildCrl", () => {
  it("ok/empty: no revokedCertificates field (RFC 5280 §5.1.2.6), signature verifies", () => {
    const text = opensslText(buildCrl({ issuer: issuing, revoked: [], crlNumber: 1, thisUpdate: T0, nextUpdate: T1 }).pem);
    expect(text).toContain("verify OK");
    expect(text).toContain("No Revoked Certificates.");
    expect(text).toContain("Last Update: Nov 26 00:00:00 2026 GMT");
    expect(text).toContain("Next Update: Dec  3 00:00:00 2026 GMT");
  });

  it("ok/entries with each reason; a serial with its top bit set stays positive", () => {
    const { pem } = buildCrl({
      issuer: issuing,
      revoked: [
        { serial: "0a1b", revokedAt: T0, reason: "keyCompromise" },
        { serial: "ff01", revokedAt: T0, reason: "superseded" },
        { serial: "7e", revokedAt: T0, reason: "cessationOfOperation" },
        { serial: "7f", revokedAt: T0, reason: "affiliationChanged" },
      ],
      crlNumber: 300,
      thisUpdate: T0,
      nextUpdate: T1,
    });
    const text = opensslText(pem);
    expect(text).toContain("verify OK");
    expect(text).toMatch(/Serial Number: 0A1B\s+Revocation Date: Nov 26 00:00:00 2026 GMT\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Key Compromise/);
    expect(text).toMatch(/Serial Number: FF01[\s\S]+?Superseded/);
    expect(text).toMatch(/Serial Number: 7E[\s\S]+?Cessation Of Operation/);
    expect(text).toMatch(/Serial Number: 7F[\s\S]+?Affiliation Changed/);
    expect(text).toMatch(/X509v3 CRL Number:\s+300/);
    expect(text).not.toContain("-FF01");
  });

  it("ok/dates from 2050 are GeneralizedTime (RFC 5280 §5.1.2.4)", () => {
    const text = opensslText(
      buildCrl({ issuer: issuing, revoked: [], crlNumber: 2, thisUpdate: new Date("2049-12-31T23:00:00Z"), nextUpdate: new Date("2050-01-02T00:00:00Z") }).pem,
    );
    expect(text).toContain("Next Update: Jan  2 00:00:00 2050 GMT");
  });

  it("fail/nextUpdate before thisUpdate, negative cRLNumber", () => {
    expect(() => buildCrl({ issuer: issuing, revoked: [], crlNumber: 1, thisUpdate: T1, nextUpdate: T0 })).toThrow("nextUpdate must be after thisUpdate");
    expect(() => buildCrl({ issuer: issuing, revoked: [], crlNumber: -1, thisUpdate: T0, nextUpdate: T1 })).toThrow("cRLNumber");
  });

  it("fail/a CRL signed by another CA does not verify", async () => {
    const other = await createCa({ commonName: "crl issuing", keyBits: 2048, parent: root });
    const r = opensslTextLoose(buildCrl({ issuer: other, revoked: [], crlNumber: 1, thisUpdate: T0, nextUpdate: T1 }).pem);
    expect(r).toMatch(/verify failure/);
  });
});

function opensslTextLoose(pem: string): string {
  const file = join(dir, "loose.pem");
  writeFileSync(file, pem);
  const r = spawnSync("openssl", ["crl", "-in", file, "-noout", "-CAfile", join(dir, "bundle.pem")], { encoding: "utf8" });
  return `${r.stdout}${r.stderr}`;
}
