import { Server, type ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { create } from "@bufbuild/protobuf";
import { CreditProvider, FetchResponseSchema, type FetchRequest } from "../gen/credex/v1/provider_pb.js";
import { ReceiveObjectionResponseSchema, type ReceiveObjectionRequest } from "../gen/credex/v1/objections_pb.js";
import type { CreditRecord } from "../gen/credex/v1/types_pb.js";
import type { Logger } from "../core/logger.js";
import type { ProviderCeiling } from "../core/provider/provider-ceiling.js";
import { serviceDefinitionOf } from "../adapters/grpc/service-definition.js";
import type { TlsFiles } from "../gateway/tls-files.js";
import type { ReloadOutcome } from "../gateway/tls-reloader.js";
import { createProviderGuard } from "./provider-guard.js";

export interface ReferenceAgencyOptions {
  readonly agencyId: string;
  readonly trustDomain: string;
  readonly listen: string;
  /** Server certificate and key, the CA bundle, and the CRL files the gateway's certificate is checked against (re-read on change). */
  readonly tls: TlsFiles;
  readonly records: CreditRecord[];
  /** The agency's own ceiling per requester and category (provider-guard.ts); a category it does not list is never released. */
  readonly ceiling: ProviderCeiling;
  /** Refusals, ceiling cuts and refused TLS reloads (default: JSON lines on stderr). */
  readonly logger?: Logger;
  /** Answer this much later (tests and demos of slow providers). */
  readonly delayMs?: number;
  /** Reload the TLS files when they change (default true). */
  readonly watchTls?: boolean;
  /** Every reload attempt, accepted or refused (refused ones are logged in any case). */
  readonly onTlsReload?: (outcome: ReloadOutcome) => void;
  /** Called with every objection received (Art. 25); the agency answers through CreditExchange.ResolveObjection. */
  readonly onObjection?: (objection: ReceiveObjectionRequest) => void;
}

export interface RunningAgency {
  readonly agencyId: string;
  /** Objections received so far, oldest first (the reference agency keeps the grounds; the gateway does not). */
  readonly objections: readonly ReceiveObjectionRequest[];
  readonly port: number;
  readonly address: string;
  /** Reloads the TLS files now; throws with the reason when the set is refused (the old one stays). */
  reloadTls(): ReloadOutcome;
  stop(): Promise<void>;
}

/**
 * A CreditProvider that serves records from a dataset over mTLS. Only the
 * exchange gateway may call it (URI SAN spiffe://<trust-domain>/gateway, a
 * certificate its CRLs do not revoke, checked on every call): agencies
 * exchange through the gateway, never directly. Whatever level the gateway
 * asks for, it releases no more than its own ceiling (provider-guard.ts).
 */
export async function startReferenceAgency(options: ReferenceAgencyOptions): Promise<RunningAgency> {
  const guard = createProviderGuard({
    agencyId: options.agencyId,
    trustDomain: options.trustDomain,
    tls: options.tls,
    ceiling: options.ceiling,
    ...(options.watchTls !== undefined ? { watchTls: options.watchTls } : {}),
    ...(options.onTlsReload ? { onTlsReload: options.onTlsReload } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const bySubject = new Map<string, CreditRecord[]>();
  for (const record of options.records) {
    const key = `${record.subject?.type}:${record.subject?.id}`;
    bySubject.set(key, [...(bySubject.get(key) ?? []), record]);
  }

  const objections: ReceiveObjectionRequest[] = [];
  const server = new Server();
  server.addService(serviceDefinitionOf(CreditProvider, { maxRequestBytes: 64 * 1024 }), {
    fetch: guard.unary("Fetch", async (request: FetchRequest) => {
      // Minimum necessary (PIPL Art. 6): only the asked categories, up to the lower of the gateway's level and the agency's own ceiling.
      const records = guard.limitFetch(request, bySubject.get(`${request.subject?.type}:${request.subject?.id}`) ?? []);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      return create(FetchResponseSchema, { records });
    }),
    receiveObjection: guard.unary("ReceiveObjection", (request: ReceiveObjectionRequest) => {
      const held = bySubject.get(`${request.subject?.type}:${request.subject?.id}`) ?? [];
      const recordFound = held.some((r) => r.recordId === request.recordId);
      if (recordFound) {
        objections.push(request);
        options.onObjection?.(request);
      }
      return create(ReceiveObjectionResponseSchema, { recordFound });
    }),
  } as never);
  new HealthImplementation({ "": "SERVING", [CreditProvider.typeName]: "SERVING" }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.listen, guard.credentials as ServerCredentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = options.listen.slice(0, options.listen.lastIndexOf(":"));
  return {
    agencyId: options.agencyId,
    objections,
    port,
    address: `${host}:${port}`,
    reloadTls() {
      const outcome = guard.reloadTls();
      if (!outcome.ok) throw new Error(outcome.reason);
      return outcome;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        guard.close();
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 5_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
