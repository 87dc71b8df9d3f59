/**
 * Chaos: the gateway process is SIGKILLed under load and started again on the
 * same config, audit file (or Kafka topic) and chain state. Every exchange a
 * caller saw answered has exactly one audit event, the audit chain verifies
 * across the crash (no gap, no fork), and the restarted gateway serves within
 * RESTART_BOUND_MS. Run once with each audit sink: the file sink's chain state
 * is checked against its file; the Kafka sink finds what Kafka acknowledged
 * after its last saved head in the topic.
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { DEMO_TRUST_DOMAIN } from "../../src/demo/federation.js";
import { createExchangeClient, type ExchangeClient } from "../../src/client/exchange-client.js";
import { startTestFederation } from "../support/federation.js";
import { spawnGateway, type GatewayProcess } from "../support/gateway-process.js";
import { expectAnsweredAudited, readAuditLog, readKafkaAudit, type AuditLogState } from "../support/chaos.js";
import { kafkaBrokers } from "../support/kafka.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
const processes: GatewayProcess[] = [];
const clients: ExchangeClient[] = [];

/** Stated bound: from spawn to the first answered exchange after a SIGKILL. */
const RESTART_BOUND_MS = 10_000;
const WORKERS = 6;
const KILL_ROUNDS = 3;

afterAll(() => {
  clients.forEach((c) => c.close());
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
});

function clientOf(fed: TestFederation, address: string): ExchangeClient {
  const member = fed.pki.agencies["pbccrc"]!;
  const client = createExchangeClient({ address, trustDomain: DEMO_TRUST_DOMAIN, certFile: member.client.cert, keyFile: member.client.key, caFile: fed.pki.caBundle });
  clients.push(client);
  return client;
}

const query = (client: ExchangeClient, timeoutMs = 5_000) =>
  client.query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty", "securities_violation"], purpose: Purpose.LOAN_APPROVAL }, { timeoutMs });

describe.each(["file", "kafka"] as const)("chaos: gateway SIGKILL under load, %s audit sink", (sink) => {
  let fed: TestFederation;
  const tag = `kill-${Math.random().toString(36).slice(2, 8)}`;
  let kafka: { brokers: string; topic: string; checkpointTopic: string } | undefined;
  beforeAll(async () => {
    if (sink === "kafka") kafka = { brokers: kafkaBrokers(), topic: `audit.${tag}`, checkpointTopic: `audit-cp.${tag}` };
    fed = await startTestFederation(kafka ? { kafkaBrokers: kafka.brokers, kafkaAuditTopics: { topic: kafka.topic, checkpointTopic: kafka.checkpointTopic } } : {});
    // The in-process gateway steps aside; its config, audit file and chain state are the child's.
    await fed.gateway.stop(1_000);
  });
  afterAll(async () => {
    await Promise.all([...fed.agencies.keys()].map((id) => fed.stopAgency(id)));
    await rm(fed.dir, { recursive: true, force: true });
  });
  // Read after the last gateway's clean stop: every record, across the kills, must be under a checkpoint it signed.
  const readAudit = (): Promise<AuditLogState> => {
    const how = { signers: [readFileSync(fed.pki.gateway.cert, "utf8")] };
    return kafka ? readKafkaAudit({ ...kafka, instance: fed.gateway.config.instance }, fed.manifest.keyRing, how) : readAuditLog(fed.manifest.auditLog, fed.manifest.keyRing, how);
  };

  it(`kill -9 mid-load ${KILL_ROUNDS} times, restart each time: answered ⇒ audited exactly once, chain verifies, serving again within ${RESTART_BOUND_MS} ms`, async () => {
    const answered = new Set<string>();
    let cutOff = 0;
    const restartMs: number[] = [];

    let current = await spawnGateway(fed.configFile);
    processes.push(current);
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const client = clientOf(fed, current.address);
      let stop = false;
      const workers = Array.from({ length: WORKERS }, async () => {
        while (!stop) {
          try {
            answered.add((await query(client)).exchangeId);
          } catch {
            cutOff++;
            return; // the gateway is gone: this worker's part is over
          }
        }
      });
      // Kill once the load is well under way (at a varying point, so the kill lands in different places).
      const target = answered.size + 30 + round * 17;
      const started = Date.now();
      while (answered.size < target && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 5));
      current.child.kill("SIGKILL");
      expect((await current.exited).signal).toBe("SIGKILL");
      stop = true;
      await Promise.all(workers);

      const restartAt = Date.now();
      current = await spawnGateway(fed.configFile);
      processes.push(current);
      answered.add((await query(clientOf(fed, current.address), RESTART_BOUND_MS)).exchangeId);
      restartMs.push(Date.now() - restartAt);
    }
    expect(Math.max(...restartMs)).toBeLessThan(RESTART_BOUND_MS);
    const second = current;
    const client2 = clientOf(fed, second.address);
    for (let i = 0; i < 20; i++) answered.add((await query(client2)).exchangeId);

    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);

    const log = await readAudit();
    expect(log.invalidLines).toBe(0);
    expectAnsweredAudited(log, answered);
    // Records may exist for exchanges whose answer the kill cut off (audited, never answered): never the reverse.
    expect(log.events.length).toBeGreaterThanOrEqual(answered.size);
    console.info(
      `gateway SIGKILL x${KILL_ROUNDS}, ${sink} sink: ${answered.size} answered, ${cutOff} calls cut off, ${log.events.length - answered.size} audited but unanswered, first answer after restart in ${restartMs.join("/")} ms`,
    );
  });
});
