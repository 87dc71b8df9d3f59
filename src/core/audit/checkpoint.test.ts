import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { makeCheckpointPki, makeSigningIdentity, type CheckpointPki } from "../../../test/support/audit-fixtures.js";
import type { AuditCheckpoint } from "../../gen/credex/v1/audit_pb.js";
import {
  certificateFingerprint,
  checkpointSignerFromAnchors,
  createCheckpoint,
  createCheckpointSigner,
  createRotatingCheckpointSigner,
  decodeCheckpoint,
  encodeCheckpoint,
  verifyCheckpoint,
} from "./checkpoint.js";

describe.each(["rsa", "ec"] as const)("checkpoint (%s)", (type) => {
  const id = makeSigningIdentity(type);
  const signer = createCheckpointSigner(id);
  const head = { instance: "gw-1", sequence: 42n, headHash: new Uint8Array(32).fill(9) };

  it("ok/signs and verifies with the certificate", () => {
    const cp = decodeCheckpoint(encodeCheckpoint(createCheckpoint(head, signer)));
    expect(cp.signatureAlgorithm).toBe(type === "rsa" ? "RSA-PSS-SHA256" : "ECDSA-SHA256");
    expect(cp.sequence).toBe(42n);
    expect(verifyCheckpoint(cp, id.certificatePem)).toBe(true);
  });
  it("fail/altered sequence", () => {
    const cp = createCheckpoint(head, signer);
    cp.sequence = 41n;
    expect(verifyCheckpoint(cp, id.certificatePem)).toBe(false);
  });
  it("fail/altered head hash", () => {
    const cp = createCheckpoint(head, signer);
    cp.headHash = new Uint8Array(32);
    expect(verifyCheckpoint(cp, id.certificatePem)).toBe(false);
  });
  it("fail/another certificate", () => {
    const cp = createCheckpoint(head, signer);
    expect(verifyCheckpoint(cp, makeSigningIdentity(type).certificatePem)).toBe(false);
  });
});

it("fail/key does not match certificate", () => {
  const a = makeSigningIdentity();
  const b = makeSigningIdentity();
  expect(() => createCheckpointSigner({ privateKeyPem: a.privateKeyPem, certificatePem: b.certificatePem })).toThrow("the checkpoint signing key does not match its certificate");
});

describe("a checkpoint's signer, across certificate rotations", () => {
  const head = { instance: "gw-1", sequence: 7n, headHash: new Uint8Array(32).fill(3) };
  let pki: CheckpointPki;
  beforeAll(async () => {
    pki = await makeCheckpointPki();
  }, 60_000);
  const anchors = () => ({ ca: [pki.rootPem], trustDomain: pki.trustDomain });
  const problemOf = (cp: AuditCheckpoint, a = anchors()) => {
    const r = checkpointSignerFromAnchors(decodeCheckpoint(encodeCheckpoint(cp)), a);
    return "problem" in r ? r.problem : undefined;
  };

  it("ok/carries the certificates it was served with and is trusted through the root CA, or the issuing CA", () => {
    const cp = decodeCheckpoint(encodeCheckpoint(createCheckpoint(head, createCheckpointSigner(pki.gateway))));
    expect(cp.signerCertificates.map((der) => new X509Certificate(der).subject)).toEqual([expect.stringContaining("CN=gw"), expect.stringContaining("CN=test issuing")]);
    const r = checkpointSignerFromAnchors(cp, anchors());
    expect("certificate" in r && verifyCheckpoint(cp, r.certificate)).toBe(true);
    expect(problemOf(cp, { ca: [pki.issuingPem], trustDomain: pki.trustDomain })).toBeUndefined();
  });

  it("fail/another CA, another trust domain, an agency's certificate, none carried, or a certificate other than the fingerprint's", async () => {
    const cp = createCheckpoint(head, createCheckpointSigner(pki.gateway));
    expect(problemOf(cp, { ca: [makeSigningIdentity().certificatePem], trustDomain: pki.trustDomain })).toBe("its certificates do not lead to a CA of the given bundle");
    expect(problemOf(cp, { ca: [pki.rootPem], trustDomain: "other.test" })).toBe("its certificate does not name the gateway (spiffe://other.test/gateway)");
    expect(problemOf(createCheckpoint(head, createCheckpointSigner(pki.agency)))).toBe("its certificate does not name the gateway (spiffe://credex.test/gateway)");
    expect(problemOf({ ...cp, signerCertificates: [] })).toBe("the checkpoint carries no certificate");
    const swapped = { ...cp, signerCertificates: createCheckpointSigner(pki.rotated).certificates.slice() };
    expect(problemOf(swapped)).toBe("its first certificate is not the one its fingerprint names");
  });

  it("fail/made when its certificate was not valid", () => {
    const late = createCheckpoint(head, createCheckpointSigner(pki.gateway), new Date(Date.now() + 20 * 365 * 86_400_000));
    expect(problemOf(late)).toMatch(/^certificate 1 \(.*CN=gw.*\) was not valid at /);
  });

  it("fail/a certificate revoked before the checkpoint was made, or for a compromised key whenever it was made; ok/superseded after", () => {
    const madeAt = new Date();
    const cp = createCheckpoint(head, createCheckpointSigner(pki.gateway), madeAt);
    const gatewaySerial = new X509Certificate(pki.gateway.certificatePem).serialNumber;
    const revokedOn = (offsetMs: number, reason: string) => ({
      ...anchors(),
      revocation: (c: X509Certificate) => (c.serialNumber === gatewaySerial ? { revokedAt: new Date(madeAt.getTime() + offsetMs), reason } : undefined),
    });
    expect(problemOf(cp, revokedOn(60_000, "superseded"))).toBeUndefined();
    expect(problemOf(cp, revokedOn(-60_000, "superseded"))).toMatch(/^certificate 1 \(.*CN=gw.*\) was revoked \(superseded\) on /);
    expect(problemOf(cp, revokedOn(60_000, "keyCompromise"))).toMatch(/was revoked \(keyCompromise\) on /);
  });

  it("ok/the rotating signer switches to the new key and certificate; fail/a key that cannot sign leaves the old one in use", () => {
    const signer = createRotatingCheckpointSigner(pki.gateway);
    const before = signer.certFingerprint;
    expect(() => signer.prepare({ privateKeyPem: pki.gateway.privateKeyPem, certificatePem: pki.rotated.certificatePem })).toThrow("the checkpoint signing key does not match its certificate");
    expect(signer.certFingerprint).toBe(before);
    const switchOver = signer.prepare(pki.rotated);
    expect(signer.certFingerprint).toBe(before);
    switchOver();
    expect(signer.certFingerprint).toBe(certificateFingerprint(pki.rotated.certificatePem));
    const cp = createCheckpoint(head, signer);
    expect(cp.signerCertFingerprint).toBe(signer.certFingerprint);
    expect(verifyCheckpoint(cp, pki.rotated.certificatePem)).toBe(true);
    expect(verifyCheckpoint(cp, pki.gateway.certificatePem)).toBe(false);
    expect(problemOf(cp)).toBeUndefined();
  });
});
