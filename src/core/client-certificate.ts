import { X509Certificate, type KeyObject } from "node:crypto";

/** id-kp-clientAuth (RFC 5280 §4.2.1.12). */
export const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
/** id-kp-serverAuth (RFC 5280 §4.2.1.12). */
export const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

/** What credex reads from a peer certificate. */
export interface ClientCertificate {
  /** SHA-256 of the DER, lowercase hex without separators. */
  readonly fingerprint: string;
  /** Serial number, uppercase hex as OpenSSL prints it. */
  readonly serial: string;
  /** URI SANs, e.g. spiffe://credex.example/agency/pbccrc. */
  readonly uris: readonly string[];
  /** Subject attributes by short name (CN, O, OU, serialNumber). */
  readonly subject: Readonly<Record<string, string>>;
  readonly isCa: boolean;
  /** Extended key usage OIDs; empty when the extension is absent. */
  readonly extKeyUsage: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
}

/**
 * Parsed certificates by the DER buffer they came from. The TLS adapter hands
 * the same buffer for every call on one connection (src/adapters/grpc/peer-tls.ts),
 * so a connection's certificate is parsed once, not per call: X.509 parsing was
 * the costliest single step of an exchange (BENCHMARKS.md). Keyed by the buffer
 * object, weakly: nothing outlives its connection, and a different buffer, even
 * with equal bytes, is parsed afresh.
 */
const parsed = new WeakMap<Buffer, ClientCertificate>();

export function readClientCertificate(der: Buffer): ClientCertificate {
  const known = parsed.get(der);
  if (known) return known;
  const cert = parseClientCertificate(der);
  parsed.set(der, cert);
  return cert;
}

function parseClientCertificate(der: Buffer): ClientCertificate {
  const x509 = new X509Certificate(der);
  return Object.freeze({
    fingerprint: x509.fingerprint256.replaceAll(":", "").toLowerCase(),
    serial: x509.serialNumber.toUpperCase(),
    uris: Object.freeze(parseUriSans(x509.subjectAltName ?? "")),
    subject: Object.freeze(parseDistinguishedName(x509.subject)),
    isCa: x509.ca,
    extKeyUsage: Object.freeze(x509.keyUsage ?? []),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    publicKey: x509.publicKey,
  });
}

function parseUriSans(san: string): string[] {
  // Node prints SANs as `URI:…, DNS:…`; a comma inside a URI is escaped in quotes.
  return san
    .split(/,\s*/)
    .filter((part) => part.startsWith("URI:"))
    .map((part) => part.slice(4).replace(/^"|"$/g, ""));
}

function parseDistinguishedName(dn: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of dn.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/**
 * The identity a SPIFFE-style URI SAN names in our trust domain
 * (`spiffe://<trust-domain>/<kind>/<id>`), or undefined. The URI SAN comes
 * first, then nothing else: credex never falls back to the CN for identity.
 */
export function spiffeIdentity(cert: ClientCertificate, trustDomain: string, kind: "agency" | "gateway" | "provider" | "admin"): string | undefined {
  const prefix = `spiffe://${trustDomain}/${kind}/`;
  const matches = cert.uris.filter((u) => u.startsWith(prefix)).map((u) => u.slice(prefix.length));
  // Exactly one identity of the kind: two would make the principal ambiguous.
  if (matches.length !== 1) return undefined;
  const id = matches[0]!;
  return /^[a-z0-9][a-z0-9._/-]{0,62}$/.test(id) ? id : undefined;
}
