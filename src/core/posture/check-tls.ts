import { clauseOf, clausesOf } from "./clause.js";
import type { ControlResult, HandshakeResult, PostureEvidence } from "./posture-evidence.js";

/** TLS 1.2 suites credex accepts: forward secret (ECDHE/DHE) and AEAD (RFC 9325 §4.2). */
export function isStrongTls12Cipher(name: string): boolean {
  return /^(ECDHE|DHE)-/.test(name) && /(GCM|CHACHA20-POLY1305|CCM)/.test(name);
}

const describe = (h: HandshakeResult) => (h.accepted ? `accepted (${h.protocol ?? "?"}, ${h.cipher ?? "?"})` : h.inconclusive ? `not probed: ${h.detail}` : `refused (${h.detail})`);

/**
 * Versions: TLS 1.3, or 1.2 at least (RFC 8996 deprecates 1.0 and 1.1). With a
 * live address the versions actually offered must match the configured floor.
 */
export function checkTlsVersions(e: PostureEvidence): ControlResult {
  const base = { id: "tls-versions", title: "TLS protocol versions", clause: clauseOf(e.level, "transmission") };
  const configured = `configured minimum ${e.tls.minVersion}`;
  const live = e.tls.live;
  if (!live) return { ...base, status: "pass", evidence: `${configured}; ${e.tls.liveNote ?? "no live address probed"}` };
  if (live.tls13.inconclusive && live.tls12.inconclusive) return { ...base, status: "pass", evidence: `${configured}; ${live.address} not probed (${live.tls13.detail})` };
  const seen = `${live.address}: TLS 1.3 ${describe(live.tls13)}; TLS 1.2 ${describe(live.tls12)}; TLS 1.1 ${describe(live.tls11)}`;
  if (live.tls11.accepted) return { ...base, status: "fail", evidence: `${configured}, but ${seen}` };
  if (live.tls12.accepted && e.tls.minVersion === "TLSv1.3") return { ...base, status: "fail", evidence: `${configured}, but ${seen}` };
  if (!live.tls13.accepted && !live.tls12.accepted) return { ...base, status: "warn", evidence: `${configured}; no handshake succeeded: ${seen}` };
  if (live.tls11.inconclusive) return { ...base, status: "warn", evidence: `${configured}; ${seen}` };
  return { ...base, status: "pass", evidence: `${configured}; ${seen}` };
}

/** TLS 1.2 suites, when 1.2 is allowed: only forward-secret AEAD ones. TLS 1.3 suites are all AEAD. */
export function checkCipherSuites(e: PostureEvidence): ControlResult {
  const base = { id: "tls-cipher-suites", title: "TLS cipher suites", clause: clausesOf(e.level, ["transmission"], ["integrity"]) };
  const weak = e.tls.tls12Ciphers.filter((c) => !isStrongTls12Cipher(c));
  const live = e.tls.live;
  if (live?.tls12Weak.accepted) {
    return { ...base, status: "fail", evidence: `${live.address} accepted a TLS 1.2 handshake with ${live.tls12Weak.cipher ?? "a suite without forward secrecy"}` };
  }
  if (e.tls.minVersion === "TLSv1.3") {
    return { ...base, status: "pass", evidence: `TLS 1.3 only (AEAD suites by definition, RFC 8446 §9.1)${live ? `; weak TLS 1.2 suite ${describe(live.tls12Weak)}` : ""}` };
  }
  if (weak.length > 0) return { ...base, status: "fail", evidence: `TLS 1.2 allowed with suites lacking forward secrecy or AEAD: ${weak.join(", ")}` };
  return { ...base, status: "pass", evidence: `TLS 1.2 suites: ${e.tls.tls12Ciphers.join(", ")} (all ECDHE/DHE with AEAD)${live ? `; weak suite ${describe(live.tls12Weak)}` : ""}` };
}

export function checkClientCertificates(e: PostureEvidence): ControlResult {
  return {
    id: "client-certificates",
    title: "Client certificates required",
    clause: clausesOf(e.level, ["identification"], ["access-control"]),
    status: e.tls.clientCertificatesRequired ? "pass" : "fail",
    evidence: e.tls.clientCertificateDetail,
  };
}
