/**
 * Issue 16, item 2: the audit trail cannot be erased without a key. Each test performs the
 * attack end to end on a real gateway (real mTLS, real files, real Kafka for the Kafka sink):
 * someone who can write the gateway's disk truncates or rewrites the log and deletes or forges
 * the chain state; a key-ring holder (officers) appends forged records; records a checkpoint
 * covers disappear from the audit topic. The gateway refuses to start (or, when told to,
 * starts an announced chain and raises an incident) and `credex audit verify` fails naming
 * the range affected.
 */
import { createHash, createHmac, X509Certificate } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { SealSuite } from "../src/gen/credex/v1/audit_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { main } from "../src/cli/main.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import { startMonitoredGateway, type MonitoredGateway } from "../src/gateway/start-monitored-gateway.js";
import { auditLogLine } from "../src/adapters/audit/audit-log-file.js";
import { createKafkaAdmin } from "../src/adapters/kafka/kafka-client.js";
import { createKafkaTopics } from "../src/adapters/kafka/kafka-admin.js";
import { createAuditChain, recordHash } from "../src/core/audit/audit-chain.js";
import { loadKeyRing } from "../src/core/audit/key-ring.js";
import { publicKeyId } from "../src/core/audit/chain-state-key.js";
import { decodeSealedRecord } from "../src/core/audit/seal.js";
import { startTestFederation } from "./support/federation.js";
import { readInstanceKafkaAudit } from "./support/kafka-audit.js";
import { kafkaBrokers, produceRaw } from "./support/kafka.js";
import { sampleAuditEvent } from "./support/audit-fixtures.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
const started: MonitoredGateway[] = [];
const federations: TestFederation[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((g) => g.stop(1_000).catch(() => undefined)));
  await Promise.all(federations.splice(0).map((f) => f.cleanup().catch(() => undefined)));
});

async function federation(kafka?: { brokers: string; topic: string; checkpointTopic: string }): Promise<TestFederation> {
  const fed = await startTestFederation(kafka ? { kafkaBrokers: kafka.brokers, kafkaAuditTopics: { topic: kafka.topic, checkpointTopic: kafka.checkpointTopic } } : {});
  federations.push(fed);
  return fed;
}

async function exchanges(fed: TestFederation, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await fed.client("pbccrc").query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL });
  }
}

/** The federation's gateway stops cleanly (its sink writes a last checkpoint); agencies keep running. */
async function stopGateway(fed: TestFederation): Promise<void> {
  await fed.gateway.stop(2_000);
}

/** The gateway of the federation's config started again in this process, as `credex gateway start` does. */
async function restart(fed: TestFederation, options: { newAuditChain?: boolean } = {}): Promise<MonitoredGateway> {
  const monitored = await startMonitoredGateway(loadGatewayConfig(fed.configFile), undefined, options);
  started.push(monitored);
  return monitored;
}

/** `credex …` in this process: exit code, stdout, stderr. */
async function credex(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const w = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    w.mockRestore();
    e.mockRestore();
  }
}

const lines = (file: string) => readFileSync(file, "utf8").trimEnd().split("\n");
const chainStateOf = (fed: TestFederation) => loadGatewayConfig(fed.configFile).audit.chainState;

describe("item 2: file sink", () => {
  it("item 2: truncate audit.log + delete the chain state + restart → the gateway refuses to start naming the file; verify fails naming the unsigned range", async () => {
    const fed = await federation();
    const log = fed.manifest.auditLog;
    await exchanges(fed, 4);
    await (fed.gateway.auditSink() as unknown as { checkpoint(): Promise<void> }).checkpoint();
    await exchanges(fed, 5);
    await stopGateway(fed);

    // The attacker cuts the log two records after the middle checkpoint and deletes the chain state.
    const all = lines(log);
    const mid = all.findIndex((l) => l.startsWith("C "));
    expect(mid).toBe(4);
    writeFileSync(log, `${all.slice(0, mid + 3).join("\n")}\n`);
    rmSync(chainStateOf(fed));

    await expect(restart(fed)).rejects.toThrow(new RegExp(`chain state ${chainStateOf(fed)} is missing.*${log} holds records of instance ${fed.gateway.config.instance} up to sequence 6`));
    const cli = await Promise.race([credex("gateway", "start", "--config", fed.configFile), new Promise<"still running">((r) => setTimeout(() => r("still running"), 20_000))]);
    expect(cli).toMatchObject({ code: 1, stderr: expect.stringContaining(`credex gateway: refusing to start: the chain state ${chainStateOf(fed)} is missing`) });

    const verify = await credex("audit", "verify", "--file", log, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`first break: unsigned-tail at sequence 5: ${log}:6: sequences 5..6 come after the last signed checkpoint (sequence 4 at ${log}:5)`);
  });

  it("item 2: truncate audit.log + a chain state forged to match it → the gateway refuses to start (the state fails its key check)", async () => {
    const fed = await federation();
    const log = fed.manifest.auditLog;
    await exchanges(fed, 3);
    await (fed.gateway.auditSink() as unknown as { checkpoint(): Promise<void> }).checkpoint();
    await exchanges(fed, 3);
    await stopGateway(fed);
    const all = lines(log);
    writeFileSync(log, `${all.slice(0, 4).join("\n")}\n`); // up to and with the middle checkpoint
    // A state that names the truncated head, as the attacker can compute it from the log alone:
    // in the unkeyed format credex wrote before, and in the keyed one with a MAC under a key of his own.
    const headBytes = Buffer.from(all[2]!.slice(2), "base64");
    const body = { instance: fed.gateway.config.instance, sequence: String(decodeSealedRecord(headBytes).sequence), headHash: Buffer.from(recordHash(headBytes)).toString("hex") };
    const slot = (fields: Record<string, unknown>, size: number) => {
      const text = JSON.stringify({ ...fields, sum: createHash("sha256").update(JSON.stringify(fields)).digest("hex") });
      return `${text}${" ".repeat(size - 1 - text.length)}\n`;
    };
    writeFileSync(chainStateOf(fed), slot(body, 512).repeat(2));
    await expect(restart(fed)).rejects.toThrow(`chain state ${chainStateOf(fed)} was written without a key`);
    // The key id is public (the SHA-256 of the certificate's public key); the MAC needs the private key.
    const keyed = { v: 2, n: "99", ...body, clean: true, key: publicKeyId(new X509Certificate(readFileSync(fed.pki.gateway.cert)).publicKey) };
    const mac = createHmac("sha256", "the attacker's own key").update(JSON.stringify(keyed)).digest("hex");
    const text = JSON.stringify({ ...keyed, sum: createHash("sha256").update(JSON.stringify(keyed)).digest("hex"), mac });
    writeFileSync(chainStateOf(fed), `${text}${" ".repeat(1023 - text.length)}\n`.repeat(2) + "\0".repeat(16_384));
    await expect(restart(fed)).rejects.toThrow(`chain state ${chainStateOf(fed)} fails its key check (slot 1): it was not saved by this gateway's key (edited or forged)`);
  });

  it("item 2: a key-ring holder appends forged records after the last checkpoint → verify fails naming the range; the gateway refuses to start", async () => {
    const fed = await federation();
    const log = fed.manifest.auditLog;
    await exchanges(fed, 3);
    await stopGateway(fed);
    const all = lines(log);
    expect(all.at(-1)!.startsWith("C ")).toBe(true);
    const lastBytes = Buffer.from(all.at(-2)!.slice(2), "base64");
    const last = decodeSealedRecord(lastBytes);
    const ring = await loadKeyRing(fed.manifest.keyRing);
    const forger = createAuditChain({ instance: last.gatewayInstance, sequence: last.sequence, headHash: recordHash(lastBytes) }, ring, SealSuite.AES_256_GCM);
    writeFileSync(log, `${all.join("\n")}\n${[0, 1].map((i) => auditLogLine("record", forger.append(sampleAuditEvent(100 + i)).bytes)).join("")}`);

    const verify = await credex("audit", "verify", "--file", log, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`first break: unsigned-tail at sequence 4: ${log}:5: sequences 4..5 come after the last signed checkpoint (sequence 3 at ${log}:4)`);
    await expect(restart(fed)).rejects.toThrow(new RegExp(`gateway stopped cleanly at sequence 3 .* but ${log} holds records up to sequence 5`));
  });

  it("item 2: a chain with no checkpoint (checkpoint lines stripped) → verify fails", async () => {
    const fed = await federation();
    const log = fed.manifest.auditLog;
    await exchanges(fed, 3);
    await stopGateway(fed);
    writeFileSync(log, `${lines(log).filter((l) => !l.startsWith("C ")).join("\n")}\n`);
    const verify = await credex("audit", "verify", "--file", log, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`first break: no-checkpoint at sequence 1: ${log}:1: no signed checkpoint covers sequences 1..3`);
  });

  it("item 2: --new-audit-chain after truncation + deleted state → an announced chain naming the last checkpoint, an incident, and verify fails naming the restart", async () => {
    const fed = await federation();
    const log = fed.manifest.auditLog;
    await exchanges(fed, 2);
    await (fed.gateway.auditSink() as unknown as { checkpoint(): Promise<void> }).checkpoint();
    await exchanges(fed, 3);
    await stopGateway(fed);
    const all = lines(log);
    writeFileSync(log, `${all.slice(0, 4).join("\n")}\n`); // records 1-2, checkpoint 2, record 3
    rmSync(chainStateOf(fed));

    const monitored = await restart(fed, { newAuditChain: true });
    const incident = monitored.incidents!.manager.list().find((i) => i.detector === "audit-chain-restarted");
    expect(incident).toMatchObject({ category: "information-destruction", level: "III" });
    expect(incident!.summary).toContain("previous chain's last checkpoint: sequence 2");
    await monitored.stop(1_000);

    const verify = await credex("audit", "verify", "--file", log, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`first break: restart at sequence 4: ${log}:5: a new chain was started here`);
    expect(verify.stdout).toContain("the last checkpoint before it covers sequence 2");
    expect(verify.stdout).toContain("records 3..3 are not covered by a checkpoint");
    // The announcement names the previous chain's last checkpoint, readable by officers.
    const tail = await credex("audit", "tail", "--file", log, "--key-ring", fed.manifest.keyRing, "--jsonl");
    const restartEvent = tail.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: { method: string; attributes: Record<string, string> } }).find((e) => e.event.method === "AuditChainRestart");
    expect(restartEvent?.event.attributes).toMatchObject({ previous_checkpoint_sequence: "2", previous_checkpoint_position: `${log}:3` });
  });
});

describe("item 2: Kafka sink", () => {
  const topics = () => {
    const run = Math.random().toString(36).slice(2, 8);
    return { brokers: kafkaBrokers(), topic: `audit.erasure.${run}`, checkpointTopic: `audit-cp.erasure.${run}` };
  };

  it("item 2: delete the chain state + restart → the gateway refuses to start (the checkpoint topic holds this instance's checkpoints)", async () => {
    const kafka = topics();
    const fed = await federation(kafka);
    await exchanges(fed, 3);
    await stopGateway(fed);
    rmSync(chainStateOf(fed));
    await expect(restart(fed)).rejects.toThrow(new RegExp(`chain state ${chainStateOf(fed)} is missing \\(or was never saved\\) but topic ${kafka.checkpointTopic.replaceAll(".", "\\.")} holds checkpoints of instance ${fed.gateway.config.instance} up to sequence 3`));
  });

  it("item 2: --new-audit-chain after the chain state was deleted → the chain goes on after the topic's last record with an announcement naming the last checkpoint, an incident, and verify fails naming the restart", async () => {
    const kafka = topics();
    const fed = await federation(kafka);
    await exchanges(fed, 3);
    await stopGateway(fed);
    rmSync(chainStateOf(fed));
    const monitored = await restart(fed, { newAuditChain: true });
    expect(monitored.incidents!.manager.list().find((i) => i.detector === "audit-chain-restarted")?.summary).toMatch(/restarted at sequence 4; previous chain's last checkpoint: sequence 3 \(audit-cp\.erasure\.\w+\/\d+\/\d+\)/);
    await monitored.stop(1_000);
    const instance = fed.gateway.config.instance;
    const verify = await credex("audit", "verify", "--brokers", kafka.brokers, "--topic", kafka.topic, "--checkpoint-topic", kafka.checkpointTopic, "--instance", instance, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`chain ${instance}: sequences 1..4, 4 records, 3 checkpoints: BROKEN (1 breaks)`);
    expect(verify.stdout).toMatch(/first break: restart at sequence 4: .*: a new chain was started here .* the last checkpoint before it covers sequence 3 .*, and records after sequence 3 may have been removed/);
  });

  it("item 2: a key-ring holder produces forged records after the gateway's clean stop → verify fails naming the range; the gateway refuses to start", async () => {
    const kafka = topics();
    const fed = await federation(kafka);
    await exchanges(fed, 3);
    await stopGateway(fed);
    const instance = fed.gateway.config.instance;
    const ring = await loadKeyRing(fed.manifest.keyRing);
    const { entries } = await readInstanceKafkaAudit(kafka, instance, ring);
    const lastBytes = entries.filter((e) => e.kind === "record").map((e) => e.bytes).find((b) => decodeSealedRecord(b).sequence === 3n)!;
    const forger = createAuditChain({ instance, sequence: 3n, headHash: recordHash(lastBytes) }, ring, SealSuite.AES_256_GCM);
    await produceRaw(kafka.brokers, kafka.topic, [0, 1].map((i) => ({ key: "pbccrc", value: forger.append(sampleAuditEvent(200 + i)).bytes })));

    const verify = await credex("audit", "verify", "--brokers", kafka.brokers, "--topic", kafka.topic, "--checkpoint-topic", kafka.checkpointTopic, "--instance", instance, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/first break: unsigned-tail at sequence 4: .*: sequences 4\.\.5 come after the last signed checkpoint \(sequence 3 at /);
    await expect(restart(fed)).rejects.toThrow(new RegExp(`gateway stopped cleanly at sequence 3 .* but topic ${kafka.topic.replaceAll(".", "\\.")} holds its records up to sequence 5`));
  });

  it("item 2: the audit topic loses records a checkpoint covers (deleted and recreated with the first two) → the gateway refuses to start; verify fails naming the missing range", async () => {
    const kafka = topics();
    const fed = await federation(kafka);
    await exchanges(fed, 5);
    await stopGateway(fed);
    const instance = fed.gateway.config.instance;
    const ring = await loadKeyRing(fed.manifest.keyRing);
    const kept = (await readInstanceKafkaAudit({ ...kafka, checkpointTopic: null }, instance, ring)).entries
      .map((e) => e.bytes)
      .filter((b) => decodeSealedRecord(b).sequence <= 2n)
      .sort((a, b) => Number(decodeSealedRecord(a).sequence - decodeSealedRecord(b).sequence));
    const admin = createKafkaAdmin({ brokers: kafka.brokers, requestTimeoutMs: 20_000 });
    await admin.deleteTopics({ topics: [kafka.topic] });
    await vi.waitFor(async () => expect(await admin.listTopics()).not.toContain(kafka.topic), { timeout: 30_000, interval: 500 });
    await admin.close();
    expect(await createKafkaTopics(kafka.brokers, [{ topic: kafka.topic, partitions: 3 }])).toEqual([kafka.topic]);
    await produceRaw(kafka.brokers, kafka.topic, kept.map((b) => ({ key: "pbccrc", value: b })));

    await expect(restart(fed)).rejects.toThrow(new RegExp(`topic ${kafka.topic.replaceAll(".", "\\.")} ends at offset \\d+ in partition \\d+, before the offset \\d+ the chain state ${chainStateOf(fed)} recorded`));
    const verify = await credex("audit", "verify", "--brokers", kafka.brokers, "--topic", kafka.topic, "--checkpoint-topic", kafka.checkpointTopic, "--instance", instance, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/first break: missing-after-checkpoint at sequence 3: audit-cp\.erasure\.\w+\/\d+\/\d+: sequences 3\.\.5 are missing: the checkpoint covers sequence 5 but the chain ends at 2/);
  });
});
