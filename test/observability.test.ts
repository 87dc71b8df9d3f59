import { readFileSync } from "node:fs";
import { Server, type ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { CreditProvider, FetchResponseSchema } from "../src/gen/credex/v1/provider_pb.js";
import { serviceDefinitionOf } from "../src/adapters/grpc/service-definition.js";
import { ReloadableServerCredentials, DEFAULT_TLS12_CIPHERS } from "../src/adapters/grpc/server-credentials.js";
import { readTlsMaterial } from "../src/gateway/tls-files.js";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { createJsonLogger } from "../src/adapters/log/json-logger.js";
import { issueCertificate, loadCa } from "../src/adapters/pki/certificate-authority.js";
import { writePublicFile } from "../src/adapters/pki/pem-files.js";
import { createKafkaTopics } from "../src/adapters/kafka/kafka-admin.js";
import { collectPostureEvidence } from "../src/adapters/posture/collect-posture-evidence.js";
import { verifyResultPathOf } from "../src/adapters/audit/verify-result-file.js";
import { parseGatewayConfig } from "../src/config/gateway-config.js";
import { evaluatePosture } from "../src/core/posture/evaluate-posture.js";
import type { ControlResult, PostureReport } from "../src/core/posture/posture-evidence.js";
import { postureOfFederationDir } from "../src/cli/commands/posture.js";
import { auditEventOf, failureOf, startTestFederation } from "./support/federation.js";
import { kafkaBrokers } from "./support/kafka.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
const logLines: Array<Record<string, unknown>> = [];
const regressions: ControlResult[] = [];

beforeAll(async () => {
  const logger = createJsonLogger({ component: "gateway", level: "debug", write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
  fed = await startTestFederation({ parts: { logger, onPostureRegression: (c) => regressions.push(c) } });
});
afterAll(async () => {
  await fed?.cleanup();
});

const company = DEMO_SUBJECTS.tradingCompany;

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

/** Sum of the samples of `metric` whose labels include all of `labels`. */
function sample(text: string, metric: string, labels: Record<string, string> = {}): number | undefined {
  let found: number | undefined;
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== metric) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) found = (found ?? 0) + Number(m[3]);
  }
  return found;
}

const statuses = (r: PostureReport) => Object.fromEntries(r.controls.map((c) => [c.id, c.status]));

describe("metrics, traces and logs of real exchanges", () => {
  const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  beforeAll(async () => {
    const allowed = { subject: company, categories: ["administrative_penalty", "securities_violation"], purpose: Purpose.LOAN_APPROVAL };
    await fed.client("pbccrc").query({ ...allowed, requestId: "obs-1" }, { metadata: { traceparent: caller } });
    await fed.client("pbccrc").query({ ...allowed, requestId: "obs-2" });
    await fed.client("nfra").query({ ...allowed, requestId: "obs-3" });
    const denied = await failureOf(fed.client("csrc").query({ subject: company, categories: ["loan_overdue"], purpose: Purpose.LOAN_APPROVAL, requestId: "obs-4" }));
    expect(denied.reason).toBe("PURPOSE_NOT_PERMITTED");
  });

  it("counts on the Prometheus endpoint exactly the exchanges that happened, with stage latency histograms", async () => {
    expect(fed.manifest.metrics).toBe(fed.gateway.observability?.metricsUrl);
    const manifest = JSON.parse(await readFile(join(fed.dir, "federation.json"), "utf8")) as { metrics?: string };
    expect(manifest.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const { status, body } = await get(fed.manifest.metrics!);
    expect(status).toBe(200);
    expect(sample(body, "credex_exchanges_total", { method: "Query", decision: "allow", outcome: "ok" })).toBe(3);
    expect(sample(body, "credex_exchanges_total", { method: "Query", decision: "deny", outcome: "PURPOSE_NOT_PERMITTED" })).toBe(1);
    expect(sample(body, "credex_exchanges_total")).toBe(4);
    expect(sample(body, "credex_stage_duration_seconds_count", { stage: "authenticate" })).toBe(4);
    expect(sample(body, "credex_stage_duration_seconds_count", { stage: "fetch" })).toBe(3);
    expect(sample(body, "credex_stage_duration_seconds_count", { stage: "audit" })).toBe(4);
    expect(sample(body, "credex_stage_duration_seconds_bucket", { stage: "fetch", le: "+Inf" })).toBe(3);
    expect(sample(body, "credex_provider_call_duration_seconds_count")).toBeGreaterThanOrEqual(3);
    expect(sample(body, "credex_provider_errors_total")).toBeUndefined();
    expect(sample(body, "credex_policy_revision_info", { revision: fed.gateway.authorizer().revision })).toBe(1);
    expect(sample(body, "credex_audit_queue_depth")).toBe(0);
    expect(sample(body, "credex_audit_append_duration_seconds_count", { medium: "file" })).toBe(4);
    expect((await get(fed.manifest.metrics!.replace(/\/metrics$/, "/other"))).status).toBe(404);
  });

  it("continues the caller's trace: the audit record and the exchange log line carry its trace id, the log never the subject id", async () => {
    const event = await auditEventOf(fed, (e) => e.requestId === "obs-1");
    expect(event.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    const exchangeLines = logLines.filter((l) => l["component"] === "exchange");
    expect(exchangeLines).toHaveLength(4);
    const line = exchangeLines.find((l) => l["trace_id"] === "0af7651916cd43dd8448eb211c80319c")!;
    expect(line).toMatchObject({ msg: "exchange", agency: "pbccrc", decision: "allow", outcome: "ok", subject_pseudonym: event.subjectPseudonym });
    expect(exchangeLines.map((l) => l["outcome"]).sort()).toEqual(["PURPOSE_NOT_PERMITTED", "ok", "ok", "ok"]);
    expect(JSON.stringify(logLines)).not.toContain(company.id);
  });
});

describe("posture of the demo configuration", () => {
  it("gives the expected result per control (2048-bit test PKI, file sink, both CRLs, three administrator certificates)", async () => {
    const report = await postureOfFederationDir(fed.dir, 3);
    expect(statuses(report)).toEqual({
      "tls-versions": "pass",
      "tls-cipher-suites": "pass",
      "client-certificates": "pass",
      "key-sizes": "warn",
      "certificate-expiry": "pass",
      "crl-freshness": "pass",
      "audit-sealing": "pass",
      "audit-chain-verified": "pass",
      "audit-retention": "warn",
      "audit-replication": "warn",
      "admin-separation": "pass",
      "policy-signed": "warn",
      "telemetry-exporting": "warn",
    });
    const byId = new Map(report.controls.map((c) => [c.id, c]));
    // The live probe saw what the gateway really offers.
    expect(byId.get("tls-versions")!.evidence).toMatch(/TLS 1\.3 accepted .*TLS 1\.2 refused .*TLS 1\.1 refused/);
    // Gateway, two CAs, three administrators and one client certificate per demo agency (nine member types).
    expect(byId.get("key-sizes")!.evidence).toMatch(/^RSA 2048: 15 /);
    expect(byId.get("audit-chain-verified")!.evidence).toMatch(/verified now: \d+ records, no breaks/);
    expect(byId.get("telemetry-exporting")!.evidence).toMatch(/\(answered\); traces not exported/);
    expect(byId.get("audit-sealing")!.clause).toBe("GB/T 22239-2019 8.1.4.3 c) security audit (安全审计); 8.1.4.7 data integrity (数据完整性)");
  });

  it("still passes admin separation with more administrator certificates, and fails a verification that found breaks", async () => {
    const issuer = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
    await mkdir(join(fed.dir, "pki", "admin"), { recursive: true });
    for (const role of ["system", "security", "audit"] as const) {
      const issued = await issueCertificate({ kind: "admin", issuer, trustDomain: fed.pki.trustDomain, name: `officer-${role}`, role, keyBits: 2048 });
      await writePublicFile(join(fed.dir, "pki", "admin", `${role}.crt`), issued.chainPem);
    }
    const resultFile = verifyResultPathOf(fed.manifest.auditLog);
    await writeFile(resultFile, JSON.stringify({ schema: 1, verifiedAt: new Date().toISOString(), ok: false, records: 9, breaks: 1, source: "audit.log" }));
    try {
      const report = await postureOfFederationDir(fed.dir, 3);
      expect(statuses(report)["admin-separation"]).toBe("pass");
      expect(statuses(report)["audit-chain-verified"]).toBe("fail");
      expect(report.controls.find((c) => c.id === "key-sizes")!.evidence).toMatch(/^RSA 2048: 18 /);
    } finally {
      await writeFile(resultFile, JSON.stringify({ schema: 1, verifiedAt: new Date().toISOString(), ok: true, records: 9, breaks: 0, source: "audit.log" }));
    }
  });

  it("the gateway's periodic check reports a control going from pass to fail and sets the failing-controls metric", async () => {
    const observability = fed.gateway.observability!;
    const before = await observability.checkPosture();
    expect(before && statuses(before)["audit-sealing"]).toBe("pass");
    const keyRing = await readFile(fed.manifest.keyRing);
    await writeFile(fed.manifest.keyRing, "{ not a key ring");
    try {
      const after = await observability.checkPosture();
      expect(after && statuses(after)["audit-sealing"]).toBe("fail");
      expect(regressions.map((c) => c.id)).toEqual(["audit-sealing"]);
      const { body } = await get(fed.manifest.metrics!);
      expect(sample(body, "credex_posture_controls_failing")).toBe(after!.failing);
      expect(sample(body, "credex_posture_control_status", { control: "audit-sealing" })).toBe(2);
    } finally {
      await writeFile(fed.manifest.keyRing, keyRing);
    }
  });
});

describe("audit topic retention and replication (Kafka)", () => {
  it("fails a topic kept 7 days and warns on a single replica", async () => {
    const brokers = kafkaBrokers();
    const suffix = Math.random().toString(16).slice(2, 8);
    const topic = `posture-audit-${suffix}`;
    const checkpoints = `posture-checkpoints-${suffix}`;
    await createKafkaTopics(brokers, [
      { topic, configs: { "retention.ms": String(7 * 86_400_000) } },
      { topic: checkpoints, configs: { "retention.ms": "-1" } },
    ]);
    const document = parseYaml(await readFile(fed.configFile, "utf8")) as Record<string, Record<string, unknown>>;
    document["audit"] = { ...document["audit"], sink: "kafka", kafka: { brokers: brokers.split(","), topic, checkpointTopic: checkpoints } };
    const config = parseGatewayConfig(fed.configFile, document);
    const report = evaluatePosture(await collectPostureEvidence({ config, level: 3, verifyAuditNow: false }));
    const byId = new Map(report.controls.map((c) => [c.id, c]));
    expect(byId.get("audit-retention")!.status).toBe("fail");
    expect(byId.get("audit-retention")!.evidence).toBe(`${topic} retention 7 days; ${checkpoints} retention forever — below 180 days (Cybersecurity Law Art. 21)`);
    expect(byId.get("audit-replication")!.status).toBe("warn");
    expect(byId.get("audit-replication")!.evidence).toMatch(new RegExp(`^${topic} replication factor 1`));
  });
});

describe("trace context to providers", () => {
  it("sends each provider call a traceparent in gRPC metadata, in the caller's trace", async () => {
    // Replace csrc's provider by one that records the metadata it receives, on the same address.
    const address = fed.agencies.get("csrc")!.address;
    await fed.stopAgency("csrc");
    const seen: string[] = [];
    const server = new Server();
    server.addService(serviceDefinitionOf(CreditProvider), {
      fetch(call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
        seen.push(String(call.metadata.get("traceparent")[0] ?? ""));
        callback(null, create(FetchResponseSchema, { records: [] }));
      },
    } as never);
    const csrcTls = fed.pki.agencies["csrc"]!.server;
    const credentials = new ReloadableServerCredentials(readTlsMaterial({ cert: csrcTls.cert, key: csrcTls.key, ca: fed.pki.caBundle }), { minVersion: "TLSv1.3", ciphers: DEFAULT_TLS12_CIPHERS });
    await new Promise<number>((resolve, reject) => server.bindAsync(address, credentials as ServerCredentials, (err, port) => (err ? reject(err) : resolve(port))));
    try {
      const caller = "00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01";
      await fed.client("pbccrc").query({ subject: company, categories: ["securities_violation"], purpose: Purpose.LOAN_APPROVAL, requestId: "obs-tp" }, { metadata: { traceparent: caller } });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^00-1af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      expect(seen[0]).not.toBe(caller);
    } finally {
      server.forceShutdown();
    }
  });
});
