/**
 * X.509 v2 certificate revocation lists (RFC 5280 §5), built with forge.asn1
 * because node-forge has no CRL writer, and signed by the issuing CA.
 *
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
 * with the MUST extensions authorityKeyIdentifier (§5.2.1) and cRLNumber
 * (§5.2.3), and a reasonCode entry extension (§5.3.1) per revoked certificate.
 */
import forge from "node-forge";
import { nativeSigner, type CertificateAuthority } from "./certificate-authority.js";

const { asn1, pki } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

/** RFC 5280 §5.3.1 CRLReason values credex operators use. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RevokedEntry {
  /** Hex serial number. */
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CrlRequest {
  issuer: CertificateAuthority;
  revoked: RevokedEntry[];
  /** Monotonically increasing (RFC 5280 §5.2.3). */
  crlNumber: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

const OID = {
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  authorityKeyIdentifier: "2.5.29.35",
  cRLNumber: "2.5.29.20",
  reasonCode: "2.5.29.21",
};

const seq = (items: forge.asn1.Asn1[]) => asn1.create(U, T.SEQUENCE, true, items);
const oid = (dotted: string) => asn1.create(U, T.OID, false, asn1.oidToDer(dotted).getBytes());
const octets = (bytes: string) => asn1.create(U, T.OCTETSTRING, false, bytes);

/** DER INTEGER content for a non-negative number given in hex (two's complement: prefix 00 when the top bit is set). */
function unsignedInteger(hex: string): forge.asn1.Asn1 {
  let h = hex.toLowerCase().replace(/^0+/, "");
  if (h === "") h = "00";
  if (h.length % 2 === 1) h = `0${h}`;
  if (parseInt(h.slice(0, 2), 16) >= 0x80) h = `00${h}`;
  return asn1.create(U, T.INTEGER, false, forge.util.hexToBytes(h));
}

/** RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Z. */
function time(date: Date): forge.asn1.Asn1 {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = date.getUTCFullYear();
  return year < 2050 ? asn1.create(U, T.UTCTIME, false, `${digits.slice(2)}Z`) : asn1.create(U, T.GENERALIZEDTIME, false, `${digits}Z`);
}

function extension(id: string, critical: boolean, valueDer: string): forge.asn1.Asn1 {
  const parts = [oid(id)];
  if (critical) parts.push(asn1.create(U, T.BOOLEAN, false, String.fromCharCode(0xff)));
  parts.push(octets(valueDer));
  return seq(parts);
}

const der = (node: forge.asn1.Asn1) => asn1.toDer(node).getBytes();

/** The signed CRL as DER (binary string) and PEM ("X509 CRL"). */
export function buildCrl(request: CrlRequest): { der: Buffer; pem: string } {
  if (!Number.isSafeInteger(request.crlNumber) || request.crlNumber < 0) throw new RangeError("cRLNumber must be a non-negative integer");
  if (request.nextUpdate <= request.thisUpdate) throw new RangeError("nextUpdate must be after thisUpdate");
  const algorithm = seq([oid(OID.sha256WithRSAEncryption), asn1.create(U, T.NULL, false, "")]);
  const issuerCert = request.issuer.certificate;
  const keyId = issuerCert.generateSubjectKeyIdentifier().getBytes();
  const aki = seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyId)]);
  const crlExtensions = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
    seq([extension(OID.authorityKeyIdentifier, false, der(aki)), extension(OID.cRLNumber, false, der(unsignedInteger(request.crlNumber.toString(16))))]),
  ]);
  const tbsParts: forge.asn1.Asn1[] = [
    asn1.create(U, T.INTEGER, false, asn1.integerToDer(1).getBytes()), // v2
    algorithm,
    pki.distinguishedNameToAsn1(issuerCert.subject),
    time(request.thisUpdate),
    time(request.nextUpdate),
  ];
  // §5.1.2.6: when there are no revoked certificates the list MUST be absent.
  if (request.revoked.length > 0) {
    const entries = [...request.revoked]
      .sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime())
      .map((r) => {
        if (!(r.reason in REVOCATION_REASONS)) throw new RangeError(`unknown revocation reason "${r.reason}"`);
        const reason = asn1.create(U, T.ENUMERATED, false, String.fromCharCode(REVOCATION_REASONS[r.reason]));
        return seq([unsignedInteger(r.serial), time(r.revokedAt), seq([extension(OID.reasonCode, false, der(reason))])]);
      });
    tbsParts.push(seq(entries));
  }
  tbsParts.push(crlExtensions);
  const tbs = seq(tbsParts);
  const md = forge.md.sha256.create();
  md.update(der(tbs));
  const signature = nativeSigner(request.issuer.privateKey).sign(md);
  const crl = seq([tbs, algorithm, asn1.create(U, T.BITSTRING, false, String.fromCharCode(0) + signature)]);
  const bytes = Buffer.from(der(crl), "binary");
  const b64 = bytes.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return { der: bytes, pem: `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n` };
}
