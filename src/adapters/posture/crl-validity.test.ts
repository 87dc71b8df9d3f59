import { describe, expect, it } from "vitest";
import { crlValidityOf } from "./crl-validity.js";

/** DER TLV with short or long length. */
function tlv(tag: number, body: Buffer): Buffer {
  const len = body.length < 128 ? Buffer.from([body.length]) : body.length < 256 ? Buffer.from([0x81, body.length]) : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const utc = (s: string) => tlv(0x17, Buffer.from(s, "latin1"));
const gen = (s: string) => tlv(0x18, Buffer.from(s, "latin1"));
const sha256WithRsa = seq(tlv(0x06, Buffer.from("2a864886f70d01010b", "hex")), Buffer.from([0x05, 0x00]));
const issuer = seq(tlv(0x31, seq(tlv(0x06, Buffer.from("550403", "hex")), tlv(0x0c, Buffer.from("credex issuing CA")))));

/** A CertificateList (RFC 5280 §5.1) whose signature bits are filler: only the dates are read. */
function crl(thisUpdate: Buffer, nextUpdate?: Buffer, withVersion = true): Buffer {
  const tbs = seq(...(withVersion ? [tlv(0x02, Buffer.from([1]))] : []), sha256WithRsa, issuer, thisUpdate, ...(nextUpdate ? [nextUpdate] : []), tlv(0xa0, seq()));
  return seq(tbs, sha256WithRsa, tlv(0x03, Buffer.concat([Buffer.from([0]), Buffer.alloc(300, 0xab)])));
}
const pem = (der: Buffer) => `-----BEGIN X509 CRL-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END X509 CRL-----\n`;

describe("crlValidityOf", () => {
  it("reads thisUpdate and nextUpdate from PEM (UTCTime) and DER (GeneralizedTime)", () => {
    expect(crlValidityOf(pem(crl(utc("260101000000Z"), utc("260108120000Z"))))).toEqual({
      thisUpdate: new Date("2026-01-01T00:00:00Z"),
      nextUpdate: new Date("2026-01-08T12:00:00Z"),
    });
    expect(crlValidityOf(crl(gen("20510101000000Z"), gen("20510201000000Z"), false))).toEqual({
      thisUpdate: new Date("2051-01-01T00:00:00Z"),
      nextUpdate: new Date("2051-02-01T00:00:00Z"),
    });
  });

  it("maps two-digit years 50-99 to the 1900s (RFC 5280 §4.1.2.5.1) and allows a CRL without nextUpdate", () => {
    expect(crlValidityOf(crl(utc("991231235959Z")))).toEqual({ thisUpdate: new Date("1999-12-31T23:59:59Z") });
  });

  it("refuses what is not a CRL", () => {
    expect(() => crlValidityOf("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")).toThrow("no PEM X509 CRL block");
    expect(() => crlValidityOf(Buffer.from([0x30, 0x05, 0x01]))).toThrow("truncated DER");
    expect(() => crlValidityOf(seq(seq(tlv(0x02, Buffer.from([1])), sha256WithRsa, issuer, tlv(0x04, Buffer.from("x")))))).toThrow("thisUpdate missing");
  });
});
