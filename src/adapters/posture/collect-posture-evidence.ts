import { readFile, stat } from "node:fs/promises";
import { request } from "node:http";
import { dirname } from "node:path";
import type { GatewayConfig } from "../../config/gateway-config.js";
import { loadKeyRing, type KeyRing } from "../../core/audit/key-ring.js";
import type { CertificateFact, CrlFact, PostureEvidence, TelemetryEvidence } from "../../core/posture/posture-evidence.js";
import { DEFAULT_TLS12_CIPHERS } from "../grpc/server-credentials.js";
import { auditVerificationOf } from "../audit/verify-result-file.js";
import { gatewayCheckpointTrust } from "../audit/gateway-checkpoint-trust.js";
import { describeAuditTopics } from "../kafka/audit-topic-facts.js";
import { certificateFactsOf, findAdminCertificates } from "./certificate-facts.js";
import { crlValidityOf } from "./crl-validity.js";
import { probeTls } from "./tls-probe.js";

export interface PostureSources {
  readonly config: GatewayConfig;
  /** Declared level, GB/T 22239-2019 (1..5). */
  readonly level: number;
  /** A running gateway to probe (host:port, loopback in dev). */
  readonly address?: string | undefined;
  /** Agency client certificates known to the operator (e.g. from federation.json). */
  readonly agencyCertificates?: ReadonlyArray<{ readonly id: string; readonly cert: string }>;
  /** Folder searched for administrator certificates (default: the folder of tls.cert). */
  readonly adminCertificateDir?: string;
  /** Why no address is given (shown as evidence), e.g. "gateway at … not reachable: configuration only". */
  readonly liveNote?: string | undefined;
  /** The running gateway's metrics URL, to check that it answers. */
  readonly metricsUrl?: string | undefined;
  /** Whether spans leave the process (default: an otlpEndpoint is configured). */
  readonly tracesExported?: boolean;
  /** Run the audit chain verifier on a file sink when no recent result file exists (the CLI does; the periodic check does not). */
  readonly verifyAuditNow: boolean;
  readonly now?: Date;
}

/** Collects the evidence the posture checks judge; never throws for a missing or broken source (that is evidence too). */
export async function collectPostureEvidence(sources: PostureSources): Promise<PostureEvidence> {
  const { config } = sources;
  const now = sources.now ?? new Date();

  const certificates: CertificateFact[] = [];
  const addCerts = async (file: string, role: string, all = false) => {
    try {
      certificates.push(...(await certificateFactsOf(file, role, all)));
    } catch {
      // An unreadable certificate shows as missing from the key-size and expiry evidence.
    }
  };
  await addCerts(config.tls.cert, "gateway");
  await addCerts(config.tls.ca, "CA", true);
  for (const a of sources.agencyCertificates ?? []) await addCerts(a.cert, `agency ${a.id}`);
  const admin = await findAdminCertificates(sources.adminCertificateDir ?? dirname(config.tls.cert), config.trustDomain);
  certificates.push(...admin.facts);

  let keyRing: KeyRing | undefined;
  let keyRingFact: PostureEvidence["audit"]["keyRing"];
  try {
    keyRing = await loadKeyRing(config.audit.keyRing);
    keyRingFact = { ok: true, keys: keyRing.keyIds.length, activeKeyId: keyRing.activeKeyId };
  } catch (err) {
    keyRingFact = { ok: false, error: (err as Error).message };
  }

  const [live, crl, verification, kafka, telemetry, policy] = await Promise.all([
    sources.address ? probeTls(sources.address) : Promise.resolve(undefined),
    config.tls.crl.length > 0 ? stalestCrlOf(config.tls.crl) : Promise.resolve(undefined),
    auditVerificationOf({ auditFile: config.audit.file, sink: config.audit.sink, verifyNow: sources.verifyAuditNow, keyRing, signers: await gatewayCheckpointTrust(config), now }).catch(
      (err: Error) => ({ source: "none" as const, detail: err.message }),
    ),
    config.audit.sink === "kafka" && config.audit.kafka ? describeAuditTopics(config.audit.kafka.brokers, [config.audit.kafka.topic, config.audit.kafka.checkpointTopic], undefined, config.kafka?.tls) : Promise.resolve(undefined),
    telemetryOf(config, sources),
    policyOf(config),
  ]);

  return {
    level: sources.level,
    now,
    tls: {
      minVersion: config.tls.minVersion,
      tls12Ciphers: DEFAULT_TLS12_CIPHERS.split(":"),
      clientCertificatesRequired: true,
      clientCertificateDetail:
        `every handshake asks for a client certificate and the first stage (authenticate) refuses any call without one chaining to ${config.tls.ca}` +
        " (CLIENT_CERT_MISSING, CLIENT_CERT_UNTRUSTED, CLIENT_CERT_REVOKED, CLIENT_IDENTITY_MISMATCH)",
      live,
      liveNote: sources.liveNote,
    },
    certificates,
    crl,
    audit: { sink: config.audit.sink, suite: config.audit.suite, keyRing: keyRingFact, verification, kafka },
    adminCertificates: admin.admins,
    policy,
    telemetry,
  };
}

/** Of several CRLs (root and issuing CA), the one that needs attention first: unreadable, else the earliest nextUpdate. */
async function stalestCrlOf(files: readonly string[]): Promise<CrlFact> {
  const facts = await Promise.all(files.map(crlFactOf));
  const broken = facts.find((f) => "error" in f && f.error !== undefined);
  if (broken) return broken;
  return facts.reduce((a, b) => ((a as { nextUpdate?: Date }).nextUpdate! <= (b as { nextUpdate?: Date }).nextUpdate! ? a : b));
}

async function crlFactOf(file: string): Promise<CrlFact> {
  try {
    const v = crlValidityOf(await readFile(file));
    return { file, thisUpdate: v.thisUpdate, nextUpdate: v.nextUpdate };
  } catch (err) {
    return { file, error: (err as Error).message };
  }
}

async function policyOf(config: GatewayConfig): Promise<PostureEvidence["policy"]> {
  const signature = `${config.policy.policy}.sig`;
  const hasSignature = await stat(signature).then(
    () => true,
    () => false,
  );
  return {
    signed: undefined,
    detail: hasSignature
      ? `${signature} exists but this build does not verify policy bundles`
      : `policy loaded from plain files (${config.policy.policy}); no signed policy bundle configured`,
  };
}

async function telemetryOf(config: GatewayConfig, sources: PostureSources): Promise<TelemetryEvidence> {
  const o = config.observability;
  const tracesExported = sources.tracesExported ?? o?.otlpEndpoint !== undefined;
  if (!o) return { tracesExported: false, detail: "no observability section in the config: no metrics endpoint, no trace export" };
  // Probed only when a running gateway is being looked at: a stopped one serves nothing by design.
  const url = sources.metricsUrl ?? (sources.address && !o.metricsListen.endsWith(":0") ? `http://${o.metricsListen}/metrics` : undefined);
  if (!url) return { metricsEndpoint: `http://${o.metricsListen}/metrics${o.metricsListen.endsWith(":0") ? " (port chosen at start)" : ""}`, tracesExported, detail: "" };
  const answer = await httpGetStatus(url, 2_000);
  return { metricsEndpoint: url, metricsAnswered: answer === 200, tracesExported, detail: answer === 200 ? "" : `status ${answer}` };
}

/** Status code of a GET, or the error text. */
function httpGetStatus(url: string, timeoutMs: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve(err.message));
    req.end();
  });
}
