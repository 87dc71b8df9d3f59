/**
 * FOR TESTS ONLY: deliberately bad client certificates, so that the
 * authenticate stage's refusals (errors.ts CLIENT_CERT_*) can be exercised
 * against a real TLS handshake or a parsed peer certificate. Never used by
 * the gateway or the pki CLI.
 */
import forge from "node-forge";
import {
  createCa,
  generateRsaKeyPair,
  issuedFrom,
  signCertificate,
  spiffeIdFor,
  validityFrom,
  type CertificateAuthority,
  type CertificateSpec,
  type IssuedCertificate,
} from "./certificate-authority.js";

export type TestCertificateFlaw =
  /** signed by its own key, not by the exchange CA */
  | "self-signed-client"
  /** validity ended a day ago */
  | "expired"
  /** validity starts tomorrow */
  | "not-yet-valid"
  /** extKeyUsage serverAuth only: cannot authenticate a client (RFC 5280 §4.2.1.12) */
  | "server-auth-only"
  /** basicConstraints CA:true presented as a client certificate */
  | "ca-as-client"
  /** a well-formed agency certificate from another, untrusted CA */
  | "other-ca-client";

export interface TestCertificateRequest {
  flaw: TestCertificateFlaw;
  /** The exchange's issuing CA (ignored by self-signed-client and other-ca-client). */
  issuer: CertificateAuthority;
  trustDomain: string;
  agencyId: string;
  uscc: string;
  sector: string;
  keyBits?: number;
  now?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * An agency-shaped client certificate (same subject and URI SAN as a good one)
 * with exactly one flaw. chainPem includes the issuer when there is one.
 */
export async function issueTestCertificate(request: TestCertificateRequest): Promise<IssuedCertificate> {
  const keyBits = request.keyBits ?? 2048;
  const now = request.now ?? new Date();
  const keys = await generateRsaKeyPair(keyBits);
  const spiffeId = spiffeIdFor(request.trustDomain, "agency", request.agencyId);
  const utf8 = forge.asn1.Type.UTF8 as number;
  const spec: CertificateSpec = {
    subject: [
      { name: "commonName", value: request.agencyId, valueTagClass: utf8 },
      { name: "organizationName", value: request.agencyId, valueTagClass: utf8 },
      { name: "organizationalUnitName", value: request.sector, valueTagClass: utf8 },
      { name: "serialNumber", value: request.uscc },
    ],
    publicKey: keys.publicKey,
    issuer: request.issuer,
    signingKey: request.issuer.privateKey,
    ...validityFrom(new Date(now.getTime() - DAY_MS), 30),
    isCa: false,
    extKeyUsage: { clientAuth: true },
    uris: [spiffeId],
  };
  let issuer: CertificateAuthority | null = request.issuer;
  switch (request.flaw) {
    case "self-signed-client":
      issuer = null;
      spec.issuer = null;
      spec.signingKey = keys.privateKey;
      break;
    case "expired":
      Object.assign(spec, validityFrom(new Date(now.getTime() - 31 * DAY_MS), 30));
      break;
    case "not-yet-valid":
      Object.assign(spec, validityFrom(new Date(now.getTime() + DAY_MS), 30));
      break;
    case "server-auth-only":
      spec.extKeyUsage = { serverAuth: true };
      break;
    case "ca-as-client":
      spec.isCa = true;
      break;
    case "other-ca-client": {
      const otherRoot = await createCa({ commonName: "untrusted root CA", keyBits });
      issuer = await createCa({ commonName: "untrusted issuing CA", keyBits, parent: otherRoot });
      spec.issuer = issuer;
      spec.signingKey = issuer.privateKey;
      break;
    }
  }
  return issuedFrom("agency", signCertificate(spec), keys.keyPem, issuer, spiffeId);
}
