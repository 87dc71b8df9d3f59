import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createCa, type CertificateAuthority } from "./certificate-authority.js";
import { buildCrl } from "./crl.js";
import { crlDersFromPem, parseCrl, verifyCrl } from "./crl-reader.js";

let root: CertificateAuthority;
let issuing: CertificateAuthority;
let other: CertificateAuthority;
let trusted: X509Certificate[];
beforeAll(async () => {
  root = await createCa({ commonName: "reader root", keyBits: 2048 });
  issuing = await createCa({ commonName: "reader issuing", keyBits: 2048, parent: root });
  other = await createCa({ commonName: "reader issuing", keyBits: 2048 });
  trusted = [new X509Certificate(root.certPem), new X509Certificate(issuing.certPem)];
});

const T0 = new Date("2026-11-26T00:00:00Z");
const T1 = new Date("2026-12-03T00:00:00Z");
const T_MID = new Date("2026-11-28T00:00:00Z");

describe("parseCrl", () => {
  it("ok/entries: serials (leading zeros dropped, upper case) and RFC 5280 §5.3.1 reasons", () => {
    const { pem } = buildCrl({
      issuer: issuing,
      crlNumber: 3,
      thisUpdate: T0,
      nextUpdate: T1,
      revoked: [
        { serial: "00ab01", revokedAt: new Date("2026-11-25T10:00:00Z"), reason: "keyCompromise" },
        { serial: "7f", revokedAt: new Date("2026-11-25T11:00:00Z"), reason: "superseded" },
      ],
    });
    const [der] = crlDersFromPem(pem);
    const crl = parseCrl(der!);
    expect(crl.thisUpdate).toEqual(T0);
    expect(crl.nextUpdate).toEqual(T1);
    expect(crl.crlNumber).toBe(3n);
    expect(crl.entries).toEqual([
      { serial: "AB01", revokedAt: new Date("2026-11-25T10:00:00Z"), reason: "keyCompromise" },
      { serial: "7F", revokedAt: new Date("2026-11-25T11:00:00Z"), reason: "superseded" },
    ]);
    expect(verifyCrl(crl, trusted, T_MID).subject).toContain("reader issuing");
  });

  it("ok/cRLNumber: large numbers (leading 0x00 byte) are read whole", () => {
    const crl = parseCrl(buildCrl({ issuer: issuing, crlNumber: 300, thisUpdate: T0, nextUpdate: T1, revoked: [] }).der);
    expect(crl.crlNumber).toBe(300n);
    expect(parseCrl(buildCrl({ issuer: issuing, crlNumber: 128, thisUpdate: T0, nextUpdate: T1, revoked: [] }).der).crlNumber).toBe(128n);
  });

  it("ok/empty: no revokedCertificates, root-signed CRL verifies with the root", () => {
    const crl = parseCrl(buildCrl({ issuer: root, crlNumber: 1, thisUpdate: T0, nextUpdate: T1, revoked: [] }).der);
    expect(crl.entries).toEqual([]);
    expect(verifyCrl(crl, trusted, T_MID).subject).toContain("reader root");
  });

  it("fail/not-pem: a file without a CRL block", () => {
    expect(() => crlDersFromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "crl.pem")).toThrow('crl.pem holds no PEM "X509 CRL" block');
  });

  it("fail/truncated: half a CRL is refused", () => {
    const { der } = buildCrl({ issuer: issuing, crlNumber: 1, thisUpdate: T0, nextUpdate: T1, revoked: [] });
    expect(() => parseCrl(der.subarray(0, der.length - 20))).toThrow(/not a DER CRL/);
  });

  it("fail/untrusted-signer: same issuer name, other key", () => {
    const crl = parseCrl(buildCrl({ issuer: other, crlNumber: 1, thisUpdate: T0, nextUpdate: T1, revoked: [] }).der);
    expect(() => verifyCrl(crl, trusted, T_MID)).toThrow("the CRL's signature does not verify with its issuer's key");
  });

  it("fail/unknown-issuer: a CRL from a CA outside the bundle", () => {
    const crl = parseCrl(buildCrl({ issuer: issuing, crlNumber: 1, thisUpdate: T0, nextUpdate: T1, revoked: [] }).der);
    expect(() => verifyCrl(crl, [trusted[0]!], T_MID)).toThrow("the CRL's issuer is not a CA of the trusted bundle");
  });

  it("fail/stale: nextUpdate passed", () => {
    const crl = parseCrl(buildCrl({ issuer: issuing, crlNumber: 1, thisUpdate: T0, nextUpdate: T1, revoked: [] }).der);
    expect(() => verifyCrl(crl, trusted, new Date("2026-12-04T00:00:00Z"))).toThrow("the CRL is stale: nextUpdate 2026-12-03T00:00:00.000Z has passed");
  });
});
