import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { crlBuffersOf, type TlsMaterial } from "../adapters/grpc/server-credentials.js";
import { crlDersFromPem, parseCrl, verifyCrl, type CrlEntry } from "../adapters/pki/crl-reader.js";
import { pemCertificateBlocks } from "../core/pem-certificates.js";

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /**
   * CRL files. Node's TLS `crl` option checks revocation for every certificate
   * of the chain, so give the root's CRL and the issuing CA's CRL
   * (root-crl.pem and crl.pem), or every client is refused.
   */
  readonly crl?: string | readonly string[] | undefined;
}

export function crlFilesOf(files: Pick<TlsFiles, "crl">): readonly string[] {
  if (files.crl === undefined) return [];
  return typeof files.crl === "string" ? [files.crl] : files.crl;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const CRL_BLOCK = /-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----\s*/g;

/**
 * Every CRL of the CRL files, one buffer per CRL with the file it came from.
 * A file may hold several CRLs (during a CA change: the old and the new CA's);
 * OpenSSL reads only the first CRL of a buffer, so they are split here.
 */
function readCrls(files: TlsFiles): Array<{ path: string; pem: Buffer }> {
  return crlFilesOf(files).flatMap((path) => {
    const data = read(path, "CRL");
    const blocks = data.toString("utf8").match(CRL_BLOCK);
    return blocks ? blocks.map((b) => ({ path, pem: Buffer.from(b, "utf8") })) : [{ path, pem: data }];
  });
}

function readAll(files: TlsFiles): { material: TlsMaterial; crlSources: string[] } {
  const crls = readCrls(files);
  const material = {
    cert: read(files.cert, "certificate"),
    key: read(files.key, "private key"),
    ca: read(files.ca, "CA bundle"),
    ...(crls.length > 0 ? { crl: crls.map((c) => c.pem) } : {}),
  };
  return { material, crlSources: crls.map((c) => c.path) };
}

/** Reads the served certificate, key, CA bundle and CRLs; a missing or unreadable file is an error naming it. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  return readAll(files).material;
}

/**
 * Who issued a CRL, as a CRL number sequence is kept (RFC 5280 §5.2.3: per
 * issuer): the CA's name and key. Two CAs of one name (a new CA made for the
 * same trust domain) are two issuers.
 */
export function crlIssuerKey(ca: X509Certificate): string {
  return `${ca.subject}\n${ca.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`;
}

/** One CRL of a checked set: whose it is and where it stands in its issuer's sequence. */
export interface CrlInUse {
  /** crlIssuerKey of the CA whose signature verified. */
  readonly issuer: string;
  /** The issuer's subject, for messages. */
  readonly issuerName: string;
  readonly crlNumber: bigint | undefined;
  readonly thisUpdate: Date;
  /** The file it came from. */
  readonly source: string;
  readonly der: Buffer;
}

/** TLS material that was read whole and checked, with what the gateway needs from it. */
export interface CheckedTlsMaterial {
  readonly material: TlsMaterial;
  /** The served (leaf) certificate. */
  readonly leaf: X509Certificate;
  readonly trusted: readonly X509Certificate[];
  /** Every entry of every CRL, for the per-call revocation check. */
  readonly revoked: readonly CrlEntry[];
  /** Every CRL of the set (at most one per issuer), for the succession check of the next reload. */
  readonly crls: readonly CrlInUse[];
}

/** A set of TLS files that must not be loaded; the message says which file and why. */
export class TlsMaterialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TlsMaterialError";
  }
}

function certificatesOf(pem: Buffer, path: string, what: string): X509Certificate[] {
  const blocks = pemCertificateBlocks(pem.toString("utf8"));
  if (blocks.length === 0) throw new TlsMaterialError(`the ${what} ${path} holds no PEM certificate`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new TlsMaterialError(`the ${what} ${path}: certificate ${i + 1} cannot be parsed (${(err as Error).message})`);
    }
  });
}

/**
 * Reads and checks the whole set before anything is swapped in: every PEM
 * parses, the key belongs to the certificate, the certificate is within its
 * validity, the CA bundle holds only CA certificates, and every CRL is signed
 * by a CA of the bundle and not stale. A half-written or mismatched set is
 * refused with its reason (the caller keeps the material in use).
 */
export function loadCheckedTlsMaterial(files: TlsFiles, now = new Date()): CheckedTlsMaterial {
  let material: TlsMaterial;
  let crlSources: string[];
  try {
    ({ material, crlSources } = readAll(files));
  } catch (err) {
    throw new TlsMaterialError((err as Error).message);
  }
  const [leaf] = certificatesOf(material.cert, files.cert, "certificate");
  let key;
  try {
    key = createPrivateKey(material.key);
  } catch (err) {
    throw new TlsMaterialError(`the private key ${files.key} cannot be parsed (${(err as Error).message})`);
  }
  if (!leaf!.checkPrivateKey(key)) throw new TlsMaterialError(`the private key ${files.key} does not belong to the certificate ${files.cert}`);
  if (new Date(leaf!.validTo).getTime() <= now.getTime()) throw new TlsMaterialError(`the certificate ${files.cert} expired on ${new Date(leaf!.validTo).toISOString()}`);
  if (new Date(leaf!.validFrom).getTime() > now.getTime()) throw new TlsMaterialError(`the certificate ${files.cert} is not valid before ${new Date(leaf!.validFrom).toISOString()}`);
  const trusted = certificatesOf(material.ca, files.ca, "CA bundle");
  const notCa = trusted.find((c) => !c.ca);
  if (notCa) throw new TlsMaterialError(`the CA bundle ${files.ca} holds a certificate that is not a CA (${notCa.subject.replace(/\n/g, ", ")})`);
  const revoked: CrlEntry[] = [];
  const crls: CrlInUse[] = [];
  for (const [i, buffer] of crlBuffersOf(material).entries()) {
    const path = crlSources[i] ?? "CRL";
    let found: CrlInUse[];
    try {
      found = crlDersFromPem(buffer.toString("utf8"), path).map((der) => {
        const crl = parseCrl(der);
        const issuer = verifyCrl(crl, trusted, now);
        revoked.push(...crl.entries);
        return { issuer: crlIssuerKey(issuer), issuerName: issuer.subject.replace(/\n/g, ", "), crlNumber: crl.crlNumber, thisUpdate: crl.thisUpdate, source: path, der };
      });
    } catch (err) {
      throw new TlsMaterialError(`the CRL ${path}: ${(err as Error).message}`);
    }
    for (const crl of found) {
      // Two different CRLs of one issuer: TLS would use either, so an old one put beside the new one
      // could be the one that counts. The same CRL twice (the root's in both files) is harmless.
      const other = crls.find((c) => c.issuer === crl.issuer);
      if (other && !other.der.equals(crl.der)) {
        throw new TlsMaterialError(`the CRL ${path}: ${other.source} holds another CRL of the same issuer (${crl.issuerName}); give one CRL per issuer`);
      }
      if (!other) crls.push(crl);
    }
  }
  return { material, leaf: leaf!, trusted, revoked, crls };
}
