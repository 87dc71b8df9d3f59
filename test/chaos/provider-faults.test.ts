/**
 * Chaos: a provider that hangs, crashes mid-call, returns garbage or answers
 * slowly, under concurrent load. After each: every caller got an answer (a
 * partial one naming the failed provider), every answered exchange has
 * exactly one audit event, the audit chain verifies, and the gateway serves.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgencyStatus } from "../../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { startTestFederation } from "../support/federation.js";
import { expectStillServing, sharedClient } from "../support/adversarial.js";
import { startFaultProvider, untilCalled, type FaultProvider, type ProviderFault } from "../support/fault-provider.js";
import { expectAnsweredAudited, readAuditLog } from "../support/chaos.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let safeAddress: string;
const answered = new Set<string>();
// Generous enough for healthy providers on 2 busy cores; the faults below are far past it.
const PROVIDER_TIMEOUT_MS = 2_000;
const LOAD = 16;
/** Stated bound: a provider back at its address is called again within this time. */
const RECONNECT_BOUND_MS = 5_000;

beforeAll(async () => {
  fed = await startTestFederation({ limits: { providerTimeoutMs: PROVIDER_TIMEOUT_MS } });
  safeAddress = fed.agencies.get("safe")!.address;
  // The fault providers take over safe's address, as a broken agency would.
  await fed.stopAgency("safe");
});
afterAll(async () => {
  await fed?.cleanup();
});

async function underLoad(): Promise<{ statuses: AgencyStatus[]; elapsedMs: number[] }> {
  const started = Date.now();
  const responses = await Promise.all(
    Array.from({ length: LOAD }, (_, i) =>
      sharedClient(fed, i % 2 === 0 ? "pbccrc" : "nfra")
        .query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty", "forex_violation"], purpose: i % 2 === 0 ? Purpose.LOAN_APPROVAL : Purpose.SUPERVISION })
        .then((r) => ({ r, at: Date.now() })),
    ),
  );
  for (const { r } of responses) answered.add(r.exchangeId);
  for (const { r } of responses) for (const other of r.results.filter((x) => x.agencyId !== "safe")) expect(other.status, `${other.agencyId}: ${other.detail}`).toBe(AgencyStatus.OK);
  return {
    statuses: responses.map(({ r }) => r.results.find((x) => x.agencyId === "safe")?.status ?? AgencyStatus.UNSPECIFIED),
    elapsedMs: responses.map(({ at }) => at - started),
  };
}

describe("chaos: provider faults under load", () => {
  const { OK, DEADLINE_EXCEEDED, UNAVAILABLE, ERROR } = AgencyStatus;
  const cases: Array<[string, ProviderFault, AgencyStatus[], number | undefined]> = [
    ["hang → DEADLINE_EXCEEDED", "hang", [DEADLINE_EXCEEDED], undefined],
    // grpc-js reports a connection lost mid-call as UNAVAILABLE or, when the stream was reset, INTERNAL (→ ERROR).
    ["crash-mid-call → UNAVAILABLE or ERROR", "crash-mid-call", [UNAVAILABLE, ERROR], undefined],
    ["garbage → ERROR", "garbage", [ERROR], undefined],
    ["slow (300 ms, under the timeout) → OK", "slow", [OK], 300],
    ["slow (5 s, over the 2 s timeout) → DEADLINE_EXCEEDED", "slow", [DEADLINE_EXCEEDED], 5_000],
  ];
  it.each(cases)("provider %s for its part; others OK; every answer audited once; chain verifies", async (_name, fault, expected, delayMs) => {
    let provider: FaultProvider | undefined;
    try {
      provider = await startFaultProvider({ listen: safeAddress, tls: { cert: fed.pki.agencies["safe"]!.server.cert, key: fed.pki.agencies["safe"]!.server.key, ca: fed.pki.caBundle }, fault, ...(delayMs ? { delayMs } : {}) });
      await untilCalled(
        provider,
        async () => answered.add((await sharedClient(fed, "csrc").query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["forex_violation"], purpose: Purpose.SUPERVISION })).exchangeId),
        RECONNECT_BOUND_MS,
      );
      const { statuses, elapsedMs } = await underLoad();
      expect(provider.calls()).toBeGreaterThan(0);
      for (const status of statuses) expect(expected).toContain(status);
      // A provider never holds an exchange past the provider timeout (plus release, audit and reply).
      expect(Math.max(...elapsedMs)).toBeLessThan(PROVIDER_TIMEOUT_MS + 2_000);
    } finally {
      await provider?.stop();
    }
    await fed.gateway.auditSink().flush();
    expectAnsweredAudited(await readAuditLog(fed.manifest.auditLog, fed.manifest.keyRing, { live: true }), answered);
    await expectStillServing(fed, "csrc", ["safe"]);
  });
});
