/**
 * thisUpdate and nextUpdate of an X.509 CRL (RFC 5280 §5.1), read straight
 * from the DER: Node has no CRL parser, and these two fields are all the
 * freshness check needs. The signature is not checked here (the TLS stack
 * does that when it loads the CRL).
 */
export interface CrlValidity {
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date | undefined;
}

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  if (at + 2 > der.length) throw new Error("truncated DER");
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > der.length) throw new Error("unsupported DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error("truncated DER");
  return { tag, start, end: start + len };
}

function timeOf(der: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(der.subarray(t.start, t.end)).toString("latin1");
  // UTCTime YYMMDDHHMMSSZ (years 50–99 are 19xx, RFC 5280 §4.1.2.5.1); GeneralizedTime YYYYMMDDHHMMSSZ.
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error(`unsupported time "${s}"`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** Reads the first CRL of a PEM text or a DER buffer. */
export function crlValidityOf(input: string | Uint8Array): CrlValidity {
  let der: Uint8Array;
  if (typeof input === "string" || (input.length > 0 && input[0] === 0x2d)) {
    const text = typeof input === "string" ? input : Buffer.from(input).toString("latin1");
    const m = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/.exec(text);
    if (!m) throw new Error("no PEM X509 CRL block");
    der = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  } else {
    der = input;
  }
  const list = readTlv(der, 0);
  const tbs = readTlv(der, list.start);
  if (list.tag !== 0x30 || tbs.tag !== 0x30) throw new Error("not a CertificateList");
  let at = tbs.start;
  let field = readTlv(der, at);
  if (field.tag === 0x02) {
    at = field.end; // version
    field = readTlv(der, at);
  }
  at = field.end; // signature AlgorithmIdentifier
  at = readTlv(der, at).end; // issuer Name
  const thisUpdate = readTlv(der, at);
  if (thisUpdate.tag !== 0x17 && thisUpdate.tag !== 0x18) throw new Error("thisUpdate missing");
  const out: { thisUpdate: Date; nextUpdate?: Date } = { thisUpdate: timeOf(der, thisUpdate) };
  if (thisUpdate.end < tbs.end) {
    const next = readTlv(der, thisUpdate.end);
    if (next.tag === 0x17 || next.tag === 0x18) out.nextUpdate = timeOf(der, next);
  }
  return out;
}
