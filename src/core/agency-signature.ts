import { constants, verify, type KeyObject } from "node:crypto";

/** Signature algorithms an agency may sign its attestations with (consent, a subject's request). */
export const AGENCY_SIGNATURE_ALGORITHMS = ["RSA-SHA256", "RSA-PSS-SHA256"] as const;

/**
 * Checks a statement an agency signed with its certificate key: "RSA-SHA256"
 * (PKCS#1 v1.5) or "RSA-PSS-SHA256" (RFC 8017), SHA-256. Undefined for an
 * algorithm outside that list; false for any signature that does not verify.
 */
export function agencySignatureValid(bytes: Uint8Array, signature: Uint8Array, algorithm: string, publicKey: KeyObject): boolean | undefined {
  const padding = algorithm === "RSA-SHA256" ? constants.RSA_PKCS1_PADDING : algorithm === "RSA-PSS-SHA256" ? constants.RSA_PKCS1_PSS_PADDING : undefined;
  if (padding === undefined) return undefined;
  try {
    return verify("sha256", bytes, { key: publicKey, padding }, signature);
  } catch {
    return false;
  }
}
