/**
 * What the authenticate stage needs to know about a TLS peer's certificate,
 * read with node:crypto's X509Certificate only (core does not import node-forge).
 *
 * Identity comes from the URI SAN (SPIFFE X.509-SVID §2: exactly one URI SAN,
 * `spiffe://<trust-domain>/<path>`); the agency's Unified Social Credit Code
 * from the subject serialNumber and its sector from OU (DESIGN.md "Identity").
 * This module describes; it does not decide: chain, validity and revocation
 * are checked by TLS and the authenticate stage.
 */
import { X509Certificate } from "node:crypto";
import { isAdminRole, type AdminRole } from "./admin-role.js";

export type PeerPrincipal =
  | { kind: "agency"; agencyId: string }
  | { kind: "provider"; providerId: string }
  | { kind: "gateway" }
  | { kind: "admin"; role: AdminRole; name: string };

export interface PeerCertificate {
  /** The certificate's single spiffe URI SAN, if it has exactly one URI SAN and it is in the trust domain. */
  spiffeId: string | undefined;
  principal: PeerPrincipal | undefined;
  /** Shortcut for principal.kind === "agency". */
  agencyId: string | undefined;
  /** Why there is no principal (missing, several or foreign URI SANs, unknown path). */
  identityProblem: string | undefined;
  uscc: string | undefined;
  sector: string | undefined;
  organization: string | undefined;
  commonName: string | undefined;
  /** SHA-256 of the DER, lowercase hex without separators. */
  fingerprint256: string;
  /** Lowercase hex, as node:crypto gives it (byte-aligned). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** Extended key usages by name (serverAuth, clientAuth, …), unknown ones as OIDs; empty when the extension is absent. */
  extKeyUsage: string[];
  issuer: string;
}

/** RFC 5280 §4.2.1.12 key purposes. */
const EKU_NAMES: Record<string, string> = {
  "1.3.6.1.5.5.7.3.1": "serverAuth",
  "1.3.6.1.5.5.7.3.2": "clientAuth",
  "1.3.6.1.5.5.7.3.3": "codeSigning",
  "1.3.6.1.5.5.7.3.4": "emailProtection",
  "1.3.6.1.5.5.7.3.8": "timeStamping",
  "1.3.6.1.5.5.7.3.9": "OCSPSigning",
};

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Splits node:crypto's subjectAltName text ("DNS:a, URI:b"). Since Node 17.3.1
 * (CVE-2021-44532) values with separators are written as JSON strings.
 */
export function parseSubjectAltName(text: string | undefined): Array<{ type: string; value: string }> {
  const out: Array<{ type: string; value: string }> = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(":", i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      next = text.indexOf(", ", j + 1);
    } else {
      next = text.indexOf(", ", colon + 1);
      value = text.slice(colon + 1, next < 0 ? text.length : next);
    }
    out.push({ type, value });
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

/**
 * Parses node:crypto's multi-line distinguished name ("CN=a\nOU=b"), written with
 * RFC 2253 escapes (backslash before special characters, \XX for control bytes).
 */
export function parseDistinguishedName(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line
      .slice(eq + 1)
      .replace(/\\([0-9A-Fa-f]{2})|\\(.)/g, (_m, hex: string | undefined, ch: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : ch!));
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

function principalFromPath(path: string): PeerPrincipal | undefined {
  const parts = path.split("/");
  if (!parts.every((p) => SEGMENT.test(p) && p !== "." && p !== "..")) return undefined;
  if (parts.length === 2 && parts[0] === "agency") return { kind: "agency", agencyId: parts[1]! };
  if (parts.length === 2 && parts[0] === "provider") return { kind: "provider", providerId: parts[1]! };
  if (parts.length === 1 && parts[0] === "gateway") return { kind: "gateway" };
  if (parts.length === 3 && parts[0] === "admin" && isAdminRole(parts[1]!)) return { kind: "admin", role: parts[1], name: parts[2]! };
  return undefined;
}

function identityOf(uris: string[], trustDomain: string): { spiffeId?: string; principal?: PeerPrincipal; problem?: string } {
  if (uris.length === 0) return { problem: "the certificate has no URI SAN" };
  if (uris.length > 1) return { problem: `the certificate has ${uris.length} URI SANs; a SPIFFE identity needs exactly one` };
  const uri = uris[0]!;
  const match = /^spiffe:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) return { problem: `URI SAN "${uri}" is not a spiffe:// identity` };
  if (match[1] !== trustDomain) return { problem: `URI SAN "${uri}" is not in trust domain "${trustDomain}"` };
  const principal = principalFromPath(match[2]!);
  if (!principal) return { problem: `URI SAN "${uri}" names no known credex principal` };
  return { spiffeId: uri, principal };
}

/** Only one value of an identity attribute is meaningful; several are treated as none. */
function single(values: string[] | undefined): string | undefined {
  return values && values.length === 1 ? values[0] : undefined;
}

export function describePeerCertificate(der: Buffer, trustDomain: string): PeerCertificate {
  const x509 = new X509Certificate(der);
  const uris = parseSubjectAltName(x509.subjectAltName)
    .filter((n) => n.type === "URI")
    .map((n) => n.value);
  const identity = identityOf(uris, trustDomain);
  const subject = parseDistinguishedName(x509.subject);
  const principal = identity.principal;
  return {
    spiffeId: identity.spiffeId,
    principal,
    agencyId: principal?.kind === "agency" ? principal.agencyId : undefined,
    identityProblem: identity.problem,
    uscc: single(subject.get("serialNumber")),
    sector: single(subject.get("OU")),
    organization: single(subject.get("O")),
    commonName: single(subject.get("CN")),
    fingerprint256: x509.fingerprint256.replace(/:/g, "").toLowerCase(),
    serial: x509.serialNumber.toLowerCase(),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    isCa: x509.ca,
    extKeyUsage: (x509.keyUsage ?? []).map((oid) => EKU_NAMES[oid] ?? oid),
    issuer: x509.issuer,
  };
}
