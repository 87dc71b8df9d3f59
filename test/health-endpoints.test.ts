/**
 * The plain-HTTP health listener (config `health`) that Kubernetes probes, and what SIGTERM
 * does to a gateway process: /readyz turns 503 at once, the exchange in flight still gets its
 * whole answer and its audit record (no audit, no answer), and only then does the process exit.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { DEMO_TRUST_DOMAIN } from "../src/demo/federation.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import { createExchangeClient, type ExchangeClient } from "../src/client/exchange-client.js";
import { createMemoryControlChannel, type ControlChannel } from "../src/core/control/control-channel.js";
import { startMonitoredGateway } from "../src/gateway/start-monitored-gateway.js";
import { startTestFederation } from "./support/federation.js";
import { spawnGateway, type GatewayProcess } from "./support/gateway-process.js";
import { startFaultProvider, type FaultProvider } from "./support/fault-provider.js";
import { expectAnsweredAudited, readAuditLog } from "./support/chaos.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
const processes: GatewayProcess[] = [];
const clients: ExchangeClient[] = [];

beforeAll(async () => {
  fed = await startTestFederation({ limits: { providerTimeoutMs: 20_000 } });
});
afterAll(async () => {
  clients.forEach((c) => c.close());
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await fed?.cleanup();
});

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** A gateway config of its own (instance, folder, health listener) on the federation's PKI, agencies and key ring. */
function ownConfig(name: string, health: Record<string, unknown>): string {
  const doc = parseYaml(readFileSync(fed.configFile, "utf8")) as Record<string, unknown>;
  const own = join(fed.dir, name);
  mkdirSync(join(own, "audit"), { recursive: true });
  doc["instance"] = `gw-${name}`;
  doc["audit"] = { ...(doc["audit"] as object), keyRing: fed.manifest.keyRing };
  doc["health"] = health;
  const file = join(own, "gateway.yaml");
  writeFileSync(file, toYaml(doc));
  return file;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("health listener", () => {
  it("ok/starting: /healthz answers 200 while /readyz answers 503 until the state is loaded, then 200", async () => {
    const port = await freePort();
    const config = loadGatewayConfig(ownConfig("starting", { listen: `127.0.0.1:${port}` }));
    // A control topic that has not been read to its end holds the start (revocations, the policy in force).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const memory = createMemoryControlChannel();
    const slowControl: ControlChannel = { ...memory, subscribe: async (onRecord) => (await held, memory.subscribe(onRecord)) };
    const starting = startMonitoredGateway(config, { controlChannel: slowControl });
    const base = `http://127.0.0.1:${port}`;
    let early: { status: number; body: string } | undefined;
    // Until the listener is up (the first thing the start does); bounded for a loaded machine.
    for (let i = 0; i < 1_000 && !early; i++) early = await get(`${base}/readyz`).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 10)));
    expect(early).toBeDefined();
    expect(early!.status).toBe(503);
    expect(JSON.parse(early!.body)).toMatchObject({ ready: false, phase: "starting" });
    expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: "ok\n" });

    release();
    const monitored = await starting;
    try {
      expect(monitored.health?.url).toBe(base);
      const ready = await get(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body)).toEqual({ ready: true, phase: "serving", waitingFor: [] });
      expect((await get(`${base}/metrics`)).status).toBe(404);
      expect((await fetch(`${base}/readyz`, { method: "POST" })).status).toBe(405);
    } finally {
      await monitored.stop(1_000);
    }
    await expect(get(`${base}/healthz`)).rejects.toThrow();
  });

  it("fail/health.listen that is not host:port is refused at start, naming the key", () => {
    expect(() => loadGatewayConfig(ownConfig("bad-listen", { listen: "8080" }))).toThrow(/health\.listen: "8080" does not match/);
  });
});

describe("graceful shutdown of a gateway process", () => {
  let slow: FaultProvider | undefined;
  afterAll(async () => {
    await slow?.stop();
  });

  it("ok/SIGTERM: /readyz 503 at once, /healthz 200, the exchange in flight answered in full and audited, then exit 0", async () => {
    const configFile = ownConfig("drain", { listen: "127.0.0.1:0", drainMs: 20_000 });
    // safe's provider answers after 3 s, so the exchange is still in flight when SIGTERM arrives.
    const safeAddress = fed.agencies.get("safe")!.address;
    await fed.stopAgency("safe");
    const safe = fed.pki.agencies["safe"]!.server;
    slow = await startFaultProvider({ listen: safeAddress, tls: { cert: safe.cert, key: safe.key, ca: fed.pki.caBundle }, fault: "slow", delayMs: 3_000 });

    const gateway = await spawnGateway(configFile);
    processes.push(gateway);
    expect(gateway.health).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await get(`${gateway.health}/readyz`)).status).toBe(200);

    const member = fed.pki.agencies["csrc"]!;
    const client = createExchangeClient({ address: gateway.address, trustDomain: DEMO_TRUST_DOMAIN, certFile: member.client.cert, keyFile: member.client.key, caFile: fed.pki.caBundle });
    clients.push(client);
    let answeredAt = 0;
    const inFlight = client.query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["forex_violation"], purpose: Purpose.SUPERVISION }, { timeoutMs: 30_000 }).then((r) => {
      answeredAt = Date.now();
      return r;
    });
    // Event, not time: SIGTERM once the provider has the call.
    for (let i = 0; i < 3_000 && slow.calls() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(slow.calls()).toBe(1);
    gateway.child.kill("SIGTERM");
    let exitedAt = 0;
    const exited = gateway.exited.then((e) => ((exitedAt = Date.now()), e));

    let draining: { status: number; body: string } | undefined;
    // Polled until it turns 503 or the answer arrives (then the test fails below); bounded at ~10 s.
    for (let i = 0; i < 1_000 && answeredAt === 0; i++) {
      const r = await get(`${gateway.health}/readyz`);
      if (r.status === 503) {
        draining = r;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(answeredAt, "the answer came before /readyz turned 503").toBe(0);
    expect(JSON.parse(draining!.body)).toMatchObject({ ready: false, phase: "draining" });
    expect((await get(`${gateway.health}/healthz`)).status).toBe(200);

    const response = await inFlight;
    expect(response.results.find((r) => r.agencyId === "safe")?.status).toBe(AgencyStatus.OK);
    expect((await exited).code).toBe(0);
    expect(exitedAt).toBeGreaterThanOrEqual(answeredAt);
    expect(gateway.stdout()).toContain('"draining"');

    const config = loadGatewayConfig(configFile);
    const log = await readAuditLog(config.audit.file, fed.manifest.keyRing, { signers: [readFileSync(fed.pki.gateway.cert, "utf8")] });
    expectAnsweredAudited(log, [response.exchangeId]);
  });
});
