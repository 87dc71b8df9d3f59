/**
 * What the posture checks look at, collected by adapters (src/adapters/posture)
 * from the config, the files it names, a live gateway and Kafka. The checks
 * (src/core/posture/check-*.ts) are pure functions of this.
 */
export interface PostureEvidence {
  /** Declared security protection level, GB/T 22239-2019 (1..5). */
  readonly level: number;
  readonly now: Date;
  readonly tls: TlsEvidence;
  readonly certificates: readonly CertificateFact[];
  /** Undefined when no CRL is configured. */
  readonly crl?: CrlFact | undefined;
  readonly audit: AuditEvidence;
  readonly adminCertificates: readonly AdminCertificateFact[];
  readonly policy: { readonly signed?: boolean | undefined; readonly detail: string };
  readonly telemetry: TelemetryEvidence;
}

export interface TlsEvidence {
  readonly minVersion: "TLSv1.2" | "TLSv1.3";
  /** OpenSSL names of the TLS 1.2 suites the server offers when 1.2 is allowed. */
  readonly tls12Ciphers: readonly string[];
  /** The server asks every client for a certificate and the first stage refuses calls without a valid one. */
  readonly clientCertificatesRequired: boolean;
  readonly clientCertificateDetail: string;
  /** Handshakes tried against the running gateway; undefined when no live address was given. */
  readonly live?: LiveTlsProbe | undefined;
  /** Why there is no live evidence, e.g. the gateway did not answer. */
  readonly liveNote?: string | undefined;
}

/** One handshake attempt: accepted (with what was negotiated) or refused / not tried. */
export interface HandshakeResult {
  readonly accepted: boolean;
  readonly protocol?: string | undefined;
  readonly cipher?: string | undefined;
  /** Why it was refused, or why the probe could not run (then `inconclusive`). */
  readonly detail: string;
  readonly inconclusive?: boolean | undefined;
}

export interface LiveTlsProbe {
  readonly address: string;
  readonly tls13: HandshakeResult;
  readonly tls12: HandshakeResult;
  readonly tls11: HandshakeResult;
  /** TLS 1.2 offering only suites without forward secrecy or AEAD (e.g. AES128-SHA). */
  readonly tls12Weak: HandshakeResult;
}

export interface CertificateFact {
  /** "gateway", "ca", "agency <id> client", "admin <role>" … */
  readonly role: string;
  readonly file: string;
  readonly subject: string;
  /** "rsa", "ec", "ed25519", … */
  readonly keyType: string;
  /** RSA modulus bits, EC curve size bits. */
  readonly keyBits: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface CrlFact {
  readonly file: string;
  readonly thisUpdate?: Date | undefined;
  readonly nextUpdate?: Date | undefined;
  /** Set when the file could not be read or parsed. */
  readonly error?: string | undefined;
}

export interface AuditEvidence {
  readonly sink: "file" | "kafka";
  readonly suite: string;
  /** Key ring loaded: number of keys and the active id; or why it did not load. */
  readonly keyRing: { readonly ok: true; readonly keys: number; readonly activeKeyId: string } | { readonly ok: false; readonly error: string };
  readonly verification: AuditVerificationFact;
  /** Undefined when the sink is not Kafka. */
  readonly kafka?: KafkaTopicsFact | undefined;
}

export interface AuditVerificationFact {
  /** "result-file": the last `credex audit verify` result; "verified-now": posture ran the verifier; "none". */
  readonly source: "result-file" | "verified-now" | "none";
  readonly verifiedAt?: Date | undefined;
  readonly ok?: boolean | undefined;
  readonly records?: number | undefined;
  readonly breaks?: number | undefined;
  readonly detail: string;
}

export interface KafkaTopicsFact {
  readonly brokers: string;
  readonly topics: ReadonlyArray<{ readonly topic: string; readonly retentionMs?: number | undefined; readonly replicationFactor?: number | undefined; readonly minInsyncReplicas?: number | undefined }>;
  /** Set when the cluster could not be asked. */
  readonly error?: string | undefined;
}

export interface AdminCertificateFact {
  /** The role in the certificate's URI SAN spiffe://<trust-domain>/admin/<role>/… */
  readonly role: string;
  readonly file: string;
  readonly subject: string;
  /** SHA-256 of the DER: the same certificate under two roles is one person holding both. */
  readonly fingerprint: string;
  readonly notAfter: Date;
}

export interface TelemetryEvidence {
  /** A Prometheus endpoint is configured (and, when probed, answered). */
  readonly metricsEndpoint?: string | undefined;
  readonly metricsAnswered?: boolean | undefined;
  readonly tracesExported: boolean;
  readonly detail: string;
}

export type ControlStatus = "pass" | "warn" | "fail";

export interface ControlResult {
  readonly id: string;
  readonly title: string;
  readonly status: ControlStatus;
  /** What was seen, in one or two sentences (no secrets, no personal data). */
  readonly evidence: string;
  /** The GB/T 22239-2019 clause (or control area) the control serves. */
  readonly clause: string;
}

export interface PostureReport {
  readonly level: number;
  readonly checkedAt: Date;
  readonly controls: readonly ControlResult[];
  readonly failing: number;
  readonly warnings: number;
}
