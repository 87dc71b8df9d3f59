import { checkAuditReplication, checkAuditRetention, checkAuditSealing, checkAuditVerified } from "./check-audit.js";
import { checkCertificateExpiry, checkCrlFreshness, checkKeySizes } from "./check-certificates.js";
import { checkAdminSeparation, checkPolicySigned, checkTelemetry } from "./check-governance.js";
import { checkCipherSuites, checkClientCertificates, checkTlsVersions } from "./check-tls.js";
import type { ControlResult, PostureEvidence, PostureReport } from "./posture-evidence.js";

/** Every control, in report order. */
export const POSTURE_CHECKS: ReadonlyArray<(e: PostureEvidence) => ControlResult> = [
  checkTlsVersions,
  checkCipherSuites,
  checkClientCertificates,
  checkKeySizes,
  checkCertificateExpiry,
  checkCrlFreshness,
  checkAuditSealing,
  checkAuditVerified,
  checkAuditRetention,
  checkAuditReplication,
  checkAdminSeparation,
  checkPolicySigned,
  checkTelemetry,
];

export function evaluatePosture(evidence: PostureEvidence): PostureReport {
  const controls = POSTURE_CHECKS.map((check) => check(evidence));
  return {
    level: evidence.level,
    checkedAt: evidence.now,
    controls,
    failing: controls.filter((c) => c.status === "fail").length,
    warnings: controls.filter((c) => c.status === "warn").length,
  };
}

/** Controls that passed (or warned) in `before` and fail in `after`: each is a regression. */
export function postureRegressions(before: PostureReport | undefined, after: PostureReport): ControlResult[] {
  if (!before) return [];
  const previous = new Map(before.controls.map((c) => [c.id, c.status]));
  return after.controls.filter((c) => c.status === "fail" && previous.has(c.id) && previous.get(c.id) !== "fail");
}
