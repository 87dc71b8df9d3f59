import { beforeAll, describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { QueryRequestSchema, AgencyStatus } from "../gen/credex/v1/exchange_pb.js";
import { CreditRecordSchema, Purpose, SubjectType } from "../gen/credex/v1/types_pb.js";
import { DecisionEffect, type AuditEvent } from "../gen/credex/v1/audit_pb.js";
import { runQuery, type PipelineDeps } from "./pipeline.js";
import { AgencyRegistry } from "./registry.js";
import { CredexError } from "./errors.js";
import { ProviderCallError, type ProviderClient } from "./stages/fetch.js";
import type { AuditSink } from "./audit-sink.js";
import type { ExchangeContext } from "./exchange-context.js";
import type { PeerTls } from "./principal.js";
import { createCa, issueCertificate } from "../adapters/pki/certificate-authority.js";
import { RevocationSet } from "../gateway/revocation-set.js";

// The pipeline in memory: no sockets, no Kafka, no Casbin (STYLE.md: tests inject requests without sockets).
const company = { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" };
let peer: PeerTls;

beforeAll(async () => {
  const root = await createCa({ commonName: "root", keyBits: 2048 });
  const issuer = await createCa({ commonName: "issuing", keyBits: 2048, parent: root });
  const cert = await issueCertificate({ issuer, trustDomain: "t.example", kind: "agency", name: "bank", uscc: company.id, sector: "BANKING", keyBits: 2048 });
  peer = { secure: true, authorized: true, certificateDer: Buffer.from(new X509Certificate(cert.certPem).raw) };
}, 60_000);

class MemorySink implements AuditSink {
  events: AuditEvent[] = [];
  failing = false;
  async append(event: AuditEvent) {
    if (this.failing) throw new Error("disk on fire");
    this.events.push(event);
    return { medium: "memory", position: String(this.events.length) };
  }
  async flush() {}
  async close() {}
  describe() {
    return "memory";
  }
}

function setup(providers: ProviderClient) {
  const registry = new AgencyRegistry([
    { id: "bank", name: "bank", sector: "BANKING", uscc: company.id, categories: [], clearance: 4, protectionLevel: 3, status: "active" },
    { id: "sec", name: "sec", sector: "SECURITIES", uscc: company.id, providerEndpoint: "127.0.0.1:1", categories: ["securities_violation"], clearance: 4, protectionLevel: 3, status: "active" },
    { id: "fx", name: "fx", sector: "FOREX", uscc: company.id, providerEndpoint: "127.0.0.1:2", categories: ["forex_violation"], clearance: 4, protectionLevel: 3, status: "active" },
  ]);
  const sink = new MemorySink();
  const seen: ExchangeContext[] = [];
  const deps: PipelineDeps = {
    authenticate: { trustDomain: "t.example", registry, revocations: new RevocationSet() },
    authorize: {
      authorizer: () => ({ revision: "r1", decide: (r) => ({ allowed: r.purpose === "SUPERVISION" && r.level <= 3, matchedRule: "p, all", explicitDeny: false }) }),
      registry,
      levelCap: () => 4,
    },
    catalogue: { categories: new Map(["securities_violation", "forex_violation"].map((n) => [n, { name: n, level: 3, sensitive: false, negative: true, sectors: [], description: n, fields: new Map([["a", { level: 3, sensitive: false }]]) }])) },
    maxCategories: 8,
    providers,
    providerTimeoutMs: 1000,
    deadlineReserveMs: 10,
    auditSink: () => sink,
    pseudonymize: (t, id) => `ps(${t}:${id.length})`,
    pseudonymizeOperator: (agency, operator) => `op(${agency}:${operator.length})`,
    onExchange: (ctx) => seen.push(ctx),
  };
  return { deps, sink, seen };
}

const records: ProviderClient = {
  async fetch(agency, q) {
    if (agency.id === "fx") throw new ProviderCallError("UNAVAILABLE", "the provider is unreachable");
    return { records: [create(CreditRecordSchema, { recordId: "r1", ownerAgency: agency.id, subject: { type: q.subjectType, id: q.subjectId }, category: q.categories[0], level: 3, endedAt: timestampNow(), fields: [{ name: "a", value: "1", level: 3 }] })], bytes: 10 };
  },
};

const ctx = (): ExchangeContext => ({ exchangeId: "x-1", traceId: "t", gatewayInstance: "gw", method: "Query", receivedAt: new Date(), requestBytes: 42 });
const request = (purpose: Purpose) => create(QueryRequestSchema, { subject: company, categories: ["securities_violation", "forex_violation"], purpose });

describe("runQuery", () => {
  it("ok/answers a partial result and audits it once, before replying", async () => {
    const { deps, sink, seen } = setup(records);
    const out = await runQuery(deps, ctx(), peer, request(Purpose.SUPERVISION), undefined);
    expect(out.response.results.map((r) => [r.agencyId, AgencyStatus[r.status], r.records.length])).toEqual([["sec", "OK", 1], ["fx", "UNAVAILABLE", 0]]);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]!.decision!.effect).toBe(DecisionEffect.ALLOW);
    expect(Buffer.from(sink.events[0]!.responseDigest).length).toBe(32);
    expect(sink.events[0]!.subjectPseudonym).toBe("ps(1:18)");
    expect(seen).toHaveLength(1);
  });

  it("fail/denied exchanges are audited too", async () => {
    const { deps, sink } = setup(records);
    await expect(runQuery(deps, ctx(), peer, request(Purpose.LOAN_APPROVAL), undefined)).rejects.toMatchObject({ reason: "PURPOSE_NOT_PERMITTED" });
    expect(sink.events.map((e) => [e.decision!.effect, e.statusReason])).toEqual([[DecisionEffect.DENY, "PURPOSE_NOT_PERMITTED"]]);
  });

  it("fail/undecodable requests are refused after authentication and audited with their size", async () => {
    const { deps, sink } = setup(records);
    await expect(runQuery(deps, ctx(), peer, new CredexError("REQUEST_TOO_LARGE"), undefined)).rejects.toMatchObject({ reason: "REQUEST_TOO_LARGE" });
    expect(sink.events[0]!.requester!.agencyId).toBe("bank");
    expect(sink.events[0]!.requestBytes).toBe(42n);
  });

  it("fail/no audit, no answer: a sink failure withholds an allowed answer", async () => {
    const { deps, sink } = setup(records);
    sink.failing = true;
    await expect(runQuery(deps, ctx(), peer, request(Purpose.SUPERVISION), undefined)).rejects.toMatchObject({ reason: "AUDIT_UNAVAILABLE", code: 14 });
  });

  it("fail/a sink's own refusal reason is kept (spool full)", async () => {
    const { deps, sink } = setup(records);
    sink.append = async () => {
      throw new CredexError("AUDIT_SPOOL_FULL");
    };
    await expect(runQuery(deps, ctx(), peer, request(Purpose.SUPERVISION), undefined)).rejects.toMatchObject({ reason: "AUDIT_SPOOL_FULL" });
  });

  it("ok/a provider deadline comes from the caller's, less the reserve", async () => {
    let seenDeadline = 0;
    const { deps } = setup({ fetch: async (_a, _q, deadline) => ((seenDeadline = deadline.getTime()), { records: [], bytes: 0 }) });
    const callerDeadline = new Date(Date.now() + 500);
    await runQuery(deps, ctx(), peer, request(Purpose.SUPERVISION), callerDeadline);
    expect(seenDeadline).toBe(callerDeadline.getTime() - deps.deadlineReserveMs);
  });
});
