/**
 * Helpers of the adversarial and chaos suites: clients that send what a
 * well-behaved client never would, and the "still serving" check every
 * adversarial case ends with.
 */
import { readFileSync } from "node:fs";
import { createSecureContext, type PeerCertificate } from "node:tls";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { expect } from "vitest";
import { AgencyStatus, CreditExchange } from "../../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import type { Federation } from "../../src/demo/federation.js";
import type { ExchangeClient } from "../../src/client/exchange-client.js";

export const QUERY_PATH = `/${CreditExchange.typeName}/${CreditExchange.method.query.name}`;
export const QUERY_STREAM_PATH = `/${CreditExchange.typeName}/${CreditExchange.method.queryStream.name}`;

export interface RawClient {
  /** Sends `bytes` as the request message of `path` and resolves to the response bytes. */
  call(path: string, bytes: Buffer, options?: { timeoutMs?: number }): Promise<Buffer>;
  /** Server-streaming variant: resolves to every message received. */
  stream(path: string, bytes: Buffer, options?: { timeoutMs?: number }): Promise<Buffer[]>;
  /** Bidirectional-streaming variant (reflection): sends one message, half-closes, resolves to every message received. */
  duplex(path: string, bytes: Buffer, options?: { timeoutMs?: number }): Promise<Buffer[]>;
  close(): void;
}

export interface ClientTls {
  readonly ca: string | Buffer;
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
}

/** A grpc-js client that sends raw request bytes, with any (or no) client certificate. */
export function rawClient(address: string, tls: ClientTls, channelOptions: Record<string, number | string> = {}): RawClient {
  const context = createSecureContext({ ca: tls.ca, ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}), minVersion: "TLSv1.2" });
  const creds = credentials.createFromSecureContext(context, {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => ((cert.subjectaltname ?? "").includes("/gateway") ? undefined : new Error("not the gateway")),
  });
  const client = new Client(address, creds, {
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_authority": "localhost",
    "grpc.max_send_message_length": 256 * 1024 * 1024,
    // Each raw client gets its own connection (grpc-js shares subchannels between clients otherwise).
    "grpc.use_local_subchannel_pool": 1,
    ...channelOptions,
  });
  const identity = (b: Buffer) => b;
  return {
    call(path, bytes, options = {}) {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(path, identity, identity, bytes, new Metadata(), { deadline: Date.now() + (options.timeoutMs ?? 10_000) }, (err: ServiceError | null, value?: Buffer) =>
          err ? reject(err) : resolve(value!),
        );
      });
    },
    stream(path, bytes, options = {}) {
      return new Promise((resolve, reject) => {
        const out: Buffer[] = [];
        const s = client.makeServerStreamRequest(path, identity, identity, bytes, new Metadata(), { deadline: Date.now() + (options.timeoutMs ?? 10_000) });
        s.on("data", (b: Buffer) => out.push(b));
        s.on("error", reject);
        s.on("end", () => resolve(out));
      });
    },
    duplex(path, bytes, options = {}) {
      return new Promise((resolve, reject) => {
        const out: Buffer[] = [];
        const s = client.makeBidiStreamRequest(path, identity, identity, new Metadata(), { deadline: Date.now() + (options.timeoutMs ?? 10_000) });
        s.on("data", (b: Buffer) => out.push(b));
        s.on("error", reject);
        s.on("end", () => resolve(out));
        s.end(bytes);
      });
    },
    close: () => client.close(),
  };
}

/** The TLS material of a federation member's good client certificate. */
export function agencyTls(fed: Federation, agencyId: string): Required<ClientTls> {
  const member = fed.pki.agencies[agencyId]!;
  return { ca: readFileSync(fed.pki.caBundle), cert: readFileSync(member.client.cert), key: readFileSync(member.client.key) };
}

const servingClients = new WeakMap<Federation, Map<string, ExchangeClient>>();

/** One client per agency and federation: fed.client() opens a new connection each time, which the per-agency connection limit counts. */
export function sharedClient(fed: Federation, agencyId: string): ExchangeClient {
  const byAgency = servingClients.get(fed) ?? new Map<string, ExchangeClient>();
  servingClients.set(fed, byAgency);
  const client = byAgency.get(agencyId) ?? fed.client(agencyId);
  byAgency.set(agencyId, client);
  return client;
}

/** Asserts the gateway still answers a well-formed query of a good agency in full. */
export async function expectStillServing(fed: Federation, agencyId = "nfra", downAgencies: readonly string[] = []): Promise<void> {
  const response = await sharedClient(fed, agencyId).query({ subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION });
  expect(response.exchangeId).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.results.length).toBeGreaterThan(0);
  for (const r of response.results) if (!downAgencies.includes(r.agencyId)) expect(r.status, `${r.agencyId}: ${r.detail}`).toBe(AgencyStatus.OK);
}
