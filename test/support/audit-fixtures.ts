import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, DecisionEffect, type AuditEvent } from "../../src/gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../../src/gen/credex/v1/types_pb.js";
import { usccWithCheck } from "./uscc.js";

/** A plausible exchange event; `i` varies the ids. */
export function sampleAuditEvent(i: number, over: Partial<{ agency: string; effect: DecisionEffect; purpose: Purpose; categories: string[]; pseudonym: string; at: Date }> = {}): AuditEvent {
  const now = over.at ?? new Date(Date.UTC(2026, 10, 26, 4, 0, 0) + i);
  return create(AuditEventSchema, {
    schemaVersion: 1,
    exchangeId: `ex-${i}`,
    traceId: `trace-${i}`,
    gatewayInstance: "gw-test",
    type: AuditEventType.EXCHANGE,
    method: "/credex.v1.CreditExchange/Query",
    receivedAt: timestampFromDate(now),
    decidedAt: timestampFromDate(now),
    repliedAt: timestampFromDate(now),
    requester: { agencyId: over.agency ?? (i % 2 ? "pbc-crc" : "csrc"), sector: "BANKING", certFingerprint: "ab".repeat(32) },
    subjectPseudonym: over.pseudonym ?? `p${i}`,
    subjectType: SubjectType.LEGAL_PERSON,
    categories: over.categories ?? ["penalties"],
    purpose: over.purpose ?? Purpose.LOAN_APPROVAL,
    decision: { effect: over.effect ?? DecisionEffect.ALLOW, matchedPolicy: "p1", policyRevision: "r1" },
    statusCode: 0,
  });
}

/** A throwaway RSA key and self-signed certificate made with the openssl CLI (never committed). */
export function makeSigningIdentity(type: "rsa" | "ec" = "rsa"): { privateKeyPem: string; certificatePem: string } {
  const dir = mkdtempSync(join(tmpdir(), "credex-cp-"));
  try {
    const keyArgs = type === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
    execFileSync("openssl", ["req", "-x509", ...keyArgs, "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-subj", "/CN=gw-test", "-days", "1"], { stdio: "ignore" });
    return { privateKeyPem: readFileSync(join(dir, "k.pem"), "utf8"), certificatePem: readFileSync(join(dir, "c.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A root CA, an issuing CA under it, and certificates it issued: what a checkpoint signer carries. */
export interface CheckpointPki {
  readonly trustDomain: string;
  readonly rootPem: string;
  readonly issuingPem: string;
  /** Two gateway certificates (before and after a rotation) and an agency's: chain PEM (leaf, issuing CA) and key. */
  readonly gateway: { readonly privateKeyPem: string; readonly certificatePem: string };
  readonly rotated: { readonly privateKeyPem: string; readonly certificatePem: string };
  readonly agency: { readonly privateKeyPem: string; readonly certificatePem: string };
  /** The issuing CA itself, to sign CRLs with. */
  readonly issuingCa: import("../../src/adapters/pki/certificate-authority.js").CertificateAuthority;
}

export async function makeCheckpointPki(trustDomain = "credex.test"): Promise<CheckpointPki> {
  const { createCa, issueCertificate } = await import("../../src/adapters/pki/certificate-authority.js");
  const root = await createCa({ commonName: "test root", keyBits: 2048 });
  const issuing = await createCa({ commonName: "test issuing", keyBits: 2048, parent: root });
  const issue = async (kind: "gateway" | "agency", name: string) => {
    const c = await issueCertificate({ kind, issuer: issuing, trustDomain, name, keyBits: 2048, ...(kind === "agency" ? { uscc: usccWithCheck(7), sector: "BANKING" } : {}) });
    return { privateKeyPem: c.keyPem, certificatePem: c.chainPem };
  };
  return {
    trustDomain,
    rootPem: root.certPem,
    issuingPem: issuing.certPem,
    gateway: await issue("gateway", "gw"),
    rotated: await issue("gateway", "gw"),
    agency: await issue("agency", "pbccrc"),
    issuingCa: issuing,
  };
}
