import { constants, createPrivateKey, sign } from "node:crypto";

/**
 * Signs a statement with the agency's certificate key (RSA-PSS, SHA-256):
 * what the gateway checks with agencySignatureValid against the caller's
 * certificate (consent attestations, a subject's request).
 */
export function signAsAgency(bytes: Uint8Array, agencyKeyPem: string | Buffer): { signature: Buffer; algorithm: "RSA-PSS-SHA256" } {
  const signature = sign("sha256", bytes, { key: createPrivateKey(agencyKeyPem), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  return { signature, algorithm: "RSA-PSS-SHA256" };
}
