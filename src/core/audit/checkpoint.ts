import { createHash, createPrivateKey, sign, verify, X509Certificate, constants, type KeyObject } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditCheckpointSchema, type AuditCheckpoint } from "../../gen/credex/v1/audit_pb.js";
import type { ChainHead } from "./audit-chain.js";
import { describePeerCertificate } from "../peer-certificate.js";
import { pemCertificateBlocks } from "../pem-certificates.js";
import { lengthPrefixed, lengthPrefixedString, u32, u64 } from "./canonical-bytes.js";
import { chainStateKeyFrom, type ChainStateKey } from "./chain-state-key.js";

export const CHECKPOINT_SCHEMA_VERSION = 1;

/** Signs chain checkpoints with the gateway's private key. */
export interface CheckpointSigner {
  /** SHA-256 of the DER certificate, lowercase hex. */
  readonly certFingerprint: string;
  readonly algorithm: "RSA-PSS-SHA256" | "ECDSA-SHA256";
  /** DER: the signer's certificate, then the CA certificates served with it. */
  readonly certificates: readonly Uint8Array[];
  sign(data: Uint8Array): Uint8Array;
  /** Keys the chain state with the same private key (chain-state-key.ts). */
  readonly stateKey: ChainStateKey;
  /** Called after the signer has switched to another key (rotating signers only): the chain state is saved again under it. */
  onSwitch?(listener: () => void): void;
}

/** The gateway's key and certificate file contents (PEM); the certificate may be followed by its CA chain. */
export interface CheckpointSigningMaterial {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

/** A signer that follows the gateway's certificate rotations. */
export interface RotatingCheckpointSigner extends CheckpointSigner {
  /**
   * Checks the new material and returns the switch to it, so that the caller
   * can swap it together with the served TLS material: throws (and nothing
   * changes) when the key cannot sign checkpoints.
   */
  prepare(material: CheckpointSigningMaterial): () => void;
}

export function certificateFingerprint(certPem: string | X509Certificate): string {
  const cert = typeof certPem === "string" ? new X509Certificate(certPem) : certPem;
  return createHash("sha256").update(cert.raw).digest("hex");
}

/**
 * A signer from the gateway's key and certificate (PEM). RSA keys sign with
 * RSASSA-PSS, SHA-256, salt = digest length (RFC 8017 §8.1); EC keys with ECDSA/SHA-256.
 */
export function createCheckpointSigner(opts: CheckpointSigningMaterial): CheckpointSigner {
  const key: KeyObject = createPrivateKey(opts.privateKeyPem);
  const chain = pemCertificateBlocks(opts.certificatePem).map((pem) => new X509Certificate(pem));
  const cert = chain[0];
  if (!cert) throw new Error("the checkpoint signing certificate file holds no PEM certificate");
  if (!cert.checkPrivateKey(key)) throw new Error("the checkpoint signing key does not match its certificate");
  const type = key.asymmetricKeyType;
  if (type !== "rsa" && type !== "ec") throw new Error(`checkpoint signing key type "${type}" is not supported (RSA or EC)`);
  const algorithm = type === "rsa" ? "RSA-PSS-SHA256" : "ECDSA-SHA256";
  return {
    certFingerprint: certificateFingerprint(cert),
    algorithm,
    certificates: chain.map((c) => c.raw),
    stateKey: chainStateKeyFrom(key),
    sign: (data) =>
      type === "rsa"
        ? sign("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
        : sign("sha256", data, key),
  };
}

/**
 * The gateway's signer, switched to a new key and certificate when the TLS
 * material is reloaded or renewed: a checkpoint is always signed with the key
 * the gateway serves, never with one an operator has just retired (perhaps
 * because it leaked).
 */
export function createRotatingCheckpointSigner(initial: CheckpointSigningMaterial): RotatingCheckpointSigner {
  let current = createCheckpointSigner(initial);
  const listeners: Array<() => void> = [];
  return {
    get certFingerprint() {
      return current.certFingerprint;
    },
    get algorithm() {
      return current.algorithm;
    },
    get certificates() {
      return current.certificates;
    },
    get stateKey() {
      return current.stateKey;
    },
    sign: (data) => current.sign(data),
    onSwitch: (listener) => void listeners.push(listener),
    prepare(material) {
      const next = createCheckpointSigner(material);
      return () => {
        const changed = next.stateKey.id !== current.stateKey.id;
        current = next;
        if (changed) for (const l of listeners) l();
      };
    },
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
    signerCertificates: [...signer.certificates],
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

/** What a checkpoint's own certificates are checked against, when the signer is not pinned by fingerprint. */
export interface CheckpointSignerAnchors {
  /** The federation's CA certificates (PEM bundles or parsed). */
  readonly ca: ReadonlyArray<string | X509Certificate>;
  /** The signer must name the gateway in it: spiffe://<trustDomain>/gateway. */
  readonly trustDomain: string;
  /** Whether the CRLs of the given CAs revoke a certificate, and when and why (RFC 5280 §5.3.1 reason name). */
  readonly revocation?: (cert: X509Certificate) => { readonly revokedAt: Date; readonly reason: string } | undefined;
}

/**
 * Reasons after which nothing the key signed can be trusted, whatever date it claims: the
 * date is the signer's to choose, and a thief of the key can backdate (RFC 5280 §5.3.1;
 * an entry without a reason is taken as the worst case).
 */
const COMPROMISE_REASONS: ReadonlySet<string> = new Set(["keyCompromise", "cACompromise", "aACompromise", "unspecified"]);

const MAX_SIGNER_CHAIN = 5;

/** The CA certificates of PEM bundles (parsed once by a verifier, not per checkpoint). */
export function anchorCertificates(ca: ReadonlyArray<string | X509Certificate>): X509Certificate[] {
  return ca.flatMap((a) => (typeof a === "string" ? pemCertificateBlocks(a).map((pem) => new X509Certificate(pem)) : [a]));
}

/**
 * The certificate a checkpoint's signature is to be checked with, taken from
 * the certificates the checkpoint carries: the first must be the one its
 * fingerprint names and identify the gateway; each must be issued and signed
 * by the next (or by a CA of the anchors), every issuer must be a CA, and all
 * must have been valid when the checkpoint was made, and not revoked by then
 * (not at all, for a compromised key) when CRLs are given (RFC 5280 §6.1,
 * without policy checking: a checkpoint is evidence about the chain, not an
 * access decision). Lets officers verify across certificate
 * rotations without collecting every certificate the gateway ever served.
 */
export function checkpointSignerFromAnchors(cp: AuditCheckpoint, anchors: CheckpointSignerAnchors): { certificate: X509Certificate } | { problem: string } {
  if (cp.signerCertificates.length === 0) return { problem: "the checkpoint carries no certificate" };
  if (cp.signerCertificates.length > MAX_SIGNER_CHAIN) return { problem: `the checkpoint carries ${cp.signerCertificates.length} certificates (at most ${MAX_SIGNER_CHAIN})` };
  let chain: X509Certificate[];
  try {
    chain = cp.signerCertificates.map((der) => new X509Certificate(der));
  } catch (err) {
    return { problem: `a certificate it carries cannot be parsed (${(err as Error).message})` };
  }
  const leaf = chain[0]!;
  if (certificateFingerprint(leaf) !== cp.signerCertFingerprint) return { problem: "its first certificate is not the one its fingerprint names" };
  if (describePeerCertificate(leaf.raw, anchors.trustDomain).principal?.kind !== "gateway") {
    return { problem: `its certificate does not name the gateway (spiffe://${anchors.trustDomain}/gateway)` };
  }
  const at = cp.createdAt ? timestampDate(cp.createdAt) : undefined;
  if (!at) return { problem: "the checkpoint has no created_at" };
  const validAt = (c: X509Certificate) => new Date(c.validFrom) <= at && at <= new Date(c.validTo);
  const issuedBy = (c: X509Certificate, issuer: X509Certificate) => issuer.ca && c.checkIssued(issuer) && c.verify(issuer.publicKey);
  const roots = anchorCertificates(anchors.ca);
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (!validAt(cert)) return { problem: `certificate ${i + 1} (${cert.subject.replace(/\n/g, ", ")}) was not valid at ${at.toISOString()}` };
    const revoked = anchors.revocation?.(cert);
    if (revoked && (COMPROMISE_REASONS.has(revoked.reason) || revoked.revokedAt <= at)) {
      return { problem: `certificate ${i + 1} (${cert.subject.replace(/\n/g, ", ")}) was revoked (${revoked.reason}) on ${revoked.revokedAt.toISOString()}` };
    }
    const root = roots.find((r) => r.raw.equals(cert.raw) || issuedBy(cert, r));
    if (root) {
      if (!validAt(root)) return { problem: `the CA ${root.subject.replace(/\n/g, ", ")} was not valid at ${at.toISOString()}` };
      return { certificate: leaf };
    }
    const next = chain[i + 1];
    if (!next || !issuedBy(cert, next)) break;
  }
  return { problem: "its certificates do not lead to a CA of the given bundle" };
}

/** Whom a gateway trusts to have signed its own checkpoints: its served certificate, and through its CA those it served before. */
export interface CheckpointTrust {
  readonly certificates?: ReadonlyArray<string | X509Certificate>;
  readonly signerAnchors?: CheckpointSignerAnchors;
}

/** The certificate whose key signed `cp`, when `trust` accepts it and the signature verifies; else undefined. */
export function trustedCheckpointSigner(cp: AuditCheckpoint, trust: CheckpointTrust): X509Certificate | undefined {
  for (const c of trust.certificates ?? []) {
    const cert = typeof c === "string" ? new X509Certificate(c) : c;
    if (certificateFingerprint(cert) === cp.signerCertFingerprint) return verifyCheckpoint(cp, cert) ? cert : undefined;
  }
  if (!trust.signerAnchors) return undefined;
  const anchored = checkpointSignerFromAnchors(cp, trust.signerAnchors);
  return "certificate" in anchored && verifyCheckpoint(cp, anchored.certificate) ? anchored.certificate : undefined;
}

export function encodeCheckpoint(cp: AuditCheckpoint): Uint8Array {
  return toBinary(AuditCheckpointSchema, cp);
}

export function decodeCheckpoint(bytes: Uint8Array): AuditCheckpoint {
  return fromBinary(AuditCheckpointSchema, bytes);
}
