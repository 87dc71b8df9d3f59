import { describe, expect, it } from "vitest";
import { checkCipherSuites, checkClientCertificates, checkTlsVersions, isStrongTls12Cipher } from "./check-tls.js";
import { checkCertificateExpiry, checkCrlFreshness, checkKeySizes, keyStrengthOf } from "./check-certificates.js";
import { checkAuditReplication, checkAuditRetention, checkAuditSealing, checkAuditVerified, MIN_AUDIT_RETENTION_MS } from "./check-audit.js";
import { checkAdminSeparation, checkPolicySigned, checkTelemetry } from "./check-governance.js";
import { clauseOf } from "./clause.js";
import { evaluatePosture, postureRegressions } from "./evaluate-posture.js";
import type { CertificateFact, ControlResult, HandshakeResult, PostureEvidence } from "./posture-evidence.js";

const NOW = new Date("2026-06-01T00:00:00Z");
const DAY = 86_400_000;
const inDays = (d: number) => new Date(NOW.getTime() + d * DAY);

const cert = (role: string, over: Partial<CertificateFact> = {}): CertificateFact => ({
  role,
  file: `/pki/${role}.crt`,
  subject: `CN=${role}`,
  keyType: "rsa",
  keyBits: 3072,
  notBefore: inDays(-10),
  notAfter: inDays(300),
  ...over,
});

const refused = (detail = "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION"): HandshakeResult => ({ accepted: false, detail });
const accepted = (protocol: string, cipher: string): HandshakeResult => ({ accepted: true, protocol, cipher, detail: "handshake completed" });

/** Evidence of a healthy level-3 gateway; each case changes one thing. */
function evidence(over: Partial<PostureEvidence> = {}): PostureEvidence {
  return {
    level: 3,
    now: NOW,
    tls: { minVersion: "TLSv1.3", tls12Ciphers: ["ECDHE-RSA-AES256-GCM-SHA384"], clientCertificatesRequired: true, clientCertificateDetail: "requested and enforced" },
    certificates: [cert("gateway"), cert("CA 1"), cert("agency pbccrc")],
    crl: { file: "/pki/crl.pem", thisUpdate: inDays(-1), nextUpdate: inDays(6) },
    audit: {
      sink: "kafka",
      suite: "SM4-CTR+HMAC-SM3",
      keyRing: { ok: true, keys: 2, activeKeyId: "k2" },
      verification: { source: "result-file", verifiedAt: new Date(NOW.getTime() - 3_600_000), ok: true, records: 1200, breaks: 0, detail: "last-verify.json" },
      kafka: { brokers: "k1:9092", topics: [{ topic: "credex.audit.v1", retentionMs: MIN_AUDIT_RETENTION_MS, replicationFactor: 3, minInsyncReplicas: 2 }] },
    },
    adminCertificates: [
      { role: "system", file: "s.crt", subject: "CN=s", fingerprint: "AA", notAfter: inDays(100) },
      { role: "security", file: "x.crt", subject: "CN=x", fingerprint: "BB", notAfter: inDays(100) },
      { role: "audit", file: "a.crt", subject: "CN=a", fingerprint: "CC", notAfter: inDays(100) },
    ],
    policy: { signed: true, detail: "bundle r42 signed by policy officer" },
    telemetry: { metricsEndpoint: "http://127.0.0.1:9464/metrics", metricsAnswered: true, tracesExported: true, detail: "" },
    ...over,
  };
}

type Case = [name: string, check: (e: PostureEvidence) => ControlResult, e: PostureEvidence, status: ControlResult["status"], evidenceMatch?: RegExp];

const tls = evidence().tls;
const live = { address: "127.0.0.1:7443", tls13: accepted("TLSv1.3", "TLS_AES_256_GCM_SHA384"), tls12: refused(), tls11: refused(), tls12Weak: refused() };
const kafka = evidence().audit.kafka!;
const audit = evidence().audit;

const CASES: Case[] = [
  ["ok/tls13-config-only", checkTlsVersions, evidence(), "pass", /configured minimum TLSv1.3/],
  ["ok/tls13-live", checkTlsVersions, evidence({ tls: { ...tls, live } }), "pass", /TLS 1.1 refused/],
  ["fail/tls11-accepted", checkTlsVersions, evidence({ tls: { ...tls, live: { ...live, tls11: accepted("TLSv1.1", "ECDHE-RSA-AES128-SHA") } } }), "fail", /TLS 1.1 accepted/],
  ["fail/tls12-accepted-but-13-configured", checkTlsVersions, evidence({ tls: { ...tls, live: { ...live, tls12: accepted("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384") } } }), "fail"],
  ["ok/tls12-allowed-and-configured", checkTlsVersions, evidence({ tls: { ...tls, minVersion: "TLSv1.2", live: { ...live, tls12: accepted("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384") } } }), "pass"],
  ["warn/tls11-probe-inconclusive", checkTlsVersions, evidence({ tls: { ...tls, live: { ...live, tls11: { accepted: false, detail: "no protocols available", inconclusive: true } } } }), "warn"],
  ["ok/gateway-unreachable", checkTlsVersions, evidence({ tls: { ...tls, live: { ...live, tls13: { accepted: false, detail: "ECONNREFUSED", inconclusive: true }, tls12: { accepted: false, detail: "ECONNREFUSED", inconclusive: true } } } }), "pass", /not probed/],

  ["ok/tls13-only-suites", checkCipherSuites, evidence(), "pass", /TLS 1.3 only/],
  ["ok/tls12-aead-pfs", checkCipherSuites, evidence({ tls: { ...tls, minVersion: "TLSv1.2", tls12Ciphers: ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305"] } }), "pass"],
  ["fail/tls12-cbc-configured", checkCipherSuites, evidence({ tls: { ...tls, minVersion: "TLSv1.2", tls12Ciphers: ["ECDHE-RSA-AES256-GCM-SHA384", "AES128-SHA"] } }), "fail", /AES128-SHA/],
  ["fail/weak-suite-accepted-live", checkCipherSuites, evidence({ tls: { ...tls, live: { ...live, tls12Weak: accepted("TLSv1.2", "AES128-GCM-SHA256") } } }), "fail", /AES128-GCM-SHA256/],

  ["ok/client-certs", checkClientCertificates, evidence(), "pass"],
  ["fail/client-certs-optional", checkClientCertificates, evidence({ tls: { ...tls, clientCertificatesRequired: false, clientCertificateDetail: "not requested" } }), "fail"],

  ["ok/rsa3072", checkKeySizes, evidence(), "pass", /RSA 3072: 3/],
  ["warn/rsa2048-level3", checkKeySizes, evidence({ certificates: [cert("gateway", { keyBits: 2048 }), cert("CA 1")] }), "warn", /RSA 2048: 1 \(gateway\)/],
  ["ok/rsa2048-level2", checkKeySizes, evidence({ level: 2, certificates: [cert("gateway", { keyBits: 2048 })] }), "pass"],
  ["fail/rsa1024", checkKeySizes, evidence({ certificates: [cert("gateway", { keyBits: 1024 })] }), "fail"],
  ["ok/ec-p256", checkKeySizes, evidence({ certificates: [cert("gateway", { keyType: "ec", keyBits: 256 })] }), "pass"],
  ["fail/no-certificates", checkKeySizes, evidence({ certificates: [] }), "fail"],

  ["ok/valid", checkCertificateExpiry, evidence(), "pass", /first to expire/],
  ["warn/expires-in-10-days", checkCertificateExpiry, evidence({ certificates: [cert("gateway", { notAfter: inDays(10) }), cert("CA 1")] }), "warn", /gateway in 10 d/],
  ["fail/expired", checkCertificateExpiry, evidence({ certificates: [cert("agency csrc", { notAfter: inDays(-1) }), cert("CA 1")] }), "fail", /agency csrc/],
  ["fail/not-yet-valid", checkCertificateExpiry, evidence({ certificates: [cert("gateway", { notBefore: inDays(2) })] }), "fail"],

  ["ok/crl-fresh", checkCrlFreshness, evidence(), "pass"],
  ["warn/crl-not-configured-level3", checkCrlFreshness, evidence({ crl: undefined }), "warn", /no CRL configured/],
  ["ok/crl-not-configured-level2", checkCrlFreshness, evidence({ level: 2, crl: undefined }), "pass"],
  ["warn/crl-next-update-soon", checkCrlFreshness, evidence({ crl: { file: "c", thisUpdate: inDays(-7), nextUpdate: new Date(NOW.getTime() + 3_600_000) } }), "warn"],
  ["fail/crl-stale", checkCrlFreshness, evidence({ crl: { file: "c", thisUpdate: inDays(-8), nextUpdate: inDays(-1) } }), "fail", /stale/],
  ["fail/crl-unreadable", checkCrlFreshness, evidence({ crl: { file: "c", error: "no PEM X509 CRL block" } }), "fail"],
  ["warn/crl-without-next-update", checkCrlFreshness, evidence({ crl: { file: "c", thisUpdate: inDays(-1) } }), "warn"],

  ["ok/sealed", checkAuditSealing, evidence(), "pass", /SM4-CTR\+HMAC-SM3/],
  ["fail/key-ring-missing", checkAuditSealing, evidence({ audit: { ...audit, keyRing: { ok: false, error: "ENOENT" } } }), "fail", /ENOENT/],

  ["ok/verified-1h-ago", checkAuditVerified, evidence(), "pass"],
  ["ok/verified-now", checkAuditVerified, evidence({ audit: { ...audit, verification: { source: "verified-now", verifiedAt: NOW, ok: true, records: 5, breaks: 0, detail: "audit.log" } } }), "pass", /verified now/],
  ["warn/verified-3-days-ago", checkAuditVerified, evidence({ audit: { ...audit, verification: { ...audit.verification, verifiedAt: inDays(-3) } } }), "warn", /older than 24 h/],
  ["fail/breaks-found", checkAuditVerified, evidence({ audit: { ...audit, verification: { ...audit.verification, ok: false, breaks: 2 } } }), "fail", /2 break/],
  ["warn/never-verified", checkAuditVerified, evidence({ audit: { ...audit, verification: { source: "none", detail: "no verification on record" } } }), "warn"],

  ["ok/retention-180d", checkAuditRetention, evidence(), "pass", /180 days/],
  ["ok/retention-forever", checkAuditRetention, evidence({ audit: { ...audit, kafka: { ...kafka, topics: [{ topic: "t", retentionMs: -1, replicationFactor: 3 }] } } }), "pass", /forever/],
  ["fail/retention-7d", checkAuditRetention, evidence({ audit: { ...audit, kafka: { ...kafka, topics: [{ topic: "t", retentionMs: 7 * DAY, replicationFactor: 3 }] } } }), "fail", /below 180 days/],
  ["fail/kafka-unreachable", checkAuditRetention, evidence({ audit: { ...audit, kafka: { brokers: "k:9092", topics: [], error: "connection refused" } } }), "fail"],
  ["warn/file-sink-level3", checkAuditRetention, evidence({ audit: { ...audit, sink: "file", kafka: undefined } }), "warn", /local file/],
  ["ok/file-sink-level2", checkAuditRetention, evidence({ level: 2, audit: { ...audit, sink: "file", kafka: undefined } }), "pass"],

  ["ok/replication-3", checkAuditReplication, evidence(), "pass", /replication factor 3/],
  ["warn/replication-1", checkAuditReplication, evidence({ audit: { ...audit, kafka: { ...kafka, topics: [{ topic: "t", retentionMs: -1, replicationFactor: 1 }] } } }), "warn", /one copy/],
  ["warn/file-sink", checkAuditReplication, evidence({ audit: { ...audit, sink: "file", kafka: undefined } }), "warn"],

  ["ok/three-admins", checkAdminSeparation, evidence(), "pass"],
  ["fail/audit-admin-missing-level3", checkAdminSeparation, evidence({ adminCertificates: evidence().adminCertificates.filter((a) => a.role !== "audit") }), "fail", /for: audit/],
  ["warn/admins-missing-level2", checkAdminSeparation, evidence({ level: 2, adminCertificates: [] }), "warn"],
  ["fail/one-cert-two-roles", checkAdminSeparation, evidence({ adminCertificates: [...evidence().adminCertificates, { role: "audit", file: "s2.crt", subject: "CN=s", fingerprint: "AA", notAfter: inDays(9) }] }), "fail", /system\+audit/],

  ["ok/policy-signed", checkPolicySigned, evidence(), "pass"],
  ["warn/policy-unknown", checkPolicySigned, evidence({ policy: { detail: "plain files" } }), "warn"],
  ["fail/policy-signature-invalid", checkPolicySigned, evidence({ policy: { signed: false, detail: "signature does not verify" } }), "fail"],

  ["ok/metrics-and-traces", checkTelemetry, evidence(), "pass"],
  ["warn/metrics-only", checkTelemetry, evidence({ telemetry: { metricsEndpoint: "http://x/metrics", metricsAnswered: true, tracesExported: false, detail: "" } }), "warn", /traces not exported/],
  ["fail/no-telemetry-level3", checkTelemetry, evidence({ telemetry: { tracesExported: false, detail: "no observability section" } }), "fail"],
  ["fail/metrics-not-answering", checkTelemetry, evidence({ telemetry: { metricsEndpoint: "http://x/metrics", metricsAnswered: false, tracesExported: true, detail: "ECONNREFUSED" } }), "fail"],
];

describe("posture checks", () => {
  it.each(CASES)("%s", (_name, check, e, status, match) => {
    const result = check(e);
    expect(result.status).toBe(status);
    if (match) expect(result.evidence).toMatch(match);
    expect(result.clause).toMatch(/^GB\/T 22239-2019 /);
  });
});

describe("clauses", () => {
  it("numbers level 3 and 4 clauses by chapter and names only the area for other levels", () => {
    expect(clauseOf(3, "audit", "c")).toBe("GB/T 22239-2019 8.1.4.3 c) security audit (安全审计)");
    expect(clauseOf(4, "transmission")).toBe("GB/T 22239-2019 9.1.2.2 communication transmission (通信传输)");
    expect(clauseOf(2, "transmission")).toBe("GB/T 22239-2019 level 2: communication transmission (通信传输)");
  });
});

describe("strength rules", () => {
  it("judges RSA by level and TLS 1.2 suites by forward secrecy and AEAD", () => {
    expect(keyStrengthOf(3, { keyType: "rsa", keyBits: 3072 })).toBe("pass");
    expect(keyStrengthOf(3, { keyType: "rsa", keyBits: 2048 })).toBe("warn");
    expect(keyStrengthOf(4, { keyType: "rsa", keyBits: 2048 })).toBe("warn");
    expect(keyStrengthOf(1, { keyType: "rsa", keyBits: 2048 })).toBe("pass");
    expect(keyStrengthOf(3, { keyType: "ec", keyBits: 224 })).toBe("fail");
    expect(isStrongTls12Cipher("ECDHE-RSA-AES128-GCM-SHA256")).toBe(true);
    expect(isStrongTls12Cipher("AES128-GCM-SHA256")).toBe(false);
    expect(isStrongTls12Cipher("ECDHE-RSA-AES128-SHA")).toBe(false);
  });
});

describe("evaluatePosture", () => {
  it("runs every control and counts failures and warnings", () => {
    const report = evaluatePosture(evidence({ crl: undefined, audit: { ...audit, keyRing: { ok: false, error: "gone" } } }));
    expect(report.controls.map((c) => c.id)).toEqual([
      "tls-versions",
      "tls-cipher-suites",
      "client-certificates",
      "key-sizes",
      "certificate-expiry",
      "crl-freshness",
      "audit-sealing",
      "audit-chain-verified",
      "audit-retention",
      "audit-replication",
      "admin-separation",
      "policy-signed",
      "telemetry-exporting",
    ]);
    expect([report.failing, report.warnings]).toEqual([1, 1]);
  });

  it("reports as regressions only controls that failed after passing or warning", () => {
    const before = evaluatePosture(evidence({ crl: undefined, policy: { signed: false, detail: "bad" } }));
    const after = evaluatePosture(
      evidence({ crl: { file: "c", nextUpdate: inDays(-1) }, policy: { signed: false, detail: "bad" }, audit: { ...audit, keyRing: { ok: false, error: "gone" } } }),
    );
    expect(postureRegressions(undefined, after)).toEqual([]);
    expect(postureRegressions(before, after).map((c) => c.id)).toEqual(["crl-freshness", "audit-sealing"]);
  });
});
