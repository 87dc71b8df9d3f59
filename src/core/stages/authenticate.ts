import { CredexError } from "../errors.js";
import { OID_CLIENT_AUTH, readClientCertificate, spiffeIdentity, type ClientCertificate } from "../client-certificate.js";
import type { PeerTls, Principal } from "../principal.js";
import type { AgencyRegistry } from "../registry.js";

export interface Revocation {
  readonly reason: string;
  readonly revokedAt: Date;
}

/** Revoked certificates by serial (uppercase hex): consulted on every call, not only at handshake. */
export interface RevocationList {
  lookup(serial: string): Revocation | undefined;
}

export interface AuthenticateDeps {
  readonly trustDomain: string;
  readonly registry: AgencyRegistry;
  readonly revocations: RevocationList;
}

/** OpenSSL verification codes (X509_V_ERR_*) as Node reports them → our reasons. */
export const VERIFY_ERROR_REASONS: Readonly<Record<string, "CLIENT_CERT_EXPIRED" | "CLIENT_CERT_NOT_YET_VALID" | "CLIENT_CERT_REVOKED" | "CLIENT_CERT_WRONG_USAGE">> = {
  CERT_HAS_EXPIRED: "CLIENT_CERT_EXPIRED",
  CERT_NOT_YET_VALID: "CLIENT_CERT_NOT_YET_VALID",
  CERT_REVOKED: "CLIENT_CERT_REVOKED",
  INVALID_PURPOSE: "CLIENT_CERT_WRONG_USAGE",
};

/**
 * The certificate checks every authenticated call passes, whoever the caller
 * is: presented, parsable, chaining to the exchange CA (Node's verification at
 * the handshake, CRL included), not a CA, issued for client authentication,
 * not revoked. The certificate is read even when the chain check failed, so
 * that the audit record names what was presented (`onCertificate`).
 */
export function authenticateCertificate(deps: { readonly revocations: RevocationList }, peer: PeerTls, onCertificate?: (cert: ClientCertificate) => void): ClientCertificate {
  if (!peer.secure || !peer.certificateDer) throw new CredexError("CLIENT_CERT_MISSING");
  let cert: ClientCertificate;
  try {
    cert = readClientCertificate(peer.certificateDer);
  } catch (err) {
    throw new CredexError("CLIENT_CERT_UNTRUSTED", "the client certificate cannot be parsed", {}, { cause: err });
  }
  onCertificate?.(cert);
  if (!peer.authorized) {
    const code = peer.authorizationError ?? "UNKNOWN";
    throw new CredexError(VERIFY_ERROR_REASONS[code] ?? "CLIENT_CERT_UNTRUSTED", undefined, { verify_error: code });
  }
  // A trusted CA's own certificate chains to itself: refuse it explicitly (RFC 5280 §4.2.1.9).
  if (cert.isCa) throw new CredexError("CLIENT_CERT_IS_CA");
  // RFC 5280 §4.2.1.12 reads a missing EKU as "any purpose"; the exchange CA always sets it, so
  // credex requires clientAuth explicitly rather than accept a certificate issued for something else.
  if (!cert.extKeyUsage.includes(OID_CLIENT_AUTH)) throw new CredexError("CLIENT_CERT_WRONG_USAGE");
  const revoked = deps.revocations.lookup(cert.serial);
  if (revoked) throw new CredexError("CLIENT_CERT_REVOKED", `the client certificate was revoked: ${revoked.reason}`, { revocation_reason: revoked.reason, serial: cert.serial });
  return cert;
}

/**
 * Stage 1: who is calling. Establishes identity only (STYLE.md: authenticate
 * decides nothing else).
 */
export function authenticate(deps: AuthenticateDeps, peer: PeerTls, onCertificate?: (cert: ClientCertificate) => void): Principal {
  const cert = authenticateCertificate(deps, peer, onCertificate);

  const agencyId = spiffeIdentity(cert, deps.trustDomain, "agency");
  if (agencyId === undefined) throw new CredexError("CLIENT_IDENTITY_MISSING", undefined, { trust_domain: deps.trustDomain });
  const entry = deps.registry.get(agencyId);
  if (!entry) throw new CredexError("AGENCY_UNKNOWN", `agency "${agencyId}" is not in the registry`, { agency: agencyId });
  if (cert.subject["serialNumber"] !== entry.uscc) {
    throw new CredexError("CLIENT_IDENTITY_MISMATCH", `the certificate's USCC does not match the registry entry of "${agencyId}"`, { agency: agencyId, field: "serialNumber" });
  }
  if (cert.subject["OU"] !== undefined && cert.subject["OU"] !== entry.sector) {
    throw new CredexError("CLIENT_IDENTITY_MISMATCH", `the certificate's sector does not match the registry entry of "${agencyId}"`, { agency: agencyId, field: "OU" });
  }
  const suspension = deps.registry.suspensionOf(agencyId);
  if (suspension !== undefined) throw new CredexError("AGENCY_SUSPENDED", `agency "${agencyId}" is suspended: ${suspension}`, { agency: agencyId });

  return {
    agencyId,
    sector: entry.sector,
    uscc: entry.uscc,
    certFingerprint: cert.fingerprint,
    certSerial: cert.serial,
    publicKey: cert.publicKey,
  };
}
