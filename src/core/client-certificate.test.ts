import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createCa, issueCertificate, type CertificateAuthority } from "../adapters/pki/certificate-authority.js";
import { readClientCertificate } from "./client-certificate.js";

const TD = "credex.test";
let issuing: CertificateAuthority;
let der: Buffer;
let otherDer: Buffer;

beforeAll(async () => {
  const root = await createCa({ commonName: "test root", keyBits: 2048 });
  issuing = await createCa({ commonName: "test issuing", keyBits: 2048, parent: root });
  const a = await issueCertificate({ kind: "agency", issuer: issuing, trustDomain: TD, name: "csrc", uscc: "11100000000019713D", sector: "SECURITIES", keyBits: 2048 });
  const b = await issueCertificate({ kind: "agency", issuer: issuing, trustDomain: TD, name: "nfra", uscc: "11100000MB18933302", sector: "INSURANCE", keyBits: 2048 });
  der = new X509Certificate(a.certPem).raw;
  otherDer = new X509Certificate(b.certPem).raw;
});

describe("readClientCertificate", () => {
  it("parses a certificate buffer once and hands the same frozen facts for it afterwards", () => {
    const first = readClientCertificate(der);
    expect(first.uris).toEqual([`spiffe://${TD}/agency/csrc`]);
    expect(readClientCertificate(der)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.uris) && Object.isFrozen(first.subject)).toBe(true);
    expect(() => (first.uris as string[]).push("spiffe://evil/agency/x")).toThrow(TypeError);
  });

  it("never answers for one buffer with another certificate's facts", () => {
    const a = readClientCertificate(der);
    const b = readClientCertificate(otherDer);
    expect(b.uris).toEqual([`spiffe://${TD}/agency/nfra`]);
    expect(b.fingerprint).not.toBe(a.fingerprint);
    // A copy with the same bytes is parsed afresh, to the same facts.
    const copy = readClientCertificate(Buffer.from(der));
    expect(copy).not.toBe(a);
    expect(copy.fingerprint).toBe(a.fingerprint);
  });
});
