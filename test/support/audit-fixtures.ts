import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, DecisionEffect, type AuditEvent } from "../../src/gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../../src/gen/credex/v1/types_pb.js";

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
    requester: { agencyId: over.agency ?? (i % 2 ? "pbc-crc" : "csrc"), sector: "banking", certFingerprint: "ab".repeat(32) },
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
