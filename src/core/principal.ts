/** What the TLS layer knows about a caller (filled by the grpc adapter). */
export interface PeerTls {
  /** False for a plaintext connection (never accepted). */
  readonly secure: boolean;
  /** True when the client certificate chained to a trusted CA (and passed the CRL, if configured). */
  readonly authorized: boolean;
  /** OpenSSL's verification error code when not authorized, e.g. "CERT_HAS_EXPIRED". */
  readonly authorizationError?: string | undefined;
  /** DER of the client's leaf certificate, when one was presented. */
  readonly certificateDer?: Buffer | undefined;
  readonly protocol?: string | undefined;
  readonly remoteAddress?: string | undefined;
  /** Opaque identity of the transport connection (per-agency connection limits). */
  readonly connection?: object | undefined;
}

/** Facts read from a client certificate (src/core/peer-certificate.ts). */
export interface CertificateFacts {
  readonly fingerprint: string;
  readonly serial: string;
}

/** An authenticated agency: established by authenticate, used by every later stage. */
export interface Principal {
  readonly agencyId: string;
  readonly sector: string;
  readonly uscc: string;
  readonly certFingerprint: string;
  readonly certSerial: string;
  /** The PEM-free public key of the client certificate, to verify what the agency signs (consent attestations). */
  readonly publicKey: import("node:crypto").KeyObject;
}
