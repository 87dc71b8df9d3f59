/**
 * Reads X.509 v2 CRLs (RFC 5280 §5.1) with forge.asn1: issuer, validity,
 * revoked serials and their reason codes (§5.3.1), and checks the signature
 * against the trusted CA certificates. node:crypto has no CRL parser and
 * node-forge no CRL type, hence the walk over the ASN.1 tree.
 *
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer Name,
 *   thisUpdate Time, nextUpdate Time OPTIONAL,
 *   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, revocationDate Time,
 *     crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *   crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 */
import { X509Certificate, verify as cryptoVerify } from "node:crypto";
import forge from "node-forge";
import { normalizeSerial } from "../../core/certificate-serial.js";

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
const OID_REASON_CODE = "2.5.29.21";
const OID_CRL_NUMBER = "2.5.29.20";

/** RFC 5280 §5.3.1 CRLReason names by code (7 is not used). */
export const CRL_REASON_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "unspecified",
  1: "keyCompromise",
  2: "cACompromise",
  3: "affiliationChanged",
  4: "superseded",
  5: "cessationOfOperation",
  6: "certificateHold",
  8: "removeFromCRL",
  9: "privilegeWithdrawn",
  10: "aACompromise",
});

/** Signature algorithms whose hash credex accepts on a CRL (RSA PKCS#1 v1.5 and ECDSA). */
const SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};

export interface CrlEntry {
  /** Uppercase hex without leading zeros (the form RevocationSet compares). */
  readonly serial: string;
  readonly revokedAt: Date;
  /** RFC 5280 §5.3.1 name; "unspecified" when the entry has no reasonCode (§5.3.1: absent means unspecified). */
  readonly reason: string;
}

export interface ParsedCrl {
  readonly der: Buffer;
  /** DER of the issuer Name, matched against CA certificate subjects. */
  readonly issuerDer: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** cRLNumber (RFC 5280 §5.2.3: increases with each CRL of an issuer); undefined when the CRL has none. */
  readonly crlNumber: bigint | undefined;
  readonly entries: readonly CrlEntry[];
  readonly tbsDer: Buffer;
  readonly signatureOid: string;
  readonly signature: Buffer;
}

/** A CRL that cannot be used; the message says why (shown in the reload log). */
export class CrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CrlError";
  }
}

/** The DER of every "X509 CRL" PEM block in `text`; a text with none is an error. */
export function crlDersFromPem(text: string, source = "CRL"): Buffer[] {
  const blocks = text.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g) ?? [];
  if (blocks.length === 0) throw new CrlError(`${source} holds no PEM "X509 CRL" block`);
  return blocks.map((b) => Buffer.from(b.replace(/-----(BEGIN|END) X509 CRL-----|\s+/g, ""), "base64"));
}

const bytes = (b: Buffer) => forge.util.createBuffer(b.toString("binary"));
const toBuffer = (binary: string) => Buffer.from(binary, "binary");

function timeOf(node: forge.asn1.Asn1 | undefined, what: string): Date {
  if (!node || node.tagClass !== U || (node.type !== T.UTCTIME && node.type !== T.GENERALIZEDTIME)) throw new CrlError(`${what} is not a Time`);
  const value = node.value as string;
  return node.type === T.UTCTIME ? asn1.utcTimeToDate(value) : asn1.generalizedTimeToDate(value);
}

const isTime = (node: forge.asn1.Asn1 | undefined) => node !== undefined && node.tagClass === U && (node.type === T.UTCTIME || node.type === T.GENERALIZEDTIME);

function serialOf(node: forge.asn1.Asn1 | undefined): string {
  if (!node || node.type !== T.INTEGER) throw new CrlError("a revoked entry has no serial INTEGER");
  const hex = forge.util.bytesToHex(node.value as string).toUpperCase();
  return hex.replace(/^0+(?=.)/, "");
}

function reasonOf(extensions: forge.asn1.Asn1 | undefined): string {
  if (!extensions) return "unspecified";
  for (const ext of extensions.value as forge.asn1.Asn1[]) {
    const parts = ext.value as forge.asn1.Asn1[];
    if (asn1.derToOid(parts[0]!.value as string) !== OID_REASON_CODE) continue;
    const inner = asn1.fromDer(bytes(toBuffer(parts.at(-1)!.value as string)));
    const code = (inner.value as string).charCodeAt(0);
    return CRL_REASON_NAMES[code] ?? `reason-${code}`;
  }
  return "unspecified";
}

/** The cRLNumber of the crlExtensions ([0] EXPLICIT Extensions), if there is one. */
function crlNumberOf(tagged: forge.asn1.Asn1 | undefined): bigint | undefined {
  if (!tagged || tagged.tagClass !== asn1.Class.CONTEXT_SPECIFIC || tagged.type !== 0) return undefined;
  const extensions = (tagged.value as forge.asn1.Asn1[])[0];
  for (const ext of (extensions?.value ?? []) as forge.asn1.Asn1[]) {
    const parts = ext.value as forge.asn1.Asn1[];
    if (asn1.derToOid(parts[0]!.value as string) !== OID_CRL_NUMBER) continue;
    const inner = asn1.fromDer(bytes(toBuffer(parts.at(-1)!.value as string)));
    if (inner.type !== T.INTEGER || (inner.value as string).length === 0) throw new CrlError("the cRLNumber is not an INTEGER");
    const hex = forge.util.bytesToHex(inner.value as string);
    if (parseInt(hex.slice(0, 2), 16) >= 0x80) throw new CrlError("the cRLNumber is negative");
    return BigInt(`0x${hex}`);
  }
  return undefined;
}

/**
 * Byte range [start, end) of the first element inside the outer SEQUENCE: the
 * signed tbsCertList exactly as received (re-encoding could change the bytes).
 */
function firstInnerElement(der: Buffer): Buffer {
  const headerLength = (at: number): { header: number; length: number } => {
    const first = der[at + 1]!;
    if (first < 0x80) return { header: 2, length: first };
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new CrlError("unsupported DER length");
    let length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[at + 2 + i]!;
    return { header: 2 + n, length };
  };
  const outer = headerLength(0);
  const inner = headerLength(outer.header);
  const end = outer.header + inner.header + inner.length;
  if (end > der.length) throw new CrlError("truncated CRL");
  return der.subarray(outer.header, end);
}

export function parseCrl(der: Buffer): ParsedCrl {
  let root: forge.asn1.Asn1;
  try {
    root = asn1.fromDer(bytes(der), true);
  } catch (err) {
    throw new CrlError(`not a DER CRL: ${(err as Error).message}`);
  }
  const top = root.value as forge.asn1.Asn1[];
  if (root.type !== T.SEQUENCE || top.length !== 3) throw new CrlError("not a CertificateList (RFC 5280 §5.1)");
  const tbs = top[0]!.value as forge.asn1.Asn1[];
  let i = 0;
  if (tbs[i]?.type === T.INTEGER && tbs[i]?.tagClass === U) i++; // version v2
  i++; // signature AlgorithmIdentifier (repeated outside, checked there)
  const issuer = tbs[i++];
  if (!issuer || issuer.type !== T.SEQUENCE) throw new CrlError("the CRL has no issuer Name");
  const thisUpdate = timeOf(tbs[i++], "thisUpdate");
  const nextUpdate = isTime(tbs[i]) ? timeOf(tbs[i++], "nextUpdate") : undefined;
  const entries: CrlEntry[] = [];
  if (tbs[i] && tbs[i]!.tagClass === U && tbs[i]!.type === T.SEQUENCE) {
    for (const entry of tbs[i++]!.value as forge.asn1.Asn1[]) {
      const parts = entry.value as forge.asn1.Asn1[];
      entries.push({ serial: serialOf(parts[0]), revokedAt: timeOf(parts[1], "revocationDate"), reason: reasonOf(parts[2]) });
    }
  }
  const crlNumber = crlNumberOf(tbs[i]);
  const algorithm = (top[1]!.value as forge.asn1.Asn1[])[0]!;
  const signatureBits = top[2]!.value as string;
  return {
    der,
    issuerDer: toBuffer(asn1.toDer(issuer).getBytes()),
    thisUpdate,
    nextUpdate,
    crlNumber,
    entries,
    tbsDer: firstInnerElement(der),
    signatureOid: asn1.derToOid(algorithm.value as string),
    // BIT STRING content starts with the count of unused bits (0 for signatures).
    signature: toBuffer(signatureBits.slice(1)),
  };
}

/** The subject Name DER of a certificate, to match a CRL's issuer. */
function subjectDerOf(cert: X509Certificate): Buffer {
  const c = asn1.fromDer(bytes(cert.raw));
  const tbs = (c.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  const offset = tbs[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0; // [0] version
  return toBuffer(asn1.toDer(tbs[offset + 4]!).getBytes());
}

/**
 * Checks that a CRL was signed by one of `trusted` (the CA bundle) and is not
 * past its nextUpdate (RFC 5280 §6.3.3: a stale CRL cannot be relied on, and
 * OpenSSL would refuse every client with CRL_HAS_EXPIRED). Returns the issuer.
 */
export function verifyCrl(crl: ParsedCrl, trusted: readonly X509Certificate[], now: Date): X509Certificate {
  const hash = SIGNATURE_HASHES[crl.signatureOid];
  if (!hash) throw new CrlError(`the CRL's signature algorithm ${crl.signatureOid} is not supported`);
  const candidates = trusted.filter((c) => subjectDerOf(c).equals(crl.issuerDer));
  if (candidates.length === 0) throw new CrlError("the CRL's issuer is not a CA of the trusted bundle");
  const issuer = candidates.find((c) => cryptoVerify(hash, crl.tbsDer, c.publicKey, crl.signature));
  if (!issuer) throw new CrlError("the CRL's signature does not verify with its issuer's key");
  if (crl.nextUpdate && crl.nextUpdate.getTime() < now.getTime()) throw new CrlError(`the CRL is stale: nextUpdate ${crl.nextUpdate.toISOString()} has passed`);
  if (crl.thisUpdate.getTime() > now.getTime() + 5 * 60_000) throw new CrlError(`the CRL is not yet valid: thisUpdate ${crl.thisUpdate.toISOString()}`);
  return issuer;
}

/** When and why a CRL revoked a certificate, if it did. */
export type RevocationLookup = (cert: X509Certificate) => { readonly revokedAt: Date; readonly reason: string } | undefined;

/**
 * A lookup over CRLs (PEM texts, each named by its source for errors): each CRL must be signed
 * by a CA of `trusted` and fresh (verifyCrl); an entry applies to a certificate with its serial
 * issued by that CA (RFC 5280 §5.3: serials are unique per issuer only).
 */
export function revocationLookupFromCrls(crls: ReadonlyArray<{ readonly pem: string; readonly source: string }>, trusted: readonly X509Certificate[], now: Date): RevocationLookup {
  const byIssuerAndSerial = new Map<string, CrlEntry>();
  for (const { pem, source } of crls) {
    try {
      for (const der of crlDersFromPem(pem, source)) {
        const crl = parseCrl(der);
        const issuer = verifyCrl(crl, trusted, now);
        for (const entry of crl.entries) byIssuerAndSerial.set(`${issuer.subject}\n${normalizeSerial(entry.serial)}`, entry);
      }
    } catch (err) {
      throw new CrlError(`the CRL ${source}: ${(err as Error).message}`);
    }
  }
  return (cert) => byIssuerAndSerial.get(`${cert.issuer}\n${normalizeSerial(cert.serialNumber)}`);
}
