import { CredexError } from "./errors.js";
import { OID_CLIENT_AUTH, readClientCertificate, spiffeIdentity } from "./client-certificate.js";
import type { PeerTls } from "./principal.js";
import type { RevocationList } from "./stages/authenticate.js";

/** GB/T 22239-2019 level 3: separate system, security and audit administrators. */
export const ADMIN_ROLES = ["system", "security", "audit"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** An authenticated administrator: from the URI SAN spiffe://<td>/admin/<role>/<name>. */
export interface AdminPrincipal {
  readonly role: AdminRole;
  readonly name: string;
  /** "admin/<role>/<name>": how the audit and incident timelines name the officer. */
  readonly id: string;
  readonly certFingerprint: string;
  readonly certSerial: string;
  readonly peerAddress?: string | undefined;
}

/**
 * Which roles may call each GatewayAdmin method. Security officers handle
 * incidents and containment, system administrators the gateway itself,
 * audit administrators only read. Default deny: a method missing here is
 * refused to everyone.
 */
export const ADMIN_METHOD_ROLES: Readonly<Record<string, readonly AdminRole[]>> = {
  SuspendAgency: ["security"],
  ResumeAgency: ["security"],
  ThrottleAgency: ["security"],
  SetRestrictedMode: ["security"],
  RevokeCertificate: ["security"],
  UnrevokeCertificate: ["security"],
  ListIncidents: ["security", "audit"],
  GetIncident: ["security", "audit"],
  AcknowledgeIncident: ["security"],
  ContainIncident: ["security"],
  ResolveIncident: ["security"],
  ReloadTls: ["system"],
  GetStatus: ["system", "security", "audit"],
};

/** Authenticates an administrator: a trusted, unrevoked client certificate naming an admin role. Agency certificates are refused. */
export function authenticateAdmin(deps: { trustDomain: string; revocations: RevocationList }, peer: PeerTls): AdminPrincipal {
  if (!peer.secure || !peer.certificateDer) throw new CredexError("CLIENT_CERT_MISSING");
  if (!peer.authorized) throw new CredexError("CLIENT_CERT_UNTRUSTED", undefined, { verify_error: peer.authorizationError ?? "UNKNOWN" });
  const cert = readClientCertificate(peer.certificateDer);
  if (cert.isCa) throw new CredexError("CLIENT_CERT_IS_CA");
  if (cert.extKeyUsage.length > 0 && !cert.extKeyUsage.includes(OID_CLIENT_AUTH)) throw new CredexError("CLIENT_CERT_WRONG_USAGE");
  const revoked = deps.revocations.lookup(cert.serial);
  if (revoked) throw new CredexError("CLIENT_CERT_REVOKED", `the client certificate was revoked: ${revoked.reason}`, { serial: cert.serial });
  const identity = spiffeIdentity(cert, deps.trustDomain, "admin");
  const m = identity ? /^(system|security|audit)\/([a-z0-9][a-z0-9._-]{0,62})$/.exec(identity) : null;
  if (!m) throw new CredexError("ADMIN_ROLE_REQUIRED", "the admin API needs an administrator certificate (spiffe://<trust-domain>/admin/<role>/<name>)", { trust_domain: deps.trustDomain });
  const role = m[1] as AdminRole;
  return { role, name: m[2]!, id: `admin/${role}/${m[2]!}`, certFingerprint: cert.fingerprint, certSerial: cert.serial, peerAddress: peer.remoteAddress };
}

export function requireAdminRole(principal: AdminPrincipal, method: string): void {
  const allowed = ADMIN_METHOD_ROLES[method] ?? [];
  if (!allowed.includes(principal.role)) {
    throw new CredexError("ADMIN_ROLE_REQUIRED", `${method} needs the ${allowed.join(" or ") || "(no)"} role; ${principal.id} is ${principal.role}`, {
      method,
      role: principal.role,
      required: allowed.join(","),
    });
  }
}
