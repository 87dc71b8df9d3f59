import type { Detector } from "./detector.js";
import type { DetectorSettings } from "./detector-settings.js";
import { createQueryRateDetector } from "./detectors/query-rate.js";
import { createDenialBurstDetector } from "./detectors/denial-burst.js";
import { createCertificateAbuseDetector } from "./detectors/certificate-abuse.js";
import { createSubjectEnumerationDetector } from "./detectors/subject-enumeration.js";
import { createConsentMisuseDetector } from "./detectors/consent-misuse.js";
import { createProviderOutageDetector } from "./detectors/provider-outage.js";
import { createProhibitedDataDetector } from "./detectors/prohibited-data.js";
import { createProviderDataQualityDetector } from "./detectors/provider-data-quality.js";
import { createAuditDegradedDetector } from "./detectors/audit-degraded.js";
import { createCertificateExpiryDetector } from "./detectors/certificate-expiry.js";
import { createPolicyRejectedDetector } from "./detectors/policy-rejected.js";
import { createPostureRegressionDetector } from "./detectors/posture-regression.js";
import { createObjectionOverdueDetector } from "./detectors/objection-overdue.js";
import { createAuditChainRestartedDetector } from "./detectors/audit-chain-restarted.js";
import { createRuntimeSettingRefusedDetector } from "./detectors/runtime-setting-refused.js";
import { createDisclosureLateDetector } from "./detectors/disclosure-late.js";

/** Every detector credex runs, configured. */
export function createDetectors(settings: DetectorSettings): Detector[] {
  return [
    createQueryRateDetector(settings.queryRate),
    createDenialBurstDetector(settings.denialBurst),
    createCertificateAbuseDetector(settings.certificateAbuse),
    createSubjectEnumerationDetector(settings.subjectEnumeration),
    createConsentMisuseDetector(settings.consentMisuse),
    createProviderOutageDetector(settings.providerOutage),
    createProhibitedDataDetector(),
    createProviderDataQualityDetector(),
    createAuditDegradedDetector(settings.auditDegraded),
    createCertificateExpiryDetector(settings.certificateExpiry),
    createPolicyRejectedDetector(),
    createPostureRegressionDetector(),
    createObjectionOverdueDetector(),
    createAuditChainRestartedDetector(),
    createRuntimeSettingRefusedDetector(),
    createDisclosureLateDetector(),
  ];
}

export const DETECTOR_NAMES = [
  "query-rate",
  "denial-burst",
  "certificate-abuse",
  "subject-enumeration",
  "consent-misuse",
  "provider-outage",
  "prohibited-data",
  "provider-data-quality",
  "audit-degraded",
  "certificate-expiry",
  "policy-rejected",
  "posture-regression",
  "objection-overdue",
  "audit-chain-restarted",
  "runtime-setting-refused",
  "disclosure-late",
] as const;
