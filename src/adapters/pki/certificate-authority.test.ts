import { X509Certificate } from "node:crypto";
import forge from "node-forge";
import { beforeAll, describe, expect, it } from "vitest";
import {

  createCa,
  encryptPrivateKeyPem,
  generateRsaKeyPair,
  issueCertificate,
  loadCa,
  nativeSigner,
  randomSerial,
  type CertificateAuthority,
} from "./certificate-authority.js";

// The PEM label of a PKCS#8 EncryptedPrivateKeyInfo (RFC 7468 §11), assembled so that no key-shaped
// text is committed: every key these tests see is generated at run time.
const ENCRYPTED_KEY_PEM_HEADER = ["-----BEGIN", "ENCRYPTED", "PRIVATE", "KEY-----"].join(" ");

let root: CertificateAuthority;
let issuing: CertificateAuthority;
beforeAll(async () => {
  root = await createCa({ commonName: "root", keyBits: 2048 });
  issuing = await createCa({ commonName: "issuing", keyBits: 2048, parent: root });
});

describe("certificate authority", () => {
  it("the native signer makes the same RSASSA-PKCS1-v1_5 signature as forge", async () => {
    const { privateKey } = await generateRsaKeyPair(2048);
    const md = () => forge.md.sha256.create().update("credex");
    expect(nativeSigner(privateKey).sign(md())).toBe(privateKey.sign(md()));
  });

  it("root is self-signed CA; issuing CA has pathLen 0 and verifies under the root", () => {
    const r = new X509Certificate(root.certPem);
    const i = new X509Certificate(issuing.certPem);
    expect(r.ca && i.ca).toBe(true);
    expect(r.verify(r.publicKey)).toBe(true);
    expect(i.verify(r.publicKey)).toBe(true);
    expect(i.checkIssued(r)).toBe(true);
    expect(issuing.chainPem).toBe("");
  });

  it("serials are 16 bytes, positive, lowercase hex", () => {
    for (let n = 0; n < 100; n++) {
      const s = randomSerial();
      expect(s).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(s.startsWith("00")).toBe(false);
    }
  });

  it("loads a CA whose key is an encrypted PKCS#8 PEM, and refuses a wrong passphrase", () => {
    const encrypted = encryptPrivateKeyPem(issuing.keyPem, "correct horse");
    expect(encrypted).toContain(ENCRYPTED_KEY_PEM_HEADER);
    const loaded = loadCa(issuing.certPem, encrypted, "correct horse");
    expect(forge.pki.privateKeyToPem(loaded.privateKey)).toBe(forge.pki.privateKeyToPem(issuing.privateKey));
    expect(() => loadCa(issuing.certPem, encrypted, "wrong")).toThrow();
  });

  it.each([
    ["fail/bad-uscc", { kind: "agency", name: "a", uscc: "9131011066600721", sector: "b" }, 'USCC "9131011066600721" is invalid: length is 16, expected 18 characters'],
    ["fail/no-sector", { kind: "agency", name: "a", uscc: "91310110666007217T" }, "an agency certificate needs a sector (OU)"],
    [
      "fail/sector not spelt as the registry spells it (the gateway would refuse the certificate: CLIENT_IDENTITY_MISMATCH)",
      { kind: "agency", name: "a", uscc: "91310110666007217T", sector: "court" },
      'sector (OU) "court" is not one of: BANKING, SECURITIES, INSURANCE, FOREX, REGIONAL, TAX, MARKET_SUPERVISION, COURT, CREDIT_BUREAU',
    ],
    ["fail/admin-without-role", { kind: "admin", name: "alice" }, "an admin certificate needs a role: system, security, audit"],
    ["fail/name-with-slash", { kind: "provider", name: "a/b" }, 'provider name "a/b" must be letters, digits, ".", "-" or "_"'],
  ] as const)("%s", async (_n, request, message) => {
    await expect(issueCertificate({ issuer: issuing, trustDomain: "credex.test", keyBits: 2048, ...request })).rejects.toThrow(message);
  });

  it("admin certificates carry the role in the URI SAN and OU", async () => {
    const a = await issueCertificate({ kind: "admin", name: "alice", role: "audit", issuer: issuing, trustDomain: "credex.test", keyBits: 2048 });
    const x = new X509Certificate(a.certPem);
    expect(x.subjectAltName).toBe("URI:spiffe://credex.test/admin/audit/alice");
    expect(x.subject).toContain("OU=admin:audit");
    expect(x.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(x.verify(new X509Certificate(issuing.certPem).publicKey)).toBe(true);
    expect(a.chainPem).toBe(a.certPem + issuing.certPem);
  });
});
