import { createHash, sign, verify, X509Certificate, type KeyObject } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DisclosureEntrySchema, SignedDisclosureSchema, type DisclosureEntry } from "../../gen/credex/v1/disclosure_pb.js";
import { describePeerCertificate } from "../peer-certificate.js";

const DOMAIN = "credex-disclosure-v1";

/** The feed record's key: one key per entry, owner first, so no agency's record can replace another's. */
export function disclosureKey(ownerAgency: string, entryId: string): string {
  return `${ownerAgency}/${entryId}`;
}

/** The gateway's signing identity: its served TLS certificate and key. */
export interface DisclosureSigner {
  readonly certificateDer: Buffer;
  readonly key: KeyObject;
}

function signingInput(key: string, entry: Uint8Array): Buffer {
  return Buffer.from([DOMAIN, key, createHash("sha256").update(entry).digest("hex")].join("\n"), "utf8");
}

/** A feed record: the entry signed by the gateway, bound to its key (a record moved to another key does not verify). */
export function signDisclosure(key: string, entry: DisclosureEntry, signer: DisclosureSigner): Uint8Array {
  const bytes = toBinary(DisclosureEntrySchema, entry, { writeUnknownFields: false });
  return toBinary(SignedDisclosureSchema, create(SignedDisclosureSchema, { entry: bytes, signerCertificate: signer.certificateDer, signature: sign("sha256", signingInput(key, bytes), signer.key) }));
}

export class DisclosureRecordError extends Error {}

/**
 * Checks one feed record and returns its entry. Trusted only when the signer's
 * certificate was issued by a certificate of the exchange CA bundle, names the
 * gateway (spiffe://<trust domain>/gateway), was valid when the entry was
 * published, and the signature covers this key and these bytes. The reader
 * needs no secret: the CA bundle is public.
 */
export function createDisclosureVerifier(options: { readonly caBundlePem: string; readonly trustDomain: string }): (key: string, value: Uint8Array) => DisclosureEntry {
  const anchors = splitPem(options.caBundlePem).map((pem) => new X509Certificate(pem));
  const trustedSigners = new Map<string, X509Certificate>();
  const signerOf = (der: Uint8Array): X509Certificate => {
    const fingerprint = createHash("sha256").update(der).digest("hex");
    const known = trustedSigners.get(fingerprint);
    if (known) return known;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(der));
    } catch {
      throw new DisclosureRecordError("the signer certificate does not parse");
    }
    if (!anchors.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) throw new DisclosureRecordError("the signer certificate is not issued by the exchange CA");
    if (describePeerCertificate(Buffer.from(der), options.trustDomain).principal?.kind !== "gateway") throw new DisclosureRecordError("the signer certificate is not the gateway's");
    if (trustedSigners.size > 64) trustedSigners.clear();
    trustedSigners.set(fingerprint, cert);
    return cert;
  };
  return (key, value) => {
    let record;
    try {
      record = fromBinary(SignedDisclosureSchema, value);
    } catch {
      throw new DisclosureRecordError("the record is not a SignedDisclosure");
    }
    const cert = signerOf(record.signerCertificate);
    let ok = false;
    try {
      ok = verify("sha256", signingInput(key, record.entry), cert.publicKey, record.signature);
    } catch {
      ok = false;
    }
    if (!ok) throw new DisclosureRecordError("the signature does not verify for this key and entry");
    const entry = fromBinary(DisclosureEntrySchema, record.entry);
    const publishedAt = entry.publishedAt ? timestampDate(entry.publishedAt) : undefined;
    if (!publishedAt || publishedAt < new Date(cert.validFrom) || publishedAt > new Date(cert.validTo)) throw new DisclosureRecordError("the entry was not published while the signer certificate was valid");
    if (disclosureKey(entry.ownerAgency, entry.entryId) !== key) throw new DisclosureRecordError("the record key does not name the entry's owner and id");
    return entry;
  };
}

function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
