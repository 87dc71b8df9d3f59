import { clauseOf, clausesOf } from "./clause.js";
import type { CertificateFact, ControlResult, PostureEvidence } from "./posture-evidence.js";

const DAY_MS = 24 * 3_600_000;
/** Certificates expiring within this many days are a warning (renewal is due at a third of validity left). */
export const EXPIRY_WARNING_DAYS = 30;
/** A CRL whose nextUpdate is this close is a warning: it must be reissued before then (RFC 5280 §5.1.2.5). */
export const CRL_WARNING_HOURS = 24;

/**
 * Minimum strength by level: level 3 and above want RSA ≥ 3072 or EC ≥ 256
 * (about 128-bit security, NIST SP 800-57 Part 1 Table 2); RSA 2048 (112-bit)
 * is still allowed there but warned. Levels 1–2: RSA ≥ 2048.
 */
export function keyStrengthOf(level: number, cert: Pick<CertificateFact, "keyType" | "keyBits">): "pass" | "warn" | "fail" {
  if (cert.keyType === "ed25519" || cert.keyType === "ed448") return "pass";
  if (cert.keyType === "ec") return cert.keyBits >= 256 ? "pass" : "fail";
  if (cert.keyType === "rsa" || cert.keyType === "rsa-pss") {
    if (cert.keyBits < 2048) return "fail";
    if (level >= 3 && cert.keyBits < 3072) return "warn";
    return "pass";
  }
  return "warn";
}

const worst = (a: "pass" | "warn" | "fail", b: "pass" | "warn" | "fail") => (a === "fail" || b === "fail" ? "fail" : a === "warn" || b === "warn" ? "warn" : "pass");

export function checkKeySizes(e: PostureEvidence): ControlResult {
  const base = { id: "key-sizes", title: "Key sizes", clause: clausesOf(e.level, ["transmission"], ["identification"]) };
  const all = e.certificates;
  if (all.length === 0) return { ...base, status: "fail", evidence: "no certificate could be read" };
  let status: "pass" | "warn" | "fail" = "pass";
  const groups = new Map<string, string[]>();
  for (const c of all) {
    const s = keyStrengthOf(e.level, c);
    status = worst(status, s);
    const key = `${c.keyType.toUpperCase()} ${c.keyBits}`;
    groups.set(key, [...(groups.get(key) ?? []), c.role]);
  }
  const summary = [...groups].map(([k, roles]) => `${k}: ${roles.length} (${roles.slice(0, 4).join(", ")}${roles.length > 4 ? ", …" : ""})`).join("; ");
  const rule = e.level >= 3 ? "level ≥ 3 wants RSA ≥ 3072 or EC ≥ 256; RSA 2048 warned" : "RSA ≥ 2048 or EC ≥ 256";
  return { ...base, status, evidence: `${summary} — ${rule}` };
}

export function checkCertificateExpiry(e: PostureEvidence): ControlResult {
  const base = { id: "certificate-expiry", title: "Certificate expiry", clause: clauseOf(e.level, "identification") };
  const all = e.certificates;
  if (all.length === 0) return { ...base, status: "fail", evidence: "no certificate could be read" };
  const now = e.now.getTime();
  const expired = all.filter((c) => c.notAfter.getTime() <= now || (c.notBefore && c.notBefore.getTime() > now));
  const soon = all.filter((c) => !expired.includes(c) && c.notAfter.getTime() - now < EXPIRY_WARNING_DAYS * DAY_MS);
  const first = [...all].sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime())[0]!;
  const days = (d: Date) => Math.floor((d.getTime() - now) / DAY_MS);
  if (expired.length > 0) return { ...base, status: "fail", evidence: `expired or not yet valid: ${expired.map((c) => `${c.role} (${c.notAfter.toISOString()})`).join(", ")}` };
  if (soon.length > 0) return { ...base, status: "warn", evidence: `expiring within ${EXPIRY_WARNING_DAYS} days: ${soon.map((c) => `${c.role} in ${days(c.notAfter)} d`).join(", ")}` };
  return { ...base, status: "pass", evidence: `${all.length} certificates valid; the first to expire is ${first.role} in ${days(first.notAfter)} days` };
}

export function checkCrlFreshness(e: PostureEvidence): ControlResult {
  const base = { id: "crl-freshness", title: "CRL freshness", clause: clausesOf(e.level, ["identification"], ["access-control", "c"]) };
  const crl = e.crl;
  if (!crl) {
    return {
      ...base,
      status: e.level >= 3 ? "warn" : "pass",
      evidence: "no CRL configured (tls.crl): revoked certificates are refused only through the gateway's revocation set",
    };
  }
  if (crl.error) return { ...base, status: "fail", evidence: `${crl.file}: ${crl.error}` };
  if (!crl.nextUpdate) return { ...base, status: "warn", evidence: `${crl.file} has no nextUpdate: its freshness cannot be judged` };
  const left = crl.nextUpdate.getTime() - e.now.getTime();
  if (left <= 0) return { ...base, status: "fail", evidence: `${crl.file}: nextUpdate ${crl.nextUpdate.toISOString()} has passed (stale CRL)` };
  if (left < CRL_WARNING_HOURS * 3_600_000) return { ...base, status: "warn", evidence: `${crl.file}: nextUpdate ${crl.nextUpdate.toISOString()} is less than ${CRL_WARNING_HOURS} h away` };
  return { ...base, status: "pass", evidence: `${crl.file}: issued ${crl.thisUpdate?.toISOString() ?? "?"}, next update ${crl.nextUpdate.toISOString()}` };
}
