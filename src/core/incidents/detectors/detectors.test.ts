import { describe, expect, it } from "vitest";
import { DEFAULT_DETECTOR_SETTINGS as D } from "../detector-settings.js";
import type { Finding } from "../detector.js";
import type { ExchangeObservation } from "../security-event.js";
import { createQueryRateDetector } from "./query-rate.js";
import { createDenialBurstDetector } from "./denial-burst.js";
import { createCertificateAbuseDetector, peerHostOf } from "./certificate-abuse.js";
import { createSubjectEnumerationDetector } from "./subject-enumeration.js";
import { createConsentMisuseDetector } from "./consent-misuse.js";
import { createProviderOutageDetector } from "./provider-outage.js";
import { createProhibitedDataDetector } from "./prohibited-data.js";
import { createProviderDataQualityDetector } from "./provider-data-quality.js";
import { createAuditDegradedDetector } from "./audit-degraded.js";
import { createCertificateExpiryDetector } from "./certificate-expiry.js";
import { createPolicyRejectedDetector } from "./policy-rejected.js";
import { createPostureRegressionDetector } from "./posture-regression.js";
import { createObjectionOverdueDetector } from "./objection-overdue.js";
import { createAuditChainRestartedDetector } from "./audit-chain-restarted.js";
import { createDetectors, DETECTOR_NAMES } from "../create-detectors.js";
import { DEFAULT_DETECTOR_SETTINGS } from "../detector-settings.js";

const T0 = Date.parse("2026-01-05T09:00:00Z");
let seq = 0;
function obs(atMs: number, extra: Partial<ExchangeObservation> = {}): ExchangeObservation {
  seq += 1;
  return { exchangeId: `x${seq}`, at: new Date(T0 + atMs), agencyId: "bank-a", authenticated: true, subjectPseudonym: "p-same", providers: [], ...extra };
}
const all = (findings: Finding[][]) => findings.flat();

describe("query-rate", () => {
  const settings = { ...D.queryRate, bucketMs: 60_000, minQueries: 20, factor: 5, warmupBuckets: 3, alpha: 0.5 };
  it("ok/quiet on steady traffic", () => {
    const d = createQueryRateDetector(settings);
    const out: Finding[][] = [];
    for (let minute = 0; minute < 10; minute++) for (let i = 0; i < 10; i++) out.push(d.observeExchange!(obs(minute * 60_000 + i * 1000)));
    expect(all(out)).toEqual([]);
  });
  it("fires on a burst far above the agency's own baseline", () => {
    const d = createQueryRateDetector(settings);
    for (let minute = 0; minute < 5; minute++) for (let i = 0; i < 10; i++) d.observeExchange!(obs(minute * 60_000 + i * 1000));
    const out: Finding[] = [];
    for (let i = 0; i < 80; i++) out.push(...d.observeExchange!(obs(5 * 60_000 + i * 100)));
    expect(out.length).toBeGreaterThan(0);
    expect(out[0]).toMatchObject({ detector: "query-rate", key: "bank-a", level: "IV", count: 51 });
    expect(out[0]!.attributes!["baseline_per_bucket"]).toBe("10.0");
  });
  it("stays quiet before the baseline has warmed up", () => {
    const d = createQueryRateDetector(settings);
    const out: Finding[] = [];
    for (let i = 0; i < 500; i++) out.push(...d.observeExchange!(obs(i)));
    expect(out).toEqual([]);
  });
});

describe("denial-burst", () => {
  it("fires at the threshold with every exchange of the window, then adds one at a time", () => {
    const d = createDenialBurstDetector({ windowMs: 60_000, threshold: 5 });
    const out = Array.from({ length: 7 }, (_, i) => d.observeExchange!(obs(i * 1000, { reason: "PURPOSE_NOT_PERMITTED" })));
    expect(out.slice(0, 4).flat()).toEqual([]);
    expect(out[4]![0]).toMatchObject({ detector: "denial-burst", key: "bank-a", count: 5 });
    expect(out[4]![0]!.exchangeIds).toHaveLength(5);
    expect(out[6]![0]).toMatchObject({ count: 1 });
  });
  it("ok/quiet when denials are spread out or are not policy denials", () => {
    const d = createDenialBurstDetector({ windowMs: 60_000, threshold: 5 });
    const spread = Array.from({ length: 20 }, (_, i) => d.observeExchange!(obs(i * 20_000, { reason: "CATEGORY_NOT_PERMITTED" })));
    const other = Array.from({ length: 20 }, (_, i) => d.observeExchange!(obs(500_000 + i, { reason: "USCC_INVALID" })));
    expect(all([...spread, ...other])).toEqual([]);
  });
});

describe("certificate-abuse", () => {
  it("fires on repeated refusals of one certificate, keyed by fingerprint", () => {
    const d = createCertificateAbuseDetector({ windowMs: 300_000, threshold: 3 });
    const out = Array.from({ length: 3 }, (_, i) => d.observeExchange!(obs(i, { authenticated: false, reason: "CLIENT_CERT_REVOKED", certFingerprint: "ab12" })));
    expect(out[2]![0]).toMatchObject({ key: "cert:ab12", level: "III", category: "network-attack" });
  });
  it("keys by peer host when no certificate was presented", () => {
    const d = createCertificateAbuseDetector({ windowMs: 300_000, threshold: 3 });
    const out = Array.from({ length: 3 }, (_, i) => d.observeExchange!(obs(i, { authenticated: false, agencyId: undefined, reason: "CLIENT_CERT_MISSING", peerAddress: `ipv4:10.1.2.3:${4000 + i}` })));
    expect(out[2]![0]).toMatchObject({ key: "peer:10.1.2.3", level: "IV" });
    expect(peerHostOf("ipv6:[::1]:5000")).toBe("::1");
  });
  it("ok/quiet on answered calls and on distinct certificates", () => {
    const d = createCertificateAbuseDetector({ windowMs: 300_000, threshold: 3 });
    const out = [
      ...Array.from({ length: 10 }, (_, i) => d.observeExchange!(obs(i))),
      ...Array.from({ length: 10 }, (_, i) => d.observeExchange!(obs(i, { authenticated: false, reason: "AGENCY_UNKNOWN", certFingerprint: `f${i}` }))),
    ];
    expect(all(out)).toEqual([]);
  });
});

describe("subject-enumeration", () => {
  it("fires when one agency touches many distinct subjects, with pseudonyms as evidence", () => {
    const d = createSubjectEnumerationDetector({ windowMs: 600_000, distinctSubjects: 10 });
    const out = Array.from({ length: 12 }, (_, i) => d.observeExchange!(obs(i * 1000, { subjectPseudonym: `p${i}` })));
    expect(out.slice(0, 9).flat()).toEqual([]);
    expect(out[9]![0]).toMatchObject({ detector: "subject-enumeration", key: "bank-a", level: "III", category: "information-destruction", count: 10 });
    expect(out[9]![0]!.pseudonyms).toHaveLength(10);
    expect(out[10]![0]).toMatchObject({ count: 1, pseudonyms: ["p10"] });
  });
  it("ok/quiet on many queries about few subjects, and on subjects spread over time", () => {
    const d = createSubjectEnumerationDetector({ windowMs: 600_000, distinctSubjects: 10 });
    const repeated = Array.from({ length: 100 }, (_, i) => d.observeExchange!(obs(i, { subjectPseudonym: `p${i % 5}` })));
    const slow = Array.from({ length: 30 }, (_, i) => d.observeExchange!(obs(1_000_000 + i * 120_000, { subjectPseudonym: `q${i}` })));
    expect(all([...repeated, ...slow])).toEqual([]);
  });
});

describe("consent-misuse", () => {
  it("fires on repeated consent refusals", () => {
    const d = createConsentMisuseDetector({ windowMs: 600_000, threshold: 4 });
    const out = Array.from({ length: 4 }, (_, i) => d.observeExchange!(obs(i, { reason: i % 2 ? "CONSENT_REQUIRED" : "CONSENT_SUBJECT_MISMATCH" })));
    expect(out[3]![0]).toMatchObject({ detector: "consent-misuse", key: "bank-a", count: 4 });
  });
  it("fires on repeated attempts around consent: special grants without it, exemptions not held (Art. 13, 18; PIPL Art. 29)", () => {
    const d = createConsentMisuseDetector({ windowMs: 600_000, threshold: 3 });
    const reasons = ["SPECIAL_GRANT_CONSENT_REQUIRED", "STATUTORY_EXEMPTION_NOT_APPLICABLE", "STATUTORY_EXEMPTION_UNKNOWN"];
    const out = reasons.map((reason, i) => d.observeExchange!(obs(i, { reason })));
    expect(out[2]![0]).toMatchObject({ detector: "consent-misuse", key: "bank-a", count: 3, attributes: { last_reason: "STATUTORY_EXEMPTION_UNKNOWN" } });
  });
  it("ok/quiet on a few refusals", () => {
    const d = createConsentMisuseDetector({ windowMs: 600_000, threshold: 4 });
    expect(all(Array.from({ length: 3 }, (_, i) => d.observeExchange!(obs(i, { reason: "CONSENT_REQUIRED" }))))).toEqual([]);
  });
});

describe("provider-outage", () => {
  it("fires per provider on repeated UNAVAILABLE or DEADLINE_EXCEEDED", () => {
    const d = createProviderOutageDetector({ windowMs: 60_000, threshold: 3 });
    const out = Array.from({ length: 3 }, (_, i) =>
      d.observeExchange!(obs(i, { providers: [{ agencyId: "safe", status: i ? "UNAVAILABLE" : "DEADLINE_EXCEEDED" }, { agencyId: "csrc", status: "OK" }] })),
    );
    expect(out[2]).toHaveLength(1);
    expect(out[2]![0]).toMatchObject({ key: "safe", category: "equipment-failure" });
  });
  it("ok/quiet on one failure and on OK calls", () => {
    const d = createProviderOutageDetector({ windowMs: 60_000, threshold: 3 });
    const out = [d.observeExchange!(obs(0, { providers: [{ agencyId: "safe", status: "UNAVAILABLE" }] })), ...Array.from({ length: 10 }, (_, i) => d.observeExchange!(obs(i, { providers: [{ agencyId: "safe", status: "OK" }] })))];
    expect(all(out)).toEqual([]);
  });
});

describe("event detectors", () => {
  const at = new Date(T0);
  it("prohibited-data fires per event, level III, keyed by provider", () => {
    const d = createProhibitedDataDetector();
    expect(d.observeEvent!({ kind: "prohibited-data", at, provider: "cbirc", exchangeId: "x", recordId: "r1", fieldName: "blood_type" })[0]).toMatchObject({ key: "cbirc", level: "III" });
    expect(d.observeEvent!({ kind: "policy-rejected", at, revision: "r", problem: "p" })).toEqual([]);
  });
  it("item 6: provider-data-quality feeds one incident per provider with the counts of each exchange", () => {
    const d = createProviderDataQualityDetector();
    const event = { kind: "provider-data-quality" as const, at, provider: "sh-credit", exchangeId: "x", mislabelledRecords: 3, mislabelledFields: 2, properties: ["level", "negative"], recordIds: ["r1"] };
    expect(d.observeEvent!(event)[0]).toMatchObject({ key: "sh-credit", level: "IV", count: 5, attributes: { properties: "level,negative" } });
    expect(d.observeEvent!({ kind: "policy-rejected", at, revision: "r", problem: "p" })).toEqual([]);
  });
  it("provider-data-quality also reports fields the catalogue does not list and negative records without an end (Art. 16), with names as evidence", () => {
    const d = createProviderDataQualityDetector();
    const event = {
      kind: "provider-data-quality" as const, at, provider: "safe", exchangeId: "x", mislabelledRecords: 0, mislabelledFields: 0, properties: [], recordIds: [],
      unknownFields: 2, unknownFieldNames: ["internal_note", "risk_flag"], negativeWithoutEnd: 1,
    };
    const [finding] = d.observeEvent!(event);
    expect(finding).toMatchObject({ key: "safe", level: "IV", count: 3, attributes: { last_unknown_fields: "2", last_unknown_field_names: "internal_note,risk_flag", last_negative_without_end: "1" } });
    expect(finding!.summary).toBe("provider safe sent 2 field(s) the catalogue does not list for their category; sent 1 negative record(s) with no end and no ongoing confirmation (Art. 16); the gateway applied the catalogue");
  });
  it("audit-degraded is level III near the spool bound, IV before; and on fail-closed exchanges", () => {
    const d = createAuditDegradedDetector({ spoolCriticalRatio: 0.8 });
    expect(d.observeEvent!({ kind: "audit-degraded", at, detail: "spool in use", spoolBytes: 10, spoolMaxBytes: 100 })[0]!.level).toBe("IV");
    expect(d.observeEvent!({ kind: "audit-degraded", at, detail: "spool filling", spoolBytes: 90, spoolMaxBytes: 100 })[0]!.level).toBe("III");
    expect(d.observeExchange!(obs(0, { reason: "AUDIT_SPOOL_FULL" }))[0]!.level).toBe("III");
    expect(d.observeExchange!(obs(0))).toEqual([]);
  });
  it("certificate-expiry is level III within a day, IV before", () => {
    const d = createCertificateExpiryDetector({ criticalMs: 86_400_000 });
    expect(d.observeEvent!({ kind: "certificate-expiry", at, fingerprint: "f", owner: "gateway", notAfter: new Date(T0 + 3_600_000) })[0]!.level).toBe("III");
    expect(d.observeEvent!({ kind: "certificate-expiry", at, fingerprint: "f", owner: "gateway", notAfter: new Date(T0 + 10 * 86_400_000) })[0]!.level).toBe("IV");
  });
  it("objection-overdue fires once per objection past its Art. 25 deadline, and only on that event", () => {
    const d = createObjectionOverdueDetector();
    const event = { kind: "objection-overdue" as const, at, objectionId: "obj-1", ownerAgency: "safe", recordId: "safe-V-0001", dueAt: new Date(T0 - 86_400_000) };
    expect(d.observeEvent!(event)).toEqual([expect.objectContaining({ detector: "objection-overdue", key: "obj-1", level: "IV", attributes: expect.objectContaining({ owner: "safe" }) })]);
    expect(d.observeEvent!({ kind: "policy-rejected", at, revision: "r", problem: "p" })).toEqual([]);
  });
  it("audit-chain-restarted: every announced restart is its own level III information-destruction incident, and only that event", () => {
    const d = createAuditChainRestartedDetector();
    const event = { kind: "audit-chain-restarted" as const, at, instance: "gw-1", sequence: 130n, reason: "the chain state … is missing", previousCheckpoint: "sequence 129 (audit.log:130)" };
    expect(d.observeEvent!(event)).toEqual([
      expect.objectContaining({ detector: "audit-chain-restarted", key: "gw-1/130", category: "information-destruction", level: "III", summary: expect.stringContaining("previous chain's last checkpoint: sequence 129") }),
    ]);
    expect(d.observeEvent!({ kind: "policy-rejected", at, revision: "r", problem: "p" })).toEqual([]);
  });
  it("policy-rejected: a bad signature is a level III attack, an invalid rule is level IV", () => {
    const d = createPolicyRejectedDetector();
    expect(d.observeEvent!({ kind: "policy-rejected", at, revision: "r7", problem: "signature does not verify" })[0]).toMatchObject({ level: "III", category: "network-attack" });
    expect(d.observeEvent!({ kind: "policy-rejected", at, revision: "r8", problem: "unknown category" })[0]).toMatchObject({ level: "IV", category: "other" });
  });
});

describe("posture-regression and the detector list", () => {
  it("a critical control is level III, others IV", () => {
    const d = createPostureRegressionDetector();
    const at = new Date(T0);
    expect(d.observeEvent!({ kind: "posture-regression", at, control: "audit-sealing", clause: "8.1.4.3", detail: "off", critical: true })[0]).toMatchObject({ key: "audit-sealing", level: "III" });
    expect(d.observeEvent!({ kind: "posture-regression", at, control: "kafka-rf", clause: "8.1.4.3", detail: "rf 1", critical: false })[0]!.level).toBe("IV");
  });
  it("DETECTOR_NAMES names every detector createDetectors builds", () => {
    expect(createDetectors(DEFAULT_DETECTOR_SETTINGS).map((d) => d.name)).toEqual([...DETECTOR_NAMES]);
  });
});

describe("reset after an officer resolves", () => {
  it("subject-enumeration counts afresh for the key", () => {
    const d = createSubjectEnumerationDetector({ windowMs: 600_000, distinctSubjects: 3 });
    for (let i = 0; i < 3; i++) d.observeExchange!(obs(i, { subjectPseudonym: `p${i}` }));
    d.reset!("bank-a");
    expect(d.observeExchange!(obs(10, { subjectPseudonym: "p9" }))).toEqual([]);
  });
  it("denial-burst counts afresh for the key", () => {
    const d = createDenialBurstDetector({ windowMs: 60_000, threshold: 2 });
    d.observeExchange!(obs(0, { reason: "EXPLICITLY_DENIED" }));
    d.reset!("bank-a");
    expect(d.observeExchange!(obs(1, { reason: "EXPLICITLY_DENIED" }))).toEqual([]);
  });
});
