import { CredexError } from "../errors.js";
import type { ClientCertificate } from "../client-certificate.js";
import type { PeerTls } from "../principal.js";
import { authenticateCertificate, type RevocationList } from "../stages/authenticate.js";

export interface AuthenticateGatewayDeps {
  /** The provider's own trust domain: only `spiffe://<trustDomain>/gateway` may call. */
  readonly trustDomain: string;
  /** Revoked serials from the provider's CRL files, consulted on every call (not only at the handshake). */
  readonly revocations: RevocationList;
}

/** The gateway that called, as its verified certificate names it. */
export interface GatewayCaller {
  readonly spiffeId: string;
  readonly certSerial: string;
  readonly certFingerprint: string;
}

/**
 * The provider side of the exchange's trust (DESIGN.md "Trust: every node
 * verifies"): a CreditProvider answers only its own trust domain's gateway.
 * The certificate must chain to the provider's CA bundle and pass its CRLs at
 * the handshake, must not be revoked by a CRL loaded since (connections to a
 * provider are long-lived: the gateway reuses one channel per provider), must
 * be an end-entity certificate issued for client authentication (RFC 5280
 * §4.2.1.9, §4.2.1.12), and must carry exactly one URI SAN, the gateway's
 * SPIFFE ID (X.509-SVID §2). An agency's own client certificate, though issued
 * by the same CA, is refused: agencies exchange through the gateway, where
 * they are authorised and audited, never directly.
 *
 * Every refusal is UNAUTHENTICATED with the reason from the one catalogue;
 * `onCertificate` sees the certificate before any decision (for the log).
 */
export function authenticateGateway(deps: AuthenticateGatewayDeps, peer: PeerTls, onCertificate?: (cert: ClientCertificate) => void): GatewayCaller {
  // The certificate checks every caller passes on the gateway too (present, trusted, end-entity, clientAuth, not revoked).
  const cert = authenticateCertificate(deps, peer, onCertificate);

  const expected = `spiffe://${deps.trustDomain}/gateway`;
  // Exactly one URI SAN (X.509-SVID §2): a second one would make the caller two principals at once.
  if (cert.uris.length !== 1) throw new CredexError("CALLER_NOT_GATEWAY", `the caller's certificate has ${cert.uris.length} URI SANs; the gateway's has exactly one, ${expected}`);
  const uri = cert.uris[0]!;
  const match = /^spiffe:\/\/([^/]+)\//.exec(uri);
  if (match && match[1] !== deps.trustDomain) {
    throw new CredexError("CALLER_FOREIGN_TRUST_DOMAIN", `the caller's certificate names trust domain "${match[1]}"; this provider answers only ${expected}`, { trust_domain: match[1]! });
  }
  if (uri !== expected) throw new CredexError("CALLER_NOT_GATEWAY", `the caller's certificate names ${uri}; this provider answers only ${expected}`);
  return { spiffeId: uri, certSerial: cert.serial, certFingerprint: cert.fingerprint };
}
