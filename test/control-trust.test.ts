/**
 * Issue 16, items 4 and 5, end to end on a real federation (mTLS on
 * 127.0.0.1), a real Kafka control topic and the file control channel:
 * - item 4: a replayed old signed policy bundle is refused (also by a replica
 *   that restarts with the replay as the last record of the topic), a record
 *   under another item's key is refused, and a revocation survives what
 *   compaction would do with a tombstone or a record written over its key;
 * - item 5: an officer's UnrevokeCertificate cannot lift the CA's revocation,
 *   and still lifts what an officer or a playbook revoked.
 */
import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { AuditEventType, SealedAuditRecordSchema, type AuditEvent } from "../src/gen/credex/v1/audit_pb.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { readAuditLogFile } from "../src/adapters/audit/audit-log-file.js";
import { createKafkaAdmin } from "../src/adapters/kafka/kafka-client.js";
import { createKafkaTopics, describeTopicConfigs } from "../src/adapters/kafka/kafka-admin.js";
import { CONTROL_TOPIC_CONFIGS, createKafkaControlChannel } from "../src/adapters/kafka/kafka-control-channel.js";
import { createAdminClient, type AdminClient } from "../src/client/admin-client.js";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import { loadKeyRing } from "../src/core/audit/key-ring.js";
import { openSealedRecord } from "../src/core/audit/seal.js";
import type { ControlChannel, ControlRecord } from "../src/core/control/control-channel.js";
import { controlItemKey, decodeControlItem, encodeControlItem, signControlItem } from "../src/core/control/control-item.js";
import { claimedPolicyRevision } from "../src/core/control/policy-bundle-item.js";
import { revocationItem } from "../src/core/control/revocation-item.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { startMonitoredGateway, type MonitoredGateway } from "../src/gateway/start-monitored-gateway.js";
import type { PolicyRejected } from "../src/gateway/policy-updates.js";
import { copyPolicyDir } from "./support/policy-dir.js";
import { auditEvents, failureOf, startTestFederation } from "./support/federation.js";
import { kafkaBrokers, produceRaw } from "./support/kafka.js";
import { credex, PUBLIC_QUERY, until } from "./support/certificate-ops.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let publisher: ControlChannel;
let issuer: { cert: X509Certificate; key: KeyObject };
let security: AdminClient;
const run = randomUUID().slice(0, 8);
const topic = `credex.control.v1.trust-${run}`;
const rejected: PolicyRejected[] = [];
const replicas = new Set<MonitoredGateway>();

beforeAll(async () => {
  // The federation's directory, with the playbook written before the gateway reads its config.
  const dir = await mkdtemp(join(tmpdir(), "credex-control-trust-"));
  writeFileSync(join(dir, "playbooks.yaml"), toYaml({ playbooks: [{ name: "revoke-probing", detector: "denial-burst", minLevel: "IV", actions: [{ type: "revoke-certificate" }] }] }));
  fed = await startTestFederation({
    dir,
    gatewayConfig: {
      control: { kafka: { brokers: [kafkaBrokers()], topic } },
      // A playbook that revokes the certificate of an agency probing the policy (item 5: officers undo what playbooks did).
      incidents: { playbooks: "playbooks.yaml", detectors: { denialBurst: { threshold: 3 } } },
    },
    parts: { onPolicyRejected: (e) => rejected.push(e) },
  });
  publisher = createKafkaControlChannel({ brokers: kafkaBrokers(), topic });
  issuer = { cert: new X509Certificate(readFileSync(fed.pki.issuingCaCert)), key: createPrivateKey(readFileSync(fed.pki.issuingCaKey, "utf8")) };
  const officer = fed.manifest.admins!.find((a) => a.role === "security")!;
  security = createAdminClient({ address: fed.manifest.admin!, trustDomain: fed.manifest.trustDomain, certFile: officer.cert, keyFile: officer.key, caFile: fed.manifest.ca });
}, 120_000);
afterAll(async () => {
  security?.close();
  await Promise.all([...replicas].map((g) => g.stop(2_000)));
  await publisher?.close();
  await fed?.cleanup();
});

/** Every record of a control topic, in log order. */
async function topicRecords(name: string): Promise<ControlRecord[]> {
  const channel = createKafkaControlChannel({ brokers: kafkaBrokers(), topic: name });
  const records: ControlRecord[] = [];
  try {
    await (await channel.subscribe((r) => records.push(r))).close();
  } finally {
    await channel.close();
  }
  return records;
}

const isBundle = (revision: string) => (r: ControlRecord) => {
  try {
    return r.value.length > 0 && claimedPolicyRevision(decodeControlItem(r.value).payload) === revision;
  } catch {
    return false;
  }
};

/** A copy of policies/ in the federation's directory (test/support/policy-dir.ts). */
const policyDir = (name: string, lines: string, tests: Record<string, string> = {}): string => copyPolicyDir(fed.dir, name, lines, tests);
const CSRC_CASE = `agencies:
  - { id: pbccrc, sector: BANKING }
  - { id: csrc, sector: SECURITIES }
cases:
  - name: csrc reads bank overdue records for LOAN_APPROVAL (applied bundle)
    request: { requester: csrc, owner: pbccrc, category: loan_overdue, purpose: LOAN_APPROVAL }
    expect: { level: 3 }
`;
const ALLOW = "p, csrc, pbccrc, loan_overdue, query, 3, LOAN_APPROVAL, allow";
const DENY = "p, csrc, pbccrc, loan_overdue, query, 1, LOAN_APPROVAL, deny";
const CSRC_OVERDUE = { requester: "csrc", owner: "pbccrc", category: "loan_overdue", action: "query", purpose: "LOAN_APPROVAL", level: 3 };
const signing = () => ["--signing-key", fed.pki.issuingCaKey, "--signing-cert", fed.pki.issuingCaCert];

/** A replica of the federation's gateway (own instance, audit and incident files), with config overrides; started again with the same instance it is a restart. */
async function startReplica(instance: string, overrides: Record<string, unknown> = {}): Promise<{ gateway: MonitoredGateway; rejected: PolicyRejected[]; auditFile: string }> {
  const doc = parseYaml(readFileSync(fed.configFile, "utf8")) as Record<string, Record<string, unknown>>;
  doc["instance"] = instance as never;
  doc["audit"] = { ...doc["audit"], file: `audit/${instance}.log`, chainState: `audit/${instance}-chain.json` };
  doc["incidents"] = { ...doc["incidents"], file: `incidents/${instance}.jsonl` };
  delete doc["admin"];
  delete doc["observability"];
  Object.assign(doc, overrides);
  const file = join(fed.dir, `${instance}.yaml`);
  writeFileSync(file, toYaml(doc));
  const config = loadGatewayConfig(file);
  const seen: PolicyRejected[] = [];
  const gateway = await startMonitoredGateway(config, { onPolicyRejected: (e) => seen.push(e) });
  replicas.add(gateway);
  return { gateway, rejected: seen, auditFile: config.audit.file };
}

async function stopReplica(g: MonitoredGateway): Promise<void> {
  replicas.delete(g);
  await g.stop(2_000);
}

async function auditFileEvents(file: string): Promise<AuditEvent[]> {
  const ring = await loadKeyRing(fed.manifest.keyRing);
  const events: AuditEvent[] = [];
  for await (const entry of readAuditLogFile(file)) if (entry.kind === "record") events.push(openSealedRecord(fromBinary(SealedAuditRecordSchema, entry.bytes), ring));
  return events;
}

const policyRefusals = (events: AuditEvent[], revision: string) =>
  events.filter((e) => e.type === AuditEventType.POLICY && e.attributes["outcome"] === "rejected" && e.attributes["bundle_revision"] === revision);

/** In force: bundle 2 on a running gateway; during a replay, the policy in force until the replay is over. */
const ROLLBACK = /^ROLLBACK: policy bundle 1 \(issued [^)]+\) is not above 2, the highest this gateway has received \(in force: (bundle 2|the policy of its config files)\)$/;

describe("item 4: policy bundles cannot be rolled back (Kafka control topic)", () => {
  it("item 4: a replayed old signed bundle is refused as ROLLBACK: the newer policy stays; the refusal is logged, audited and raised as an incident", async () => {
    expect((await credex("policy", "apply", policyDir("allow", ALLOW, { "apply.yaml": CSRC_CASE }), "--brokers", kafkaBrokers(), "--topic", topic, ...signing(), "--revision", "i4-allow")).code).toBe(0);
    await until("i4-allow in force", () => (fed.gateway.authorizer().revision === "i4-allow" ? true : undefined), 15_000);
    expect((await credex("policy", "apply", policyDir("deny", DENY), "--brokers", kafkaBrokers(), "--topic", topic, ...signing(), "--revision", "i4-deny")).code).toBe(0);
    await until("i4-deny in force", () => (fed.gateway.authorizer().revision === "i4-deny" ? true : undefined), 15_000);

    // The attacker can write to the topic but holds no signing key: it replays the old signed record as it is.
    const old = (await topicRecords(topic)).find(isBundle("i4-allow"))!;
    const seen = rejected.length;
    await publisher.publish(old);
    await until("the replay to be decided", () => (rejected.length > seen || fed.gateway.authorizer().revision !== "i4-deny" ? true : undefined), 15_000);
    expect(fed.gateway.authorizer().revision).toBe("i4-deny");
    expect(fed.gateway.authorizer().decide(CSRC_OVERDUE)).toMatchObject({ allowed: false, explicitDeny: true });
    expect(rejected.slice(seen).map((r) => r.revision)).toEqual(["i4-allow"]);
    expect(rejected[seen]!.reason).toMatch(ROLLBACK);

    const [audited] = policyRefusals(await auditEvents(fed), "i4-allow");
    expect(audited).toMatchObject({ statusReason: "POLICY_BUNDLE_REJECTED", decision: { policyRevision: "i4-deny", reason: expect.stringMatching(ROLLBACK) }, attributes: { bundle_sequence: "1" } });
    await fed.incidents!.settle();
    const incident = fed.incidents!.manager.list({ detector: "policy-rejected" }).find((i) => i.key === "i4-allow");
    expect(incident).toMatchObject({ category: "network-attack", level: "III" });
  }, 60_000);

  it("item 4: after a restart, with the replayed bundle as the last record on the topic, the replica refuses it again and serves the newest bundle", async () => {
    const records = await topicRecords(topic);
    expect(isBundle("i4-allow")(records.at(-1)!)).toBe(true);
    for (const round of ["start", "restart"]) {
      const replica = await startReplica("gw-trust-2", { control: { kafka: { brokers: [kafkaBrokers()], topic } } });
      try {
        expect([round, replica.gateway.gateway.authorizer().revision]).toEqual([round, "i4-deny"]);
        expect(replica.rejected.map((r) => r.revision)).toEqual(["i4-allow"]);
        expect(replica.rejected[0]!.reason).toMatch(ROLLBACK);
        await replica.gateway.gateway.auditSink().flush();
        expect(policyRefusals(await auditFileEvents(replica.auditFile), "i4-allow").length).toBe(round === "start" ? 1 : 2);
        await replica.gateway.incidents!.settle();
        expect(replica.gateway.incidents!.manager.list({ detector: "policy-rejected" }).map((i) => i.key)).toContain("i4-allow");
      } finally {
        await stopReplica(replica.gateway);
      }
    }
  }, 90_000);

  it("item 4: a control item under a key that is not its own is refused: a signed bundle under a revocation's key, a signed revocation under a bundle's key and under another serial's", async () => {
    const bundle = (await topicRecords(topic)).find(isBundle("i4-allow"))!;
    const signed = (serial: string) => encodeControlItem(signControlItem(revocationItem({ serial, reason: "keyCompromise", revokedAt: new Date() }), issuer.cert, issuer.key));
    const target = fed.pki.agencies["pbccrc"]!.client.serial;
    const control = fed.gateway.control!;
    const before = { refused: control.rejected(), decided: control.rejected() + control.applied(), rejected: rejected.length };
    await publisher.publish({ key: `revocation/${target}`, value: bundle.value });
    await publisher.publish({ key: "policy-bundle/99", value: signed("0C0FFEE1") });
    await publisher.publish({ key: "revocation/0C0FFEE3", value: signed("0C0FFEE2") });
    await until("the three records to be decided", () => (control.rejected() + control.applied() >= before.decided + 3 ? true : undefined), 15_000);
    await fed.gateway.policyUpdates.settled();
    expect(control.rejected() - before.refused).toBe(3);
    expect(fed.gateway.authorizer().revision).toBe("i4-deny");
    for (const serial of ["0C0FFEE1", "0C0FFEE2", "0C0FFEE3", target]) expect([serial, fed.gateway.revocations.lookup(serial)]).toEqual([serial, undefined]);
    // Both records that involve a bundle are reported as rejected bundles (log, audit, incident).
    expect(rejected.slice(before.rejected).map((r) => r.reason)).toEqual([
      `KEY_MISMATCH: a record under key "revocation/${target}" carries control item policy-bundle/1`,
      'KEY_MISMATCH: a record under key "policy-bundle/99" carries control item revocation/C0FFEE1',
    ]);
    expect((await fed.client("pbccrc").query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
  }, 30_000);
});

describe("item 4: compaction never drops a revocation", () => {
  it("item 4: the control topic is created with a compaction lag longer than any certificate lives, measured by the broker's clock", async () => {
    const admin = createKafkaAdmin({ brokers: kafkaBrokers(), clientId: "credex-test" });
    try {
      const names = ["cleanup.policy", "min.compaction.lag.ms", "message.timestamp.type"];
      const config = (await describeTopicConfigs(admin, [topic], names)).get(topic);
      expect(config).toEqual({ "cleanup.policy": "compact", "min.compaction.lag.ms": String(3650 * 86_400_000), "message.timestamp.type": "LogAppendTime" });
    } finally {
      await admin.close();
    }
  });

  it("item 4: a tombstone and a signed record written over a revocation's key neither lift it on a running gateway nor, once the log cleaner has run, on a gateway started afterwards", async () => {
    // The control topic's config plus settings that make the broker's log cleaner act within seconds, and a witness topic
    // with the same records and no compaction lag, to show that the cleaner did run meanwhile.
    const force = { "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "100" };
    const compacted = `credex.control.v1.compaction-${run}`;
    const witness = `credex.control.v1.witness-${run}`;
    await createKafkaTopics(kafkaBrokers(), [
      { topic: compacted, partitions: 1, configs: { ...CONTROL_TOPIC_CONFIGS, ...force } },
      { topic: witness, partitions: 1, configs: { ...CONTROL_TOPIC_CONFIGS, ...force, "min.compaction.lag.ms": "0" } },
    ]);
    const safe = fed.pki.agencies["safe"]!.client;
    const revocation = signControlItem(revocationItem({ serial: safe.serial, reason: "keyCompromise", revokedAt: new Date() }), issuer.cert, issuer.key);
    const key = controlItemKey(revocation);
    const overwrite = encodeControlItem(signControlItem(revocationItem({ serial: "0DDBA11", reason: "superseded", revokedAt: new Date() }), issuer.cert, issuer.key));
    // The replica watches no files and has no CRL: only the topic can tell it of the revocation.
    const first = await startReplica("gw-trust-compaction-1", { control: { kafka: { brokers: [kafkaBrokers()], topic: compacted } }, tls: { ...(parseYaml(readFileSync(fed.configFile, "utf8")) as { tls: object }).tls, watch: false, crl: [] } });
    try {
      for (const t of [compacted, witness]) {
        await produceRaw(kafkaBrokers(), t, [{ key, value: encodeControlItem(revocation) }]);
        await produceRaw(kafkaBrokers(), t, [{ key, value: overwrite }]);
        await produceRaw(kafkaBrokers(), t, [{ key, value: null }]);
      }
      // Later items under other keys close the segments, so the cleaner may take them.
      for (let i = 1; i <= 4; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const filler = signControlItem(revocationItem({ serial: `F11${i}`, reason: "superseded", revokedAt: new Date() }), issuer.cert, issuer.key);
        for (const t of [compacted, witness]) await produceRaw(kafkaBrokers(), t, [{ key: controlItemKey(filler), value: encodeControlItem(filler) }]);
      }
      const control = first.gateway.gateway.control!;
      await until("the overwrite and the tombstone to be refused", () => (control.rejected() >= 2 ? true : undefined), 15_000);
      expect(first.gateway.gateway.revocations.lookup(safe.serial)).toMatchObject({ reason: "keyCompromise", source: "ca-control" });

      const carriesRevocation = (records: ControlRecord[]) => records.some((r) => r.key === key && r.value.length > 0 && decodeControlItem(r.value).id === revocation.id);
      await until("the log cleaner to compact the witness topic", async () => (carriesRevocation(await topicRecords(witness)) ? undefined : true), 120_000);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(carriesRevocation(await topicRecords(compacted))).toBe(true);
    } finally {
      await stopReplica(first.gateway);
    }

    const later = await startReplica("gw-trust-compaction-2", { control: { kafka: { brokers: [kafkaBrokers()], topic: compacted } }, tls: { ...(parseYaml(readFileSync(fed.configFile, "utf8")) as { tls: object }).tls, watch: false, crl: [] } });
    const client = createExchangeClient({ address: later.gateway.gateway.address, trustDomain: fed.pki.trustDomain, certFile: safe.cert, keyFile: safe.key, caFile: fed.pki.caBundle });
    try {
      expect(later.gateway.gateway.revocations.lookup(safe.serial)).toMatchObject({ reason: "keyCompromise", source: "ca-control" });
      expect(await failureOf(client.query(PUBLIC_QUERY))).toMatchObject({ reason: "CLIENT_CERT_REVOKED", metadata: { revocation_reason: "keyCompromise" } });
    } finally {
      client.close();
      await stopReplica(later.gateway);
    }
  }, 180_000);

  it("item 4: a gateway in production mode refuses a control topic whose config lets compaction drop a revocation", async () => {
    const old = `credex.control.v1.old-config-${run}`;
    await createKafkaTopics(kafkaBrokers(), [{ topic: old, partitions: 1, configs: { "cleanup.policy": "compact", "min.compaction.lag.ms": "0" } }]);
    await expect(startReplica("gw-trust-old-topic", { mode: "production", control: { kafka: { brokers: [kafkaBrokers()], topic: old } } })).rejects.toThrow(
      `refusing the control channel: control topic ${old}: min.compaction.lag.ms 0 lets compaction drop a revocation under a later record or tombstone before the certificate expires; message.timestamp.type CreateTime lets producers date records back`,
    );
  }, 60_000);
});

describe("item 4: the file control channel", () => {
  it("item 4: file channel: a replayed old bundle and a bundle under another item's key are refused, and again after a restart", async () => {
    const file = join(fed.dir, "control", "control.jsonl");
    const overrides = { control: { file } };
    const apply = (dir: string, revision: string) => credex("policy", "apply", dir, "--control-file", file, ...signing(), "--revision", revision);
    let replica = await startReplica("gw-trust-file", overrides);
    try {
      expect((await apply(policyDir("f-allow", ALLOW, { "apply.yaml": CSRC_CASE }), "f-allow")).code).toBe(0);
      await until("f-allow in force", () => (replica.gateway.gateway.authorizer().revision === "f-allow" ? true : undefined), 15_000);
      expect((await apply(policyDir("f-deny", DENY), "f-deny")).code).toBe(0);
      await until("f-deny in force", () => (replica.gateway.gateway.authorizer().revision === "f-deny" ? true : undefined), 15_000);

      // Whoever can write the file appends the old line again, and the old bundle under a revocation's key.
      const line = readFileSync(file, "utf8").split("\n").find((l) => l !== "" && isBundle("f-allow")({ key: "", value: Buffer.from((JSON.parse(l) as { value: string }).value, "base64") }))!;
      appendFileSync(file, `${line}\n`);
      appendFileSync(file, `${JSON.stringify({ ...(JSON.parse(line) as object), key: "revocation/0BADC0DE" })}\n`);
      await until("both records decided", () => (replica.rejected.length >= 2 || replica.gateway.gateway.authorizer().revision !== "f-deny" ? true : undefined), 15_000);
      expect(replica.gateway.gateway.authorizer().revision).toBe("f-deny");
      const reasons = () => replica.rejected.map((r) => r.reason);
      expect(reasons()[0]).toMatch(ROLLBACK);
      expect(reasons()[1]).toBe('KEY_MISMATCH: a record under key "revocation/0BADC0DE" carries control item policy-bundle/1');

      await stopReplica(replica.gateway);
      replica = await startReplica("gw-trust-file", overrides);
      expect(replica.gateway.gateway.authorizer().revision).toBe("f-deny");
      expect(reasons()[0]).toMatch(ROLLBACK);
      expect(reasons()[1]).toMatch(/^KEY_MISMATCH: /);
      expect(replica.gateway.gateway.authorizer().decide(CSRC_OVERDUE)).toMatchObject({ allowed: false, explicitDeny: true });
    } finally {
      await stopReplica(replica.gateway);
    }
  }, 90_000);
});

describe("item 5: who may undo what", () => {
  it("item 5: UnrevokeCertificate on the CA's revocation (signed control item, CRL) is refused with REVOCATION_NOT_LIFTABLE and audited; the certificate stays revoked", async () => {
    const nfra = fed.pki.agencies["nfra"]!.client.serial;
    const item = signControlItem(revocationItem({ serial: nfra, reason: "keyCompromise", revokedAt: new Date() }), issuer.cert, issuer.key);
    await publisher.publish({ key: controlItemKey(item), value: encodeControlItem(item) });
    await until("the CA's revocation on the gateway", () => fed.gateway.revocations.lookup(nfra), 15_000);
    const refused = await failureOf(security.call("unrevokeCertificate", { serial: nfra }));
    expect(refused).toMatchObject({ code: status.PERMISSION_DENIED, reason: "REVOCATION_NOT_LIFTABLE", metadata: { source: "ca-control" } });
    expect(refused.message).toMatch(/is revoked by a control item signed by the CA \(final\); an officer cannot lift it/);
    expect(await failureOf(fed.client("nfra").query(PUBLIC_QUERY))).toMatchObject({ reason: "CLIENT_CERT_REVOKED", metadata: { revocation_reason: "keyCompromise" } });

    // The CA's CRL: lifted only by a CRL without the serial.
    const shCredit = fed.pki.agencies["sh-credit"]!.client.serial;
    expect((await credex("pki", "revoke", "--dir", fed.pki.dir, "--serial", shCredit, "--reason", "affiliationChanged")).code).toBe(0);
    await until("the CRL on the gateway", () => fed.gateway.revocations.lookup(shCredit), 5_000);
    expect(await failureOf(security.call("unrevokeCertificate", { serial: shCredit }))).toMatchObject({ code: status.PERMISSION_DENIED, reason: "REVOCATION_NOT_LIFTABLE", metadata: { source: "crl" } });
    expect(fed.gateway.revocations.lookup(shCredit)?.source).toBe("crl");

    const admin = (await auditEvents(fed)).filter((e) => e.type === AuditEventType.ADMIN && e.method === "UnrevokeCertificate");
    expect(admin.map((e) => [e.statusReason, e.requester?.agencyId])).toEqual([
      ["REVOCATION_NOT_LIFTABLE", "admin/security/demo-officer"],
      ["REVOCATION_NOT_LIFTABLE", "admin/security/demo-officer"],
    ]);
  }, 30_000);

  it("item 5: an officer lifts what an officer or a playbook revoked; the agency's calls succeed again", async () => {
    const safe = fed.pki.agencies["safe"]!.client.serial;
    const client = fed.client("safe");
    await client.query(PUBLIC_QUERY);
    await security.call("revokeCertificate", { serial: safe, reason: "drill" });
    expect(fed.gateway.revocations.lookup(safe)).toMatchObject({ source: "officer", by: "admin/security/demo-officer" });
    expect(await failureOf(client.query(PUBLIC_QUERY))).toMatchObject({ reason: "CLIENT_CERT_REVOKED" });
    await security.call("unrevokeCertificate", { serial: safe });
    await client.query(PUBLIC_QUERY);

    // Probing the policy (FOREX may read overdue loans for SUPERVISION only) opens a denial-burst incident; the playbook revokes.
    const probe = { subject: DEMO_SUBJECTS.tradingCompany, categories: ["loan_overdue"], purpose: Purpose.LOAN_APPROVAL };
    for (let i = 0; i < 3; i++) expect((await failureOf(client.query(probe))).code).toBe(status.PERMISSION_DENIED);
    await fed.incidents!.settle();
    expect(fed.gateway.revocations.lookup(safe)).toMatchObject({ source: "playbook" });
    expect(await failureOf(client.query(PUBLIC_QUERY))).toMatchObject({ reason: "CLIENT_CERT_REVOKED" });
    await security.call("unrevokeCertificate", { serial: safe });
    expect(fed.gateway.revocations.lookup(safe)).toBeUndefined();
    await client.query(PUBLIC_QUERY);

    const lifts = (await auditEvents(fed)).filter((e) => e.type === AuditEventType.ADMIN && e.method === "UnrevokeCertificate" && e.statusReason === "");
    expect(lifts.map((e) => e.attributes["lifted"])).toEqual(["officer", "playbook"]);
  }, 30_000);
});
