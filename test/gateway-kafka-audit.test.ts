import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { DecisionEffect } from "../src/gen/credex/v1/audit_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { main } from "../src/cli/main.js";
import { kafkaBrokers } from "./support/kafka.js";
import { auditEvents, failureOf, startTestFederation } from "./support/federation.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
// This run's own topics: a broker reused across runs (KAFKA_BROKERS) holds earlier runs' chains under other key rings.
const run = Date.now().toString(36);
const topics = { topic: `credex.audit.test.${run}`, checkpointTopic: `credex.audit-checkpoints.test.${run}` };

beforeAll(async () => {
  fed = await startTestFederation({ kafkaBrokers: kafkaBrokers(), kafkaAuditTopics: topics });
});
afterAll(async () => {
  await fed?.cleanup();
});

describe("the gateway audits every exchange to Kafka (acks=all) before answering", () => {
  it("N exchanges → exactly N audit events, all decrypt, and `credex audit verify` passes", async () => {
    const client = fed.client("pbccrc");
    const allowed = Array.from({ length: 24 }, () =>
      client.query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty", "securities_violation"], purpose: Purpose.LOAN_APPROVAL }),
    );
    const denied = Array.from({ length: 6 }, () => failureOf(fed.client("csrc").query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["loan_overdue"], purpose: Purpose.LOAN_APPROVAL })));
    const answers = await Promise.all(allowed);
    const refusals = await Promise.all(denied);
    expect(refusals.every((r) => r.reason === "PURPOSE_NOT_PERMITTED")).toBe(true);

    const events = await auditEvents(fed);
    expect(events).toHaveLength(30);
    expect(new Set(events.map((e) => e.exchangeId)).size).toBe(30);
    for (const a of answers) expect(events.some((e) => e.exchangeId === a.exchangeId && e.decision!.effect === DecisionEffect.ALLOW)).toBe(true);
    expect(events.filter((e) => e.decision!.effect === DecisionEffect.DENY)).toHaveLength(6);

    // The gateway is running: what it wrote since its last checkpoint is signed at the next one (or at its close); sign it now.
    await (fed.gateway.auditSink() as unknown as { checkpoint(): Promise<void> }).checkpoint();
    const code = await main(["audit", "verify", "--brokers", kafkaBrokers(), "--topic", topics.topic, "--checkpoint-topic", topics.checkpointTopic, "--key-ring", fed.manifest.keyRing, "--cert", fed.pki.gateway.cert]);
    expect(code).toBe(0);
  });
});
