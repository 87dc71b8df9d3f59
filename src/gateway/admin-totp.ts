/**
 * The administrators' second factor (GB/T 22239-2019 8.1.4.1 d: two authentication
 * techniques, one of them cryptographic — the admin certificate is the first, a TOTP
 * code (RFC 6238) the second). Secrets are enrolled per admin certificate
 * (fingerprint) by the system administrator and never logged.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { X509Certificate } from "node:crypto";
import { CredexError } from "../core/errors.js";
import { ADMIN_ROLES, type AdminPrincipal } from "../core/admin-principal.js";
import { readClientCertificate, spiffeIdentity } from "../core/client-certificate.js";
import { matchTotp, newTotpSecret, totpUri } from "../adapters/totp/totp.js";

/** Call metadata that carries the code. */
export const TOTP_METADATA_KEY = "x-credex-totp";

export interface AdminTotpEnrolment {
  /** "admin/<role>/<name>" of the certificate at enrolment (for people reading the file). */
  readonly admin: string;
  /** Base32 shared secret. */
  readonly secret: string;
  readonly enrolledAt: string;
}

/** Rewrites `path` atomically (temporary file, fsync, rename), readable by its owner only. */
function writePrivateJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 1)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readJson<T>(path: string, what: string, check: (v: unknown) => v is T, empty: T): T {
  if (!existsSync(path)) return empty;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${what} ${path} is unreadable: ${(err as Error).message}`);
  }
  if (!check(value)) throw new Error(`${what} ${path} has an unknown format`);
  return value;
}

interface EnrolmentFile {
  version: 1;
  enrolments: Record<string, AdminTotpEnrolment>;
}
const isEnrolmentFile = (v: unknown): v is EnrolmentFile =>
  typeof v === "object" && v !== null && (v as EnrolmentFile).version === 1 && typeof (v as EnrolmentFile).enrolments === "object" && (v as EnrolmentFile).enrolments !== null;

export function readAdminTotpEnrolments(path: string): ReadonlyMap<string, AdminTotpEnrolment> {
  return new Map(Object.entries(readJson(path, "admin TOTP enrolments", isEnrolmentFile, { version: 1, enrolments: {} }).enrolments));
}

/**
 * Enrols (or re-enrols, replacing the old secret) the admin certificate `fingerprint`:
 * a new secret, written to the enrolment file (0600). Returns the otpauth:// URI, to be
 * shown once to the administrator; nothing else keeps it.
 */
export function enrolAdminTotp(path: string, fingerprint: string, admin: string, now: Date): { uri: string; secret: string } {
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new Error(`not a SHA-256 certificate fingerprint: ${fingerprint}`);
  const file = readJson(path, "admin TOTP enrolments", isEnrolmentFile, { version: 1, enrolments: {} });
  const secret = newTotpSecret();
  file.enrolments[fingerprint] = { admin, secret, enrolledAt: now.toISOString() };
  writePrivateJson(path, file);
  return { uri: totpUri(secret, `${admin} ${fingerprint.slice(0, 16)}`, "credex"), secret };
}

/**
 * Enrols the administrator certificate in `certPem` (its first certificate): it must
 * name an admin role of `trustDomain` (spiffe://<td>/admin/<role>/<name>).
 */
export function enrolAdminCertificate(path: string, certPem: string, trustDomain: string, now: Date): { uri: string; secret: string; admin: string; fingerprint: string } {
  const cert = readClientCertificate(new X509Certificate(certPem).raw);
  const identity = spiffeIdentity(cert, trustDomain, "admin");
  const role = identity?.split("/")[0];
  if (!identity || !(ADMIN_ROLES as readonly string[]).includes(role ?? "")) {
    throw new Error(`not an administrator certificate of ${trustDomain} (expected URI SAN spiffe://${trustDomain}/admin/<role>/<name>)`);
  }
  const admin = `admin/${identity}`;
  return { ...enrolAdminTotp(path, cert.fingerprint, admin, now), admin, fingerprint: cert.fingerprint };
}

interface UsedFile {
  version: 1;
  /** fingerprint → last accepted time step. */
  used: Record<string, number>;
}
const isUsedFile = (v: unknown): v is UsedFile => typeof v === "object" && v !== null && (v as UsedFile).version === 1 && typeof (v as UsedFile).used === "object" && (v as UsedFile).used !== null;

export interface AdminTotpOptions {
  readonly required: boolean;
  readonly enrolments: string;
  readonly usedCodes: string;
}

/**
 * Checks an administrator call's TOTP code. The enrolment file is read on every
 * check (admin calls are rare), so an enrolment takes effect without a restart.
 *
 * Replay (RFC 6238 §5.2: a code is accepted once): the last accepted time step per
 * certificate is kept (and persisted, so a restart does not reopen the window); a
 * code of that step or an earlier one is refused — except on the very TLS connection
 * that presented it first: further calls on that authenticated connection are the
 * same login, not a second attempt, and nobody else can send on it.
 */
export class AdminTotpVerifier {
  private readonly used: Map<string, number>;
  private readonly sessions = new Map<string, object>();

  constructor(private readonly options: AdminTotpOptions) {
    this.used = new Map(Object.entries(readJson(options.usedCodes, "admin TOTP used codes", isUsedFile, { version: 1, used: {} }).used));
  }

  verify(principal: AdminPrincipal, code: string | undefined, connection: object | undefined, now: Date): void {
    const enrolment = readAdminTotpEnrolments(this.options.enrolments).get(principal.certFingerprint);
    const about = { admin: principal.id };
    if (!enrolment) {
      if (!this.options.required) return;
      throw new CredexError("ADMIN_TOTP_NOT_ENROLLED", `no TOTP secret is enrolled for ${principal.id}'s certificate (credex admin totp enroll)`, about);
    }
    if (code === undefined || code === "") throw new CredexError("ADMIN_TOTP_REQUIRED", undefined, about);
    const step = matchTotp(enrolment.secret, code, now);
    if (step === undefined) throw new CredexError("ADMIN_TOTP_INVALID", undefined, about);
    const last = this.used.get(principal.certFingerprint);
    if (last !== undefined && step <= last) {
      if (step === last && connection !== undefined && this.sessions.get(principal.certFingerprint) === connection) return;
      throw new CredexError("ADMIN_TOTP_REPLAYED", undefined, about);
    }
    this.used.set(principal.certFingerprint, step);
    if (connection !== undefined) this.sessions.set(principal.certFingerprint, connection);
    else this.sessions.delete(principal.certFingerprint);
    writePrivateJson(this.options.usedCodes, { version: 1, used: Object.fromEntries(this.used) });
  }
}
