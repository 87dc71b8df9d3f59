import { ServerCredentials } from "@grpc/grpc-js";
import type { SecureContextOptions } from "node:tls";

export interface TlsMaterial {
  /** PEM: the served certificate chain (leaf first). */
  readonly cert: Buffer;
  readonly key: Buffer;
  /** PEM bundle of trusted CAs; during a CA change it holds both the old and the new CA. */
  readonly ca: Buffer;
  /**
   * PEM CRLs, when revocation lists are used at handshake: one buffer per CRL
   * (OpenSSL reads one CRL per buffer). Node checks every certificate of the
   * chain, so the root's CRL and the issuing CA's CRL are both needed.
   */
  readonly crl?: Buffer | readonly Buffer[];
}

export interface TlsPolicy {
  /** "TLSv1.3" by default; "TLSv1.2" only when configured. */
  readonly minVersion: "TLSv1.2" | "TLSv1.3";
  /**
   * TLS 1.2 cipher list when 1.2 is allowed: forward-secret AEAD suites only
   * (RFC 9325 §4.2). TLS 1.3 suites are all AEAD and left at OpenSSL's default.
   */
  readonly ciphers: string;
}

export const DEFAULT_TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/**
 * The options of every secure context a credex listener serves: its TLS
 * policy and its material, together. The one place they are joined, at start
 * and on every reload (file change, SIGHUP, ReloadTls, renewal): grpc-js hands
 * the options of `updateSecureContextOptions` to Node's
 * `tls.Server.setSecureContext`, which builds the new context from them alone,
 * so a reload without the policy fell back to Node's defaults (TLS 1.2 with
 * CBC and static-RSA suites; test/tls-policy-reload.test.ts).
 */
export function secureContextOptionsOf(material: TlsMaterial, policy: TlsPolicy): SecureContextOptions {
  return {
    minVersion: policy.minVersion,
    ciphers: policy.ciphers,
    // The server's order decides (RFC 9325 §4.2): a client listing a weaker allowed suite first does not get it.
    honorCipherOrder: true,
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    ...(material.crl ? { crl: crlBuffersOf(material) } : {}),
  };
}

/**
 * Server credentials that ask every client for a certificate and whose
 * certificate, key, CA bundle and CRL can be replaced while serving: grpc-js
 * applies `updateSecureContextOptions` to new handshakes only, so calls in
 * flight keep their connections (TOOLCHAIN.md, grpc-js 1.14). One instance may
 * serve several listeners (the gateway's public and admin servers): each
 * reload reaches all of them with the same policy.
 *
 * `rejectUnauthorized` is false on purpose: the handshake completes even for
 * a missing or untrusted client certificate so that the authenticate stage can
 * refuse the call with a specific reason and audit the attempt (detectors
 * count repeated bad-certificate calls). No handler does any work for such a
 * caller: authenticate is the first stage.
 */
export class ReloadableServerCredentials extends ServerCredentials {
  private material: TlsMaterial;
  readonly policy: TlsPolicy;

  constructor(material: TlsMaterial, policy: TlsPolicy) {
    super({ requestCert: true, rejectUnauthorized: false }, secureContextOptionsOf(material, policy));
    this.material = material;
    this.policy = policy;
  }

  /** Swaps the served certificate, trusted CAs and CRL for new handshakes; the policy stays. */
  reload(material: TlsMaterial): void {
    this.material = material;
    this.updateSecureContextOptions(secureContextOptionsOf(material, this.policy));
  }

  current(): TlsMaterial {
    return this.material;
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/** The CRL buffers of a material, one per CRL. */
export function crlBuffersOf(material: TlsMaterial): Buffer[] {
  const crl = material.crl;
  if (crl === undefined) return [];
  return Array.isArray(crl) ? [...(crl as readonly Buffer[])] : [crl as Buffer];
}
