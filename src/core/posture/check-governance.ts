import { clauseOf, clausesOf } from "./clause.js";
import type { ControlResult, PostureEvidence } from "./posture-evidence.js";

/** The three administrator roles level 3 separates (GB/T 22239-2019 x.1.5.1–3, x.1.4.2 d). */
export const ADMIN_ROLES = ["system", "security", "audit"] as const;

export function checkAdminSeparation(e: PostureEvidence): ControlResult {
  const base = { id: "admin-separation", title: "Separate system, security and audit administrators", clause: clausesOf(e.level, ["admin-separation"], ["access-control", "d"]) };
  const byRole = new Map<string, string[]>();
  for (const a of e.adminCertificates) byRole.set(a.role, [...(byRole.get(a.role) ?? []), a.fingerprint]);
  const missing = ADMIN_ROLES.filter((r) => !byRole.has(r));
  const shared = new Map<string, string[]>();
  for (const a of e.adminCertificates) shared.set(a.fingerprint, [...new Set([...(shared.get(a.fingerprint) ?? []), a.role])]);
  const doubled = [...shared.values()].filter((roles) => roles.length > 1);
  const present = ADMIN_ROLES.filter((r) => byRole.has(r)).map((r) => `${r}: ${byRole.get(r)!.length}`).join(", ");
  if (doubled.length > 0) return { ...base, status: "fail", evidence: `one certificate holds several roles: ${doubled.map((r) => r.join("+")).join("; ")}` };
  if (missing.length > 0) {
    return {
      ...base,
      status: e.level >= 3 ? "fail" : "warn",
      evidence: `no administrator certificate (URI SAN …/admin/<role>) for: ${missing.join(", ")}${present ? `; found ${present}` : ""}`,
    };
  }
  return { ...base, status: "pass", evidence: `distinct certificates per role (${present})` };
}

export function checkPolicySigned(e: PostureEvidence): ControlResult {
  const base = { id: "policy-signed", title: "Policy bundle signed", clause: clauseOf(e.level, "integrity") };
  if (e.policy.signed === true) return { ...base, status: "pass", evidence: e.policy.detail };
  if (e.policy.signed === false) return { ...base, status: "fail", evidence: e.policy.detail };
  return { ...base, status: "warn", evidence: e.policy.detail };
}

export function checkTelemetry(e: PostureEvidence): ControlResult {
  const base = { id: "telemetry-exporting", title: "Telemetry exported for central monitoring", clause: clauseOf(e.level, "central-control", "c") };
  const t = e.telemetry;
  if (!t.metricsEndpoint) return { ...base, status: e.level >= 3 ? "fail" : "warn", evidence: t.detail };
  if (t.metricsAnswered === false) return { ...base, status: "fail", evidence: `${t.metricsEndpoint} did not answer: ${t.detail}` };
  const what = `metrics at ${t.metricsEndpoint}${t.metricsAnswered ? " (answered)" : ""}; traces ${t.tracesExported ? "exported over OTLP" : "not exported"}`;
  return { ...base, status: t.tracesExported ? "pass" : "warn", evidence: `${what}${t.detail ? `; ${t.detail}` : ""}` };
}
