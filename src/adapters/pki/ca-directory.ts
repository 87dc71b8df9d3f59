/**
 * The operator's CA directory: the state behind `credex pki`.
 *
 *   root-ca.crt, root-ca.key         self-signed root (key optionally an encrypted PKCS#8 PEM)
 *   issuing-ca.crt, issuing-ca.key   intermediate that signs leaves and CRLs
 *   ca-bundle.pem                    root then issuing CA: what servers and clients trust
 *   issued/<name>.crt, .key          leaf then issuing CA; key 0600
 *   index.json                       every certificate issued: serial, profile, revocation
 *   crl.pem                          X.509 v2 CRL by the issuing CA over leaves (RFC 5280 §5)
 *   root-crl.pem                     the root's CRL over CA certificates (empty; long-lived):
 *                                    verifiers that check CRLs for the whole chain (Node's
 *                                    `crl` option: pass [root-crl.pem, crl.pem]) need both
 *   operations.log                   append-only JSONL operator audit (GB/T 22239-2019 level 3:
 *                                    time, operator, operation, serial, outcome)
 *
 * One operation at a time: a `.lock` file (O_EXCL) guards index.json, which is
 * replaced atomically (write then rename).
 */
import { appendFile, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import {
  ADMIN_ROLES,
  createCa,
  encryptPrivateKeyPem,
  issueCertificate,
  loadCa,
  validateTrustDomain,
  type AdminRole,
  type CertificateAuthority,
  type CertificateKind,
  type IssuedCertificate,
} from "./certificate-authority.js";
import { buildCrl, REVOCATION_REASONS, type RevocationReason } from "./crl.js";
import { writePrivateFile, writePublicFile } from "./pem-files.js";

export const MIN_CA_KEY_BITS = 3072;
export const EXPIRING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What is needed to issue the same certificate again (renew). */
export interface IssueProfile {
  kind: CertificateKind;
  /** The certificate's name in this directory (issued/<name>.crt, renew <name>). */
  name: string;
  /**
   * provider: the agency id of its URI SAN (spiffe://<td>/provider/<id>) when it differs from
   * `name`, so an agency's provider certificate sits beside its client certificate (issued/<id>.crt).
   */
  id?: string;
  uscc?: string;
  sector?: string;
  organization?: string;
  role?: AdminRole;
  dnsNames?: string[];
  days: number;
  keyBits: number;
}

export interface IndexEntry {
  serial: string;
  name: string;
  kind: CertificateKind;
  spiffeId: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  profile: IssueProfile;
  /** Serial of the certificate this one renewed. */
  renews?: string;
  revokedAt?: string;
  reason?: RevocationReason;
}

export interface CaIndex {
  version: 1;
  trustDomain: string;
  keysEncrypted: boolean;
  crlNumber: number;
  /** cRLNumber of root-crl.pem (the root's CRL over CA certificates). */
  rootCrlNumber: number;
  certificates: IndexEntry[];
}

export type CertificateState = "valid" | "expiring" | "expired" | "revoked";

/** A refusal the operator can act on (bad input, wrong state); the CLI prints it as a usage error. */
export class CaOperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaOperationError";
  }
}

/**
 * Serials compare as numbers: case, colons and leading zeros differ between
 * tools (openssl prints upper case, some strip a leading 00).
 */
export function normalizeSerial(serial: string): string {
  const hex = serial.toLowerCase().replace(/[:\s]/g, "");
  if (!/^[0-9a-f]+$/.test(hex)) throw new CaOperationError(`serial "${serial}" is not hexadecimal`);
  return hex.replace(/^0+(?=.)/, "");
}

export function stateOf(entry: IndexEntry, now: Date): CertificateState {
  if (entry.revokedAt) return "revoked";
  const left = new Date(entry.notAfter).getTime() - now.getTime();
  if (left <= 0) return "expired";
  return left <= EXPIRING_DAYS * DAY_MS ? "expiring" : "valid";
}

export const caPaths = (dir: string) => ({
  rootCert: join(dir, "root-ca.crt"),
  rootKey: join(dir, "root-ca.key"),
  issuingCert: join(dir, "issuing-ca.crt"),
  issuingKey: join(dir, "issuing-ca.key"),
  bundle: join(dir, "ca-bundle.pem"),
  index: join(dir, "index.json"),
  crl: join(dir, "crl.pem"),
  rootCrl: join(dir, "root-crl.pem"),
  log: join(dir, "operations.log"),
  lock: join(dir, ".lock"),
  issuedCert: (name: string) => join(dir, "issued", `${name}.crt`),
  issuedKey: (name: string) => join(dir, "issued", `${name}.key`),
});

export interface OperationRecord {
  operation: string;
  outcome: "ok" | "refused" | "failed";
  serial?: string;
  name?: string;
  detail?: string;
}

/** Appends one operator-audit line; the operator is the OS account (USER), as GB/T 22239 asks who acted. */
export async function logOperation(dir: string, record: OperationRecord, now = new Date()): Promise<void> {
  const operator = process.env["USER"] ?? userInfo().username;
  const line = JSON.stringify({ time: now.toISOString(), operator, ...record });
  await appendFile(caPaths(dir).log, `${line}\n`, { mode: 0o640 });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = caPaths(dir).lock;
  let handle;
  try {
    handle = await open(lock, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CaOperationError(`another pki operation holds ${lock}; if none is running, remove the file`);
    }
    throw err;
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
    return await fn();
  } finally {
    await handle.close();
    await rm(lock, { force: true });
  }
}

async function writeIndex(dir: string, index: CaIndex): Promise<void> {
  const path = caPaths(dir).index;
  await writeFile(`${path}.tmp`, `${JSON.stringify(index, null, 2)}\n`, { mode: 0o640 });
  await rename(`${path}.tmp`, path);
}

export async function readIndex(dir: string): Promise<CaIndex> {
  const path = caPaths(dir).index;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new CaOperationError(`${dir} is not a CA directory (no index.json): run "credex pki init --dir ${dir}" first`);
  }
  const index = JSON.parse(text) as CaIndex;
  if (index.version !== 1) throw new CaOperationError(`index.json version ${String(index.version)} is not supported`);
  return index;
}

export interface InitOptions {
  trustDomain: string;
  passphrase?: string;
  keyBits?: number;
  now?: Date;
}

/** Creates root and issuing CA, the bundle, an empty index and an empty CRL. Refuses a non-empty CA directory. */
export async function initCaDirectory(dir: string, options: InitOptions): Promise<CaIndex> {
  validateTrustDomain(options.trustDomain);
  const keyBits = options.keyBits ?? MIN_CA_KEY_BITS;
  if (keyBits < MIN_CA_KEY_BITS) throw new CaOperationError(`CA keys need at least ${MIN_CA_KEY_BITS} bits, got ${keyBits}`);
  const p = caPaths(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (await exists(p.index)) throw new CaOperationError(`${dir} already holds a CA (index.json exists)`);
  return withLock(dir, async () => {
    const now = options.now ?? new Date();
    const td = options.trustDomain;
    const root = await createCa({ commonName: `credex root CA (${td})`, keyBits, days: 10 * 365, now });
    const issuing = await createCa({ commonName: `credex issuing CA (${td})`, keyBits, days: 5 * 365, parent: root, now });
    const protect = (pem: string) => (options.passphrase === undefined ? pem : encryptPrivateKeyPem(pem, options.passphrase));
    await writePublicFile(p.rootCert, root.certPem);
    await writePrivateFile(p.rootKey, protect(root.keyPem));
    await writePublicFile(p.issuingCert, issuing.certPem);
    await writePrivateFile(p.issuingKey, protect(issuing.keyPem));
    await writePublicFile(p.bundle, root.certPem + issuing.certPem);
    await mkdir(join(dir, "issued"), { mode: 0o700 });
    const index: CaIndex = {
      version: 1,
      trustDomain: td,
      keysEncrypted: options.passphrase !== undefined,
      crlNumber: 0,
      rootCrlNumber: 0,
      certificates: [],
    };
    await writeCrl(dir, index, issuing, now, 7);
    await writeRootCrl(dir, index, root, now, ROOT_CRL_DAYS);
    await writeIndex(dir, index);
    return index;
  });
}

async function loadIssuingCa(dir: string, index: CaIndex, passphrase: string | undefined): Promise<CertificateAuthority> {
  if (index.keysEncrypted && passphrase === undefined) {
    throw new CaOperationError("the CA keys are encrypted: give --passphrase-file");
  }
  const p = caPaths(dir);
  try {
    return loadCa(await readFile(p.issuingCert, "utf8"), await readFile(p.issuingKey, "utf8"), index.keysEncrypted ? passphrase : undefined);
  } catch (err) {
    if (index.keysEncrypted) throw new CaOperationError(`cannot decrypt the issuing CA key: wrong passphrase? (${(err as Error).message})`);
    throw err;
  }
}

/** The root signs rarely (its key belongs offline): its CRL lists no CA revocations yet and lives long. */
export const ROOT_CRL_DAYS = 365;

async function writeRootCrl(dir: string, index: CaIndex, root: CertificateAuthority, now: Date, days: number): Promise<void> {
  index.rootCrlNumber += 1;
  const { pem } = buildCrl({ issuer: root, revoked: [], crlNumber: index.rootCrlNumber, thisUpdate: now, nextUpdate: new Date(now.getTime() + days * DAY_MS) });
  await writePublicFile(caPaths(dir).rootCrl, pem);
}

/** Re-signs root-crl.pem with the root key (needs root-ca.key back from offline storage). */
export async function publishRootCrl(dir: string, session: CaSession & { days?: number } = {}): Promise<{ crlNumber: number }> {
  return withLock(dir, async () => {
    const index = await readIndex(dir);
    const p = caPaths(dir);
    if (index.keysEncrypted && session.passphrase === undefined) throw new CaOperationError("the CA keys are encrypted: give --passphrase-file");
    const keyPem = await readFile(p.rootKey, "utf8").catch(() => {
      throw new CaOperationError(`${p.rootKey} is not there: bring the root key back from offline storage to sign the root CRL`);
    });
    let root: CertificateAuthority;
    try {
      root = loadCa(await readFile(p.rootCert, "utf8"), keyPem, index.keysEncrypted ? session.passphrase : undefined);
    } catch (err) {
      throw new CaOperationError(`cannot load the root CA key: wrong passphrase? (${(err as Error).message})`);
    }
    await writeRootCrl(dir, index, root, session.now ?? new Date(), session.days ?? ROOT_CRL_DAYS);
    await writeIndex(dir, index);
    return { crlNumber: index.rootCrlNumber };
  });
}

/** Signs a new CRL with every revoked certificate still in the index, bumping cRLNumber. */
async function writeCrl(dir: string, index: CaIndex, issuing: CertificateAuthority, now: Date, days: number): Promise<void> {
  index.crlNumber += 1;
  const revoked = index.certificates
    .filter((c) => c.revokedAt && c.reason)
    .map((c) => ({ serial: c.serial, revokedAt: new Date(c.revokedAt!), reason: c.reason! }));
  const { pem } = buildCrl({ issuer: issuing, revoked, crlNumber: index.crlNumber, thisUpdate: now, nextUpdate: new Date(now.getTime() + days * DAY_MS) });
  await writePublicFile(caPaths(dir).crl, pem);
}

export interface CaSession {
  passphrase?: string;
  now?: Date;
}

/** Issues one certificate into issued/<name>.crt/.key. A name holds one live certificate: renew it instead. */
/** The index.json entry of a certificate just issued under `profile`. */
export function indexEntryOf(issued: IssuedCertificate, profile: IssueProfile, issuedAt: Date): IndexEntry {
  return {
    serial: issued.serial,
    name: profile.name,
    kind: profile.kind,
    spiffeId: issued.spiffeId,
    notBefore: issued.notBefore.toISOString(),
    notAfter: issued.notAfter.toISOString(),
    issuedAt: issuedAt.toISOString(),
    profile,
  };
}

export async function issueIntoDirectory(dir: string, profile: IssueProfile, session: CaSession = {}): Promise<IndexEntry> {
  return withLock(dir, async () => {
    const index = await readIndex(dir);
    const now = session.now ?? new Date();
    const live = index.certificates.find((c) => c.name === profile.name && stateOf(c, now) !== "revoked" && stateOf(c, now) !== "expired");
    if (live) {
      throw new CaOperationError(`"${profile.name}" already has a live ${live.kind} certificate (serial ${live.serial}): use "credex pki renew ${profile.name}"`);
    }
    const issuing = await loadIssuingCa(dir, index, session.passphrase);
    return issueAndRecord(dir, index, issuing, profile, now);
  });
}

async function issueAndRecord(
  dir: string,
  index: CaIndex,
  issuing: CertificateAuthority,
  profile: IssueProfile,
  now: Date,
  renews?: string,
): Promise<IndexEntry> {
  if (profile.kind === "admin" && (!profile.role || !ADMIN_ROLES.includes(profile.role))) {
    throw new CaOperationError(`an admin certificate needs --role ${ADMIN_ROLES.join("|")}`);
  }
  const caNotAfter = issuing.certificate.validity.notAfter.getTime();
  if (now.getTime() + profile.days * DAY_MS > caNotAfter) {
    throw new CaOperationError(`--days ${profile.days} would outlive the issuing CA (valid until ${issuing.certificate.validity.notAfter.toISOString()})`);
  }
  let issued: IssuedCertificate;
  try {
    issued = await issueCertificate({ ...profile, name: profile.id ?? profile.name, issuer: issuing, trustDomain: index.trustDomain, now });
  } catch (err) {
    if (err instanceof RangeError) throw new CaOperationError(err.message);
    throw err;
  }
  const p = caPaths(dir);
  await writePublicFile(p.issuedCert(profile.name), issued.chainPem);
  await writePrivateFile(p.issuedKey(profile.name), issued.keyPem);
  const entry = indexEntryOf(issued, profile, now);
  if (renews) entry.renews = renews;
  index.certificates.push(entry);
  await writeIndex(dir, index);
  return entry;
}

/**
 * Issues a fresh key and certificate with the same profile as the newest
 * certificate of `name`. The old one stays valid until it expires (so peers
 * can switch without downtime) unless `revokeOld`, which revokes it as superseded.
 */
export async function renewInDirectory(dir: string, name: string, options: CaSession & { revokeOld?: boolean; days?: number } = {}): Promise<{ entry: IndexEntry; previous: IndexEntry }> {
  return withLock(dir, async () => {
    const index = await readIndex(dir);
    const now = options.now ?? new Date();
    const previous = index.certificates.filter((c) => c.name === name).at(-1);
    if (!previous) throw new CaOperationError(`no certificate named "${name}" in ${dir}`);
    if (previous.revokedAt) {
      // A revoked identity (compromised, departed, changed) is re-issued deliberately with issue, not renewed in passing.
      throw new CaOperationError(`"${name}" (serial ${previous.serial}) was revoked (${previous.reason}): issue a new certificate instead`);
    }
    const issuing = await loadIssuingCa(dir, index, options.passphrase);
    const profile = { ...previous.profile, days: options.days ?? previous.profile.days };
    const entry = await issueAndRecord(dir, index, issuing, profile, now, previous.serial);
    if (options.revokeOld && !previous.revokedAt) {
      previous.revokedAt = now.toISOString();
      previous.reason = "superseded";
      await writeCrl(dir, index, issuing, now, 7);
      await writeIndex(dir, index);
    }
    return { entry, previous };
  });
}

export function findBySerial(index: CaIndex, serial: string): IndexEntry | undefined {
  const wanted = normalizeSerial(serial);
  return index.certificates.find((c) => normalizeSerial(c.serial) === wanted);
}

/** Marks a certificate revoked and publishes a new CRL at once. */
export async function revokeInDirectory(dir: string, serial: string, reason: RevocationReason, session: CaSession & { crlDays?: number } = {}): Promise<IndexEntry> {
  if (!(reason in REVOCATION_REASONS)) throw new CaOperationError(`unknown reason "${reason}"`);
  const wanted = normalizeSerial(serial);
  return withLock(dir, async () => {
    const index = await readIndex(dir);
    const now = session.now ?? new Date();
    const entry = findBySerial(index, wanted);
    if (!entry) throw new CaOperationError(`no certificate with serial ${serial} in ${dir}`);
    if (entry.revokedAt) throw new CaOperationError(`serial ${entry.serial} was already revoked on ${entry.revokedAt} (${entry.reason})`);
    const issuing = await loadIssuingCa(dir, index, session.passphrase);
    entry.revokedAt = now.toISOString();
    entry.reason = reason;
    await writeCrl(dir, index, issuing, now, session.crlDays ?? 7);
    await writeIndex(dir, index);
    return entry;
  });
}

/** Re-signs the CRL (before its nextUpdate, RFC 5280 §5.1.2.5). */
export async function publishCrl(dir: string, session: CaSession & { days?: number } = {}): Promise<{ crlNumber: number; revoked: number }> {
  return withLock(dir, async () => {
    const index = await readIndex(dir);
    const issuing = await loadIssuingCa(dir, index, session.passphrase);
    await writeCrl(dir, index, issuing, session.now ?? new Date(), session.days ?? 7);
    await writeIndex(dir, index);
    return { crlNumber: index.crlNumber, revoked: index.certificates.filter((c) => c.revokedAt).length };
  });
}
