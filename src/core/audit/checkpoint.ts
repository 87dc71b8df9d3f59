import { createHash, createPrivateKey, sign, verify, X509Certificate, constants, type KeyObject } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditCheckpointSchema, type AuditCheckpoint } from "../../gen/credex/v1/audit_pb.js";
import type { ChainHead } from "./audit-chain.js";
import { lengthPrefixed, lengthPrefixedString, u32, u64 } from "./canonical-bytes.js";

export const CHECKPOINT_SCHEMA_VERSION = 1;

/** Signs chain checkpoints with the gateway's private key. */
export interface CheckpointSigner {
  /** SHA-256 of the DER certificate, lowercase hex. */
  readonly certFingerprint: string;
  readonly algorithm: "RSA-PSS-SHA256" | "ECDSA-SHA256";
  sign(data: Uint8Array): Uint8Array;
}

export function certificateFingerprint(certPem: string | X509Certificate): string {
  const cert = typeof certPem === "string" ? new X509Certificate(certPem) : certPem;
  return createHash("sha256").update(cert.raw).digest("hex");
}

/**
 * A signer from the gateway's key and certificate (PEM). RSA keys sign with
 * RSASSA-PSS, SHA-256, salt = digest length (RFC 8017 §8.1); EC keys with ECDSA/SHA-256.
 */
export function createCheckpointSigner(opts: { privateKeyPem: string; certificatePem: string }): CheckpointSigner {
  const key: KeyObject = createPrivateKey(opts.privateKeyPem);
  const cert = new X509Certificate(opts.certificatePem);
  if (!cert.checkPrivateKey(key)) throw new Error("the checkpoint signing key does not match its certificate");
  const type = key.asymmetricKeyType;
  if (type !== "rsa" && type !== "ec") throw new Error(`checkpoint signing key type "${type}" is not supported (RSA or EC)`);
  const algorithm = type === "rsa" ? "RSA-PSS-SHA256" : "ECDSA-SHA256";
  return {
    certFingerprint: certificateFingerprint(cert),
    algorithm,
    sign: (data) =>
      type === "rsa"
        ? sign("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
        : sign("sha256", data, key),
  };
}

/** The signed bytes: a length-prefixed canonical encoding (independent of the protobuf serializer). */
export function checkpointSigningInput(cp: AuditCheckpoint): Buffer {
  return Buffer.concat([
    Buffer.from("credex.audit.checkpoint.v1\0", "utf8"),
    u32(cp.schemaVersion),
    lengthPrefixedString(cp.gatewayInstance),
    u64(cp.sequence),
    lengthPrefixed(cp.headHash),
    u64(cp.createdAt?.seconds ?? 0n),
    u32(cp.createdAt?.nanos ?? 0),
    lengthPrefixedString(cp.signatureAlgorithm),
  ]);
}

export function createCheckpoint(head: ChainHead, signer: CheckpointSigner, now: Date = new Date()): AuditCheckpoint {
  const cp = create(AuditCheckpointSchema, {
    schemaVersion: CHECKPOINT_SCHEMA_VERSION,
    gatewayInstance: head.instance,
    sequence: head.sequence,
    headHash: head.headHash,
    createdAt: timestampFromDate(now),
    signerCertFingerprint: signer.certFingerprint,
    signatureAlgorithm: signer.algorithm,
  });
  cp.signature = signer.sign(checkpointSigningInput(cp));
  return cp;
}

/** True when the signature verifies with the certificate's key and the fingerprint names that certificate. */
export function verifyCheckpoint(cp: AuditCheckpoint, certificate: string | X509Certificate): boolean {
  const cert = typeof certificate === "string" ? new X509Certificate(certificate) : certificate;
  if (certificateFingerprint(cert) !== cp.signerCertFingerprint) return false;
  const data = checkpointSigningInput(cp);
  try {
    if (cp.signatureAlgorithm === "RSA-PSS-SHA256") {
      return verify("sha256", data, { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, cp.signature);
    }
    if (cp.signatureAlgorithm === "ECDSA-SHA256") return verify("sha256", data, cert.publicKey, cp.signature);
  } catch {
    return false;
  }
  return false;
}

export function encodeCheckpoint(cp: AuditCheckpoint): Uint8Array {
  return toBinary(AuditCheckpointSchema, cp);
}

export function decodeCheckpoint(bytes: Uint8Array): AuditCheckpoint {
  return fromBinary(AuditCheckpointSchema, bytes);
}
