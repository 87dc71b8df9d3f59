import { clauseOf, clausesOf } from "./clause.js";
import type { ControlResult, PostureEvidence } from "./posture-evidence.js";

/** Cybersecurity Law Art. 21: network logs kept at least six months; credex's floor is 180 days. */
export const MIN_AUDIT_RETENTION_MS = 180 * 24 * 3_600_000;
/** A verification older than this is a warning: tampering would go unseen that long. */
export const AUDIT_VERIFY_MAX_AGE_MS = 24 * 3_600_000;

export function checkAuditSealing(e: PostureEvidence): ControlResult {
  const base = { id: "audit-sealing", title: "Audit records sealed", clause: clausesOf(e.level, ["audit", "c"], ["integrity"]) };
  const ring = e.audit.keyRing;
  if (!ring.ok) return { ...base, status: "fail", evidence: `audit key ring does not load: ${ring.error}` };
  return { ...base, status: "pass", evidence: `every record sealed with ${e.audit.suite} (key ring: ${ring.keys} key(s), active ${ring.activeKeyId}) and hash-chained with signed checkpoints` };
}

export function checkAuditVerified(e: PostureEvidence): ControlResult {
  const base = { id: "audit-chain-verified", title: "Audit chain verified recently", clause: clauseOf(e.level, "audit", "c") };
  const v = e.audit.verification;
  if (v.source === "none") return { ...base, status: "warn", evidence: v.detail };
  if (v.ok === false) return { ...base, status: "fail", evidence: `${v.detail}: ${v.breaks ?? "?"} break(s) in ${v.records ?? "?"} records` };
  const age = v.verifiedAt ? e.now.getTime() - v.verifiedAt.getTime() : Infinity;
  const what = `${v.source === "verified-now" ? "verified now" : `last verified ${v.verifiedAt?.toISOString() ?? "at an unknown time"}`}: ${v.records ?? "?"} records, no breaks (${v.detail})`;
  if (age > AUDIT_VERIFY_MAX_AGE_MS) return { ...base, status: "warn", evidence: `${what}; older than 24 h` };
  return { ...base, status: "pass", evidence: what };
}

const days = (ms: number) => (ms === -1 ? "forever" : `${(ms / 86_400_000).toFixed(ms % 86_400_000 === 0 ? 0 : 1)} days`);

/** Retention of the audit topics (Kafka); a file sink keeps logs on one host, which level 3 asks to collect centrally. */
export function checkAuditRetention(e: PostureEvidence): ControlResult {
  const base = { id: "audit-retention", title: "Audit retention ≥ 180 days, centrally collected", clause: clauseOf(e.level, "central-control", "d") };
  const k = e.audit.kafka;
  if (e.audit.sink !== "kafka" || !k) {
    return {
      ...base,
      status: e.level >= 3 ? "warn" : "pass",
      evidence: "audit sink is a local file: retention is the operator's (keep ≥ 180 days, Cybersecurity Law Art. 21) and records are not collected centrally",
    };
  }
  if (k.error) return { ...base, status: "fail", evidence: `Kafka ${k.brokers}: ${k.error}` };
  const short = k.topics.filter((t) => t.retentionMs === undefined || !(t.retentionMs === -1 || t.retentionMs >= MIN_AUDIT_RETENTION_MS));
  const list = k.topics.map((t) => `${t.topic} retention ${t.retentionMs === undefined ? "unknown" : days(t.retentionMs)}`).join("; ");
  if (short.length > 0) return { ...base, status: "fail", evidence: `${list} — below 180 days (Cybersecurity Law Art. 21)` };
  return { ...base, status: "pass", evidence: list };
}

export function checkAuditReplication(e: PostureEvidence): ControlResult {
  const base = { id: "audit-replication", title: "Audit replicated", clause: clausesOf(e.level, ["audit", "c"], ["backup"]) };
  const k = e.audit.kafka;
  if (e.audit.sink !== "kafka" || !k) return { ...base, status: "warn", evidence: "audit sink is a local file: no replica unless the operator backs it up" };
  if (k.error) return { ...base, status: "fail", evidence: `Kafka ${k.brokers}: ${k.error}` };
  const list = k.topics.map((t) => `${t.topic} replication factor ${t.replicationFactor ?? "unknown"}${t.minInsyncReplicas !== undefined ? `, min.insync.replicas ${t.minInsyncReplicas}` : ""}`).join("; ");
  if (k.topics.some((t) => t.replicationFactor === undefined || t.replicationFactor < 1)) return { ...base, status: "fail", evidence: list };
  if (k.topics.some((t) => t.replicationFactor === 1)) return { ...base, status: "warn", evidence: `${list} — one copy only: a broker's disk loss loses audit records` };
  return { ...base, status: "pass", evidence: list };
}
