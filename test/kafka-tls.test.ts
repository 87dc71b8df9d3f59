/**
 * Kafka over TLS with client certificates (mTLS), as the Kubernetes deployment's Strimzi listener
 * requires: a broker of its own with an SSL listener (ssl.client.auth=required) whose key material
 * comes from the dev PKI made here, at run time. The gateway's audit sink writes over it, `credex
 * audit verify` reads over it, and a client without a certificate, or with one of another CA, is
 * refused with an error that says TLS.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaAuditSink } from "../src/adapters/kafka/kafka-audit-sink.js";
import { describeKafkaCluster } from "../src/adapters/kafka/kafka-admin.js";
import { issueCertificate, loadCa } from "../src/adapters/pki/certificate-authority.js";
import { createDevPki, type DevPki } from "../src/adapters/pki/dev-pki.js";
import { issueTestCertificate } from "../src/adapters/pki/test-certificates.js";
import { createCheckpointSigner } from "../src/core/audit/checkpoint.js";
import { generateKeyRing, serializeKeyRing } from "../src/core/audit/key-ring.js";
import { startKafkaBroker, stopKafkaBroker } from "../src/dev/kafka-broker.js";
import type { KafkaTlsFiles } from "../src/config/kafka-tls-files.js";
import { makeSigningIdentity, sampleAuditEvent } from "./support/audit-fixtures.js";
import { credex } from "./support/cli.js";
import { startTestFederation } from "./support/federation.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { usccWithCheck } from "./support/uscc.js";

const BROKER_START_MS = 120_000;
let dir: string;
let pki: DevPki;
let sslBrokers: string;
let gatewayTls: KafkaTlsFiles;
let otherCaTls: KafkaTlsFiles;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "credex-kafka-tls-"));
  pki = await createDevPki(join(dir, "pki"), { trustDomain: "credex.test", agencies: [], keyBits: 2048 });
  const issuing = loadCa(readFileSync(pki.issuingCaCert, "utf8"), readFileSync(pki.issuingCaKey, "utf8"));
  // The broker's certificate: serverAuth, names localhost and 127.0.0.1 (the address the client checks).
  const broker = await issueCertificate({ kind: "provider", name: "kafka-broker", issuer: issuing, trustDomain: pki.trustDomain, keyBits: 2048 });
  gatewayTls = { ca: pki.caBundle, cert: pki.gateway.cert, key: pki.gateway.key };
  // A well-formed client certificate from another CA, which the broker does not trust.
  const other = await issueTestCertificate({ flaw: "other-ca-client", issuer: issuing, trustDomain: pki.trustDomain, agencyId: "outsider", uscc: usccWithCheck(7), sector: "BANK", keyBits: 2048 });
  writeFileSync(join(dir, "other.crt"), other.chainPem);
  writeFileSync(join(dir, "other.key"), other.keyPem, { mode: 0o600 });
  otherCaTls = { ca: pki.caBundle, cert: join(dir, "other.crt"), key: join(dir, "other.key") };
  const started = await startKafkaBroker({
    dataDir: join(dir, "kafka"),
    readyTimeoutMs: BROKER_START_MS - 30_000,
    ssl: { certificateChainPem: broker.chainPem, keyPem: broker.keyPem, trustedCaPem: readFileSync(pki.caBundle, "utf8") },
  });
  sslBrokers = started.sslBrokers!;
}, BROKER_START_MS);

afterAll(async () => {
  await stopKafkaBroker(join(dir, "kafka"), { graceMs: 10_000 }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe("Kafka over TLS with a client certificate (mTLS)", () => {
  it("answers a client with the exchange's gateway certificate on the SSL listener, and advertises the SSL address to it", async () => {
    expect(sslBrokers).toMatch(/^127\.0\.0\.1:\d+$/);
    const cluster = await describeKafkaCluster(sslBrokers, 15_000, gatewayTls);
    expect(cluster.brokers).toEqual([sslBrokers]);
  });

  it("carries the gateway's audit stream: the sink writes over mTLS and `credex audit verify --brokers … --kafka-*` reads and verifies it", async () => {
    const ring = generateKeyRing("k1");
    const identity = makeSigningIdentity("ec");
    writeFileSync(join(dir, "keys.json"), serializeKeyRing(ring), { mode: 0o600 });
    writeFileSync(join(dir, "gw.pem"), identity.certificatePem);
    const sink = await createKafkaAuditSink({
      brokers: sslBrokers,
      tls: gatewayTls,
      keyRing: ring,
      suite: "AES-256-GCM",
      instance: "gw-tls",
      chainStatePath: join(dir, "chain.json"),
      spoolPath: join(dir, "spool.log"),
      topic: "audit.tls",
      checkpointTopic: "audit-cp.tls",
      checkpointSigner: createCheckpointSigner(identity),
    });
    for (let i = 0; i < 5; i++) await sink.append(sampleAuditEvent(i));
    await sink.close();

    const args = ["--brokers", sslBrokers, "--topic", "audit.tls", "--checkpoint-topic", "audit-cp.tls", "--key-ring", join(dir, "keys.json")];
    const tlsFlags = ["--kafka-ca", pki.caBundle, "--kafka-cert", pki.gateway.cert, "--kafka-key", pki.gateway.key];
    const verify = await credex("audit", "verify", ...args, "--cert", join(dir, "gw.pem"), ...tlsFlags);
    expect(verify.stderr + verify.stdout).toMatch(/5 record/);
    expect(verify.code).toBe(0);
    const tail = await credex("audit", "tail", ...args, "--jsonl", ...tlsFlags);
    expect(tail.code).toBe(0);
    expect(tail.stdout.trim().split("\n")).toHaveLength(5);

    // The same reader with another CA's certificate is refused by the broker (bin/credex.js prints the message, exit 1).
    await expect(
      credex("audit", "verify", ...args, "--cert", join(dir, "gw.pem"), "--kafka-ca", pki.caBundle, "--kafka-cert", otherCaTls.cert, "--kafka-key", otherCaTls.key),
    ).rejects.toThrow(/^TLS connection to Kafka broker 127\.0\.0\.1:\d+ refused: .*the broker does not accept this client certificate/);
  }, 90_000);

  it("refuses a client that presents no certificate (ssl.client.auth=required)", async () => {
    // credex's own client always presents one: a bare client of the library shows the broker's side.
    const admin = new Admin({ clientId: "credex-test-no-cert", bootstrapBrokers: [sslBrokers], connectTimeout: 5_000, requestTimeout: 5_000, retries: 0, tls: { ca: readFileSync(pki.caBundle) } });
    try {
      await expect(admin.metadata({ topics: [] })).rejects.toThrow();
    } finally {
      await admin.close().catch(() => undefined);
    }
  });

  it("refuses a plaintext client on the SSL listener", async () => {
    await expect(describeKafkaCluster(sslBrokers, 5_000)).rejects.toThrow();
  });

  it("refuses a client whose certificate was issued by another CA, with an error naming TLS", async () => {
    await expect(describeKafkaCluster(sslBrokers, 10_000, otherCaTls)).rejects.toThrow(
      /^TLS connection to Kafka broker 127\.0\.0\.1:\d+ refused: the broker sent TLS alert \d+ \([^)]+\): the broker does not accept this client certificate/,
    );
  });

  it("does not blame TLS for a broker that is not there", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const err = await describeKafkaCluster(`127.0.0.1:${port}`, 3_000, gatewayTls).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).not.toMatch(/^TLS connection/);
  });

  it("refuses a broker whose certificate does not lead to the configured CA (the client checks the server too)", async () => {
    const otherCa = { ...gatewayTls, ca: otherCaTls.cert };
    await expect(describeKafkaCluster(sslBrokers, 10_000, otherCa)).rejects.toThrow(/^TLS connection to Kafka broker 127\.0\.0\.1:\d+ refused: .*certificate/);
  });

  it("a gateway whose config has kafka.tls audits, keeps its list log, follows its control topic and publishes incidents over mTLS; `credex audit verify` with the same files passes", async () => {
    const run = Date.now().toString(36);
    const topics = { topic: `credex.audit.tls.${run}`, checkpointTopic: `credex.audit-checkpoints.tls.${run}` };
    const fed = await startTestFederation({
      dir: join(dir, `fed-${run}`),
      kafkaBrokers: sslBrokers,
      kafkaAuditTopics: topics,
      // The Kafka cluster's CA is not the exchange's: the federation makes a PKI of its own.
      gatewayConfig: {
        kafka: { tls: gatewayTls },
        control: { kafka: { brokers: [sslBrokers], topic: `credex.control.tls.${run}` } },
        incidents: { kafka: { brokers: [sslBrokers], topic: `credex.incidents.tls.${run}` } },
      },
    });
    try {
      expect(fed.gateway.config.kafka?.tls).toEqual(gatewayTls);
      expect(fed.gateway.config.lists.log).toBe("kafka");
      await fed.client("pbccrc").query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL });
      await (fed.gateway.auditSink() as unknown as { checkpoint(): Promise<void> }).checkpoint();
      const verify = await credex(
        "audit", "verify", "--brokers", sslBrokers, "--topic", topics.topic, "--checkpoint-topic", topics.checkpointTopic, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert,
        "--kafka-ca", gatewayTls.ca, "--kafka-cert", gatewayTls.cert, "--kafka-key", gatewayTls.key,
      );
      expect(verify.code).toBe(0);
      // The incidents topic the gateway created over mTLS, read by the CLI with the same files.
      const incidents = await credex("incidents", "list", "--kafka", sslBrokers, "--topic", `credex.incidents.tls.${run}`, "--kafka-ca", gatewayTls.ca, "--kafka-cert", gatewayTls.cert, "--kafka-key", gatewayTls.key);
      expect(incidents).toMatchObject({ code: 0, stdout: "no incidents\n" });
    } finally {
      await fed.cleanup();
    }
  }, 120_000);

  it("a gateway whose Kafka certificate the broker does not trust does not start (no exchange without its audit record), and says TLS", async () => {
    const run = Date.now().toString(36);
    await expect(
      startTestFederation({ dir: join(dir, `fed-${run}`), kafkaBrokers: sslBrokers, kafkaAuditTopics: { topic: `a.${run}`, checkpointTopic: `c.${run}` }, gatewayConfig: { kafka: { tls: otherCaTls } } }),
    ).rejects.toThrow(/TLS connection to Kafka broker 127\.0\.0\.1:\d+ refused/);
  }, 120_000);
});
