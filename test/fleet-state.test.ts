/**
 * One fleet: what an officer sets at runtime — an agency's suspension and
 * resumption, its throttle, restricted mode — is in force on every replica,
 * end to end on three gateway replicas (mTLS on 127.0.0.1, their own admin
 * listeners) sharing one real Kafka control topic:
 * - set on one replica through the authenticated admin API, it binds the
 *   other two within a bounded, event-based wait (time to effect measured:
 *   BENCHMARKS.md "Fleet: time to effect");
 * - a replica stopped and started again serves with the settings in force
 *   from its first call (the control topic is replayed before it serves);
 * - a record an attacker writes to the topic — signed by an agency's
 *   certificate, by a key of another CA, with a changed payload, or a replay
 *   of an older genuine "resumed" — is refused on every replica, changes
 *   nothing, and opens a "runtime-setting-refused" incident.
 */
import { createPrivateKey, randomUUID, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { Purpose, SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { createCa } from "../src/adapters/pki/certificate-authority.js";
import { createKafkaControlChannel } from "../src/adapters/kafka/kafka-control-channel.js";
import { createAdminClient, type AdminClient } from "../src/client/admin-client.js";
import { createExchangeClient, type ExchangeClient } from "../src/client/exchange-client.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import type { ControlChannel, ControlRecord } from "../src/core/control/control-channel.js";
import { controlItemKey, decodeControlItem, encodeControlItem, signControlItem, type ControlItem } from "../src/core/control/control-item.js";
import { runtimeSettingItem, type RuntimeSettingRecord } from "../src/core/control/runtime-setting-item.js";
import type { GatewayParts } from "../src/gateway/gateway.js";
import type { RuntimeSettingRefused } from "../src/gateway/runtime-settings.js";
import { startMonitoredGateway, type MonitoredGateway } from "../src/gateway/start-monitored-gateway.js";
import { failureOf, startTestFederation } from "./support/federation.js";
import { kafkaBrokers } from "./support/kafka.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;

/** What one replica observed: every setting it applied and every record it refused, with the time (performance.now). */
interface Observed {
  readonly applied: Array<{ at: number; key: string; record: RuntimeSettingRecord }>;
  readonly refused: Array<{ at: number; refused: RuntimeSettingRefused }>;
  readonly waiters: Set<() => void>;
}
interface Replica {
  readonly name: string;
  gateway: MonitoredGateway;
  observed: Observed;
  officer: AdminClient;
  csrc: ExchangeClient;
}

const run = randomUUID().slice(0, 8);
const topic = `credex.control.v1.fleet-${run}`;
const AGENCY = "csrc";
const query = { subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" }, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION };
/** Bound of every event wait: generous for a loaded 2-core machine; the measured figures are far below it. */
const WAIT_MS = 15_000;

let fed: TestFederation;
let attacker: ControlChannel;
const replicas: Replica[] = [];
const timings: Array<{ what: string; replica: string; ms: number }> = [];

const newObserved = (): Observed => ({ applied: [], refused: [], waiters: new Set() });
const observe = (o: Observed): Partial<GatewayParts> => ({
  onRuntimeSettingApplied: (record, item) => {
    o.applied.push({ at: performance.now(), key: controlItemKey(item), record });
    for (const w of o.waiters) w();
  },
  onRuntimeSettingRefused: (refused) => {
    o.refused.push({ at: performance.now(), refused });
    for (const w of o.waiters) w();
  },
});

/** Resolves with the value once `probe` returns one; re-checked on each event the replica observes; fails after WAIT_MS. */
function whenObserved<T>(o: Observed, what: string, probe: () => T | undefined): Promise<T> {
  const now = probe();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise<T>((resolve, reject) => {
    const check = () => {
      const v = probe();
      if (v === undefined) return;
      clearTimeout(timer);
      o.waiters.delete(check);
      resolve(v);
    };
    const timer = setTimeout(() => {
      o.waiters.delete(check);
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    o.waiters.add(check);
  });
}

const appliedAfter = (o: Observed, from: number, key: string, actor: string) => o.applied.find((a) => a.at >= from && a.key === key && a.record.actor === actor);

function clientsOf(gateway: MonitoredGateway): { officer: AdminClient; csrc: ExchangeClient } {
  const admin = fed.manifest.admins!.find((a) => a.role === "security")!;
  const officer = createAdminClient({
    address: gateway.admin!.address,
    trustDomain: fed.manifest.trustDomain,
    certFile: admin.cert,
    keyFile: admin.key,
    caFile: fed.manifest.ca,
    ...(admin.totpSecret ? { totpSecretFile: admin.totpSecret } : {}),
  });
  const cert = fed.pki.agencies[AGENCY]!.client;
  const csrc = createExchangeClient({ address: gateway.gateway.address, trustDomain: fed.pki.trustDomain, certFile: cert.cert, keyFile: cert.key, caFile: fed.pki.caBundle });
  return { officer, csrc };
}

/** Replica `name` of the federation's gateway: own instance, audit and incident files, its own admin listener; the same control topic. */
async function startReplica(name: string, observed: Observed): Promise<MonitoredGateway> {
  const doc = parseYaml(readFileSync(fed.configFile, "utf8")) as Record<string, Record<string, unknown>>;
  doc["instance"] = `fleet-${run}-${name}` as never;
  doc["audit"] = { ...doc["audit"], file: `audit/${name}.log`, chainState: `audit/${name}-chain.json` };
  doc["incidents"] = { ...doc["incidents"], file: `incidents/${name}.jsonl` };
  delete doc["observability"];
  const file = join(fed.dir, `${name}.yaml`);
  writeFileSync(file, toYaml(doc));
  return startMonitoredGateway(loadGatewayConfig(file), observe(observed));
}

beforeAll(async () => {
  const third = newObserved();
  fed = await startTestFederation({ gatewayConfig: { control: { kafka: { brokers: [kafkaBrokers()], topic } } }, parts: observe(third) });
  attacker = createKafkaControlChannel({ brokers: kafkaBrokers(), topic });
  for (const name of ["replica-1", "replica-2"]) {
    const observed = newObserved();
    const gateway = await startReplica(name, observed);
    replicas.push({ name, gateway, observed, ...clientsOf(gateway) });
  }
  // The federation's own gateway is replica 3.
  const g3: MonitoredGateway = { gateway: fed.gateway, incidents: fed.incidents, admin: fed.admin, stop: async () => undefined };
  replicas.push({ name: "replica-3", gateway: g3, observed: third, ...clientsOf(g3) });
  for (const r of replicas) await r.csrc.query(query);
}, 120_000);

afterAll(async () => {
  for (const r of replicas) {
    r.officer.close();
    r.csrc.close();
  }
  await Promise.all(replicas.filter((r) => r.name !== "replica-3").map((r) => r.gateway.stop(2_000)));
  await attacker?.close();
  await fed?.cleanup();
  if (timings.length > 0) console.info(`fleet time to effect (ms):\n${timings.map((t) => `${t.what}\t${t.replica}\t${t.ms.toFixed(1)}`).join("\n")}`);
});

const [r1, r2, r3] = [0, 1, 2].map((i) => () => replicas[i]!);
const OFFICER = "admin/security/demo-officer";

/** Runs an officer's call on `on` and waits until every replica has applied the setting under `key`; records each replica's time to effect. */
async function fleetWide(what: string, on: Replica, key: string, call: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await call();
  await Promise.all(
    replicas.map(async (r) => {
      const seen = await whenObserved(r.observed, `${r.name} to apply ${what}`, () => appliedAfter(r.observed, t0, key, OFFICER));
      timings.push({ what, replica: r === on ? `${r.name} (set here)` : r.name, ms: seen.at - t0 });
    }),
  );
}

describe("officer settings reach the whole fleet (control topic, signed by the replica that executed the call)", () => {
  it("ok/suspend on replica 3: replicas 1 and 2 refuse the agency (AGENCY_SUSPENDED) once they have applied it; resumed, every replica serves it again", async () => {
    await fleetWide("suspend", r3(), `agency-suspension/${AGENCY}`, () => r3().officer.call("suspendAgency", { agencyId: AGENCY, reason: "fleet containment test" }));
    for (const r of replicas) {
      expect([r.name, await failureOf(r.csrc.query(query))]).toMatchObject([r.name, { code: status.PERMISSION_DENIED, reason: "AGENCY_SUSPENDED" }]);
      // The suspension names the officer whose authenticated call set it, on every replica.
      expect(r.gateway.gateway.registry.suspensionOf(AGENCY)).toBe(`fleet containment test (by ${OFFICER})`);
    }
    await fleetWide("resume", r3(), `agency-suspension/${AGENCY}`, () => r3().officer.call("resumeAgency", { agencyId: AGENCY }));
    for (const r of replicas) await r.csrc.query(query);
  });

  it("ok/restricted mode set on replica 1 applies on replicas 2 and 3; lifted on replica 2, it is lifted everywhere", async () => {
    await fleetWide("restricted on", r1(), "restricted-mode/fleet", () => r1().officer.call("setRestrictedMode", { on: true }));
    for (const r of replicas) expect([r.name, r.gateway.gateway.restrictedMode()]).toEqual([r.name, true]);
    expect((await r3().officer.call("getStatus", {})).restrictedMode).toBe(true);
    await fleetWide("restricted off", r2(), "restricted-mode/fleet", () => r2().officer.call("setRestrictedMode", { on: false }));
    for (const r of replicas) expect([r.name, r.gateway.gateway.restrictedMode()]).toEqual([r.name, false]);
  });

  it("ok/a throttle set on replica 2 binds on replicas 1 and 3 (RATE_LIMITED); lifted, the default applies again", async () => {
    await fleetWide("throttle", r2(), `agency-throttle/${AGENCY}`, () => r2().officer.call("throttleAgency", { agencyId: AGENCY, ratePerSecond: 1, burst: 1 }));
    for (const r of [r1(), r3()]) {
      expect(r.gateway.incidents!.limiter.throttled().get(AGENCY)).toEqual({ ratePerSecond: 1, burst: 1 });
      await r.csrc.query(query);
      expect(await failureOf(r.csrc.query(query))).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: "RATE_LIMITED" });
    }
    await fleetWide("unthrottle", r2(), `agency-throttle/${AGENCY}`, () => r2().officer.call("throttleAgency", { agencyId: AGENCY, ratePerSecond: 0 }));
    for (const r of replicas) expect(r.gateway.incidents!.limiter.throttled().has(AGENCY)).toBe(false);
  });
});

describe("a replica that restarts rebuilds the settings before it serves", () => {
  it("ok/replica 2 stopped and started again refuses the suspended agency on its first call", async () => {
    await fleetWide("suspend", r3(), `agency-suspension/${AGENCY}`, () => r3().officer.call("suspendAgency", { agencyId: AGENCY, reason: "across restarts" }));
    const old = r2();
    old.officer.close();
    old.csrc.close();
    await old.gateway.stop(2_000);
    const observed = newObserved();
    const t0 = performance.now();
    const gateway = await startReplica("replica-2", observed);
    const ready = performance.now();
    Object.assign(old, { gateway, observed, ...clientsOf(gateway) });
    // Replayed during start: applied before startMonitoredGateway resolved, i.e. before the first call could arrive.
    const replayed = observed.applied.filter((a) => a.key === `agency-suspension/${AGENCY}`).at(-1);
    expect(replayed?.record.setting).toMatchObject({ suspended: true, reason: "across restarts" });
    expect(replayed!.at).toBeLessThanOrEqual(ready);
    timings.push({ what: "restart: start to serving, settings rebuilt", replica: "replica-2", ms: ready - t0 });
    expect(await failureOf(old.csrc.query(query))).toMatchObject({ code: status.PERMISSION_DENIED, reason: "AGENCY_SUSPENDED" });
    // And it follows the fleet after the restart: resumed on replica 1, served again on the restarted replica.
    await fleetWide("resume", r1(), `agency-suspension/${AGENCY}`, () => r1().officer.call("resumeAgency", { agencyId: AGENCY }));
    await old.csrc.query(query);
  });
});

describe("records written to the topic by anyone but a replica are refused and reported", () => {
  /** Every record under a key, in log order. */
  async function recordsUnder(key: string): Promise<ControlRecord[]> {
    const reader = createKafkaControlChannel({ brokers: kafkaBrokers(), topic });
    const records: ControlRecord[] = [];
    try {
      await (await reader.subscribe((r) => r.key === key && records.push(r))).close();
    } finally {
      await reader.close();
    }
    return records;
  }

  /** Publishes as the attacker, waits until every replica has refused it; returns each replica's reason. */
  async function refusedEverywhere(record: ControlRecord): Promise<string[]> {
    const t0 = performance.now();
    await attacker.publish(record);
    return Promise.all(
      replicas.map(async (r) => {
        const seen = await whenObserved(r.observed, `${r.name} to refuse ${record.key}`, () => r.observed.refused.find((x) => x.at >= t0 && x.refused.key === record.key));
        return `${seen.refused.reason}: ${seen.refused.detail}`;
      }),
    );
  }

  it("fail/forged: an agency's certificate, another CA's key, a changed payload — nobody is suspended, every replica reports the refusal", async () => {
    const key = `agency-suspension/${AGENCY}`;
    // The latest genuine record (a replica's "resumed"), read before the attacker writes anything.
    const genuine = decodeControlItem((await recordsUnder(key)).at(-1)!.value);
    const suspend = (certificate: X509Certificate, sequence = 1_000) =>
      runtimeSettingItem({ kind: "agency-suspension", agency: AGENCY, suspended: true, reason: "forged" }, { sequence, actor: OFFICER, certificate });

    // A member's own certificate (same CA, valid, client auth): a peer is not a replica.
    const member = fed.pki.agencies["pbccrc"]!.client;
    const memberCert = new X509Certificate(readFileSync(member.cert));
    const byMember = signControlItem(suspend(memberCert), memberCert, createPrivateKey(readFileSync(member.key, "utf8")));
    for (const reason of await refusedEverywhere({ key, value: encodeControlItem(byMember) })) {
      expect(reason).toBe(`SIGNER_NOT_A_REPLICA: control item ${key} is signed by agency pbccrc, not by a gateway replica of trust domain ${fed.pki.trustDomain}`);
    }

    // A CA of the attacker's own.
    const rogue = await createCa({ commonName: "credex exchange", keyBits: 2048 });
    const rogueCert = new X509Certificate(rogue.certPem);
    const byRogue = signControlItem(suspend(rogueCert), rogueCert, createPrivateKey(rogue.keyPem));
    for (const reason of await refusedEverywhere({ key, value: encodeControlItem(byRogue) })) expect(reason).toMatch(/^UNKNOWN_SIGNER: .* whose certificate no trusted CA issued$/);

    // A genuine replica item ("resumed", sequence n) whose payload is changed to "suspended" at a huge sequence.
    const doc = JSON.parse(Buffer.from(genuine.payload).toString("utf8")) as Record<string, unknown>;
    const changed: ControlItem = { ...genuine, payload: Buffer.from(JSON.stringify({ ...doc, suspended: true, reason: "forged", sequence: 1_000 })) };
    for (const reason of await refusedEverywhere({ key, value: encodeControlItem(changed) })) expect(reason).toBe(`BAD_SIGNATURE: control item ${key}: the signature does not verify`);

    for (const r of replicas) {
      expect(r.gateway.gateway.registry.suspensionOf(AGENCY)).toBeUndefined();
      await r.csrc.query(query);
      // Reported as tampering with the control topic on every replica (one open incident per key).
      const incidents = r.gateway.incidents!.manager.list({ detector: "runtime-setting-refused" });
      expect([r.name, incidents.map((i) => [i.key, i.category, i.level])]).toEqual([r.name, [[key, "network-attack", "III"]]]);
    }
  });

  it("fail/replay: an older genuine record copied back onto the topic (a 'resumed' over a 'suspended') is refused as ROLLBACK; the suspension stays", async () => {
    const key = `agency-suspension/${AGENCY}`;
    await fleetWide("suspend", r1(), key, () => r1().officer.call("suspendAgency", { agencyId: AGENCY, reason: "replay test" }));
    const records = (await recordsUnder(key)).map((r) => ({ r, item: decodeControlItem(r.value) }));
    const lastResume = records.filter(({ item }) => JSON.parse(Buffer.from(item.payload).toString("utf8")).suspended === false).at(-1)!;
    for (const reason of await refusedEverywhere(lastResume.r)) expect(reason).toMatch(new RegExp(`^ROLLBACK: ${key} sequence \\d+ .* is not above the setting in force`));
    for (const r of replicas) expect(await failureOf(r.csrc.query(query))).toMatchObject({ reason: "AGENCY_SUSPENDED" });
    await fleetWide("resume", r1(), key, () => r1().officer.call("resumeAgency", { agencyId: AGENCY }));
  });
});
