import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import forge from "node-forge";
import {
  createCa,
  generateRsaKeyPair,
  issueCertificate,
  signCertificate,
  validityFrom,
  type CertificateAuthority,
} from "../adapters/pki/certificate-authority.js";
import { issueTestCertificate } from "../adapters/pki/test-certificates.js";
import { describePeerCertificate, parseDistinguishedName, parseSubjectAltName } from "./peer-certificate.js";

const TD = "credex.test";
const USCC = "91310110666007217T";
const derOf = (pem: string) => new X509Certificate(pem).raw;

let issuing: CertificateAuthority;
beforeAll(async () => {
  const root = await createCa({ commonName: "test root", keyBits: 2048 });
  issuing = await createCa({ commonName: "test issuing", keyBits: 2048, parent: root });
});

describe("describePeerCertificate", () => {
  it("ok/agency: id, USCC, sector, organisation, fingerprint, serial, usage", async () => {
    const issued = await issueCertificate({
      kind: "agency",
      issuer: issuing,
      trustDomain: TD,
      name: "pboc-crc",
      uscc: USCC,
      sector: "CREDIT_BUREAU",
      organization: '征信中心, "CRC" + co',
      keyBits: 2048,
    });
    const d = describePeerCertificate(derOf(issued.certPem), TD);
    expect(d.principal).toEqual({ kind: "agency", agencyId: "pboc-crc" });
    expect(d.agencyId).toBe("pboc-crc");
    expect(d.spiffeId).toBe("spiffe://credex.test/agency/pboc-crc");
    expect(d.identityProblem).toBeUndefined();
    expect(d.uscc).toBe(USCC);
    expect(d.sector).toBe("CREDIT_BUREAU");
    expect(d.organization).toBe('征信中心, "CRC" + co');
    expect(d.commonName).toBe("pboc-crc");
    expect(d.serial).toBe(issued.serial);
    expect(d.fingerprint256).toMatch(/^[0-9a-f]{64}$/);
    expect(d.fingerprint256).toBe(new X509Certificate(issued.certPem).fingerprint256.replace(/:/g, "").toLowerCase());
    expect(d.isCa).toBe(false);
    expect(d.extKeyUsage).toEqual(["clientAuth"]);
    expect(d.notBefore.getTime()).toBe(issued.notBefore.getTime());
    expect(d.notAfter.getTime()).toBe(issued.notAfter.getTime());
  });

  it("ok/gateway, provider and admin principals", async () => {
    const gw = await issueCertificate({ kind: "gateway", issuer: issuing, trustDomain: TD, name: "gw-1", keyBits: 2048 });
    const pr = await issueCertificate({ kind: "provider", issuer: issuing, trustDomain: TD, name: "csrc", keyBits: 2048 });
    const ad = await issueCertificate({ kind: "admin", issuer: issuing, trustDomain: TD, name: "alice", role: "security", keyBits: 2048 });
    const g = describePeerCertificate(derOf(gw.certPem), TD);
    expect(g.principal).toEqual({ kind: "gateway" });
    expect(g.extKeyUsage).toEqual(["serverAuth", "clientAuth"]);
    expect(g.agencyId).toBeUndefined();
    expect(describePeerCertificate(derOf(pr.certPem), TD).principal).toEqual({ kind: "provider", providerId: "csrc" });
    const a = describePeerCertificate(derOf(ad.certPem), TD);
    expect(a.principal).toEqual({ kind: "admin", role: "security", name: "alice" });
    expect(a.sector).toBe("admin:security");
  });

  it("fail/foreign trust domain gives no principal and names the problem", async () => {
    const issued = await issueCertificate({ kind: "agency", issuer: issuing, trustDomain: "other.test", name: "x", uscc: USCC, sector: "BANKING", keyBits: 2048 });
    const d = describePeerCertificate(derOf(issued.certPem), TD);
    expect(d.principal).toBeUndefined();
    expect(d.agencyId).toBeUndefined();
    expect(d.identityProblem).toBe('URI SAN "spiffe://other.test/agency/x" is not in trust domain "credex.test"');
  });

  it("fail/a CA certificate shows isCa; a server-only certificate lacks clientAuth", async () => {
    const base = { issuer: issuing, trustDomain: TD, agencyId: "a1", uscc: USCC, sector: "BANKING", keyBits: 2048 };
    const ca = describePeerCertificate(derOf((await issueTestCertificate({ ...base, flaw: "ca-as-client" })).certPem), TD);
    expect(ca.isCa).toBe(true);
    const so = describePeerCertificate(derOf((await issueTestCertificate({ ...base, flaw: "server-auth-only" })).certPem), TD);
    expect(so.extKeyUsage).toEqual(["serverAuth"]);
    const expired = describePeerCertificate(derOf((await issueTestCertificate({ ...base, flaw: "expired" })).certPem), TD);
    expect(expired.notAfter.getTime()).toBeLessThan(Date.now());
    expect(expired.agencyId).toBe("a1");
  });
});

describe("text parsers for node:crypto output", () => {
  it("subjectAltName with quoted values", () => {
    expect(parseSubjectAltName('DNS:localhost, IP Address:127.0.0.1, URI:"spiffe://t/a, b", URI:spiffe://t/c')).toEqual([
      { type: "DNS", value: "localhost" },
      { type: "IP Address", value: "127.0.0.1" },
      { type: "URI", value: "spiffe://t/a, b" },
      { type: "URI", value: "spiffe://t/c" },
    ]);
    expect(parseSubjectAltName(undefined)).toEqual([]);
  });
  it("distinguished name with escapes and repeated attributes", () => {
    const dn = parseDistinguishedName('CN=a\\, b\nOU=x\nOU=y\nO=q \\"z\\"\nserialNumber=91310110666007217T');
    expect(dn.get("CN")).toEqual(["a, b"]);
    expect(dn.get("OU")).toEqual(["x", "y"]);
    expect(dn.get("O")).toEqual(['q "z"']);
    expect(dn.get("serialNumber")).toEqual(["91310110666007217T"]);
  });
  it("a certificate with two OU values has no sector", async () => {
    const keys = await generateRsaKeyPair(2048);
    const cert = signCertificate({
      subject: [
        { shortName: "CN", value: "a1" },
        { shortName: "OU", value: "bank" },
        { shortName: "OU", value: "insurance" },
      ],
      publicKey: keys.publicKey,
      issuer: issuing,
      signingKey: issuing.privateKey,
      ...validityFrom(new Date(), 1),
      isCa: false,
      extKeyUsage: { clientAuth: true },
      uris: ["spiffe://credex.test/agency/a1"],
    });
    const d = describePeerCertificate(derOf(forge.pki.certificateToPem(cert)), TD);
    expect(d.sector).toBeUndefined();
    expect(d.agencyId).toBe("a1");
  });
});
