import { Server, type ServerCredentials, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { create } from "@bufbuild/protobuf";
import { CreditProvider, FetchResponseSchema, type FetchRequest } from "../gen/credex/v1/provider_pb.js";
import { ReceiveObjectionResponseSchema, type ReceiveObjectionRequest } from "../gen/credex/v1/objections_pb.js";
import type { CreditRecord } from "../gen/credex/v1/types_pb.js";
import { CredexError } from "../core/errors.js";
import { readClientCertificate } from "../core/client-certificate.js";
import { isUndecodable, serviceDefinitionOf, type UndecodableRequest } from "../adapters/grpc/service-definition.js";
import { statusFromError } from "../adapters/grpc/rich-status.js";
import { peerTlsOf } from "../adapters/grpc/peer-tls.js";
import { ReloadableServerCredentials, DEFAULT_TLS12_CIPHERS } from "../adapters/grpc/server-credentials.js";
import type { TlsFiles } from "../gateway/tls-files.js";
import { createTlsReloader, type ReloadOutcome } from "../gateway/tls-reloader.js";

export interface ReferenceAgencyOptions {
  readonly agencyId: string;
  readonly trustDomain: string;
  readonly listen: string;
  readonly tls: TlsFiles;
  readonly records: CreditRecord[];
  /** Answer this much later (tests and demos of slow providers). */
  readonly delayMs?: number;
  /** Reload the TLS files when they change (default true). */
  readonly watchTls?: boolean;
  /** Every reload attempt, accepted or refused (default: refused ones are logged on stderr). */
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
 * exchange gateway may call it (URI SAN spiffe://<trust-domain>/gateway):
 * agencies exchange through the gateway, never directly.
 */
export async function startReferenceAgency(options: ReferenceAgencyOptions): Promise<RunningAgency> {
  // eslint-disable-next-line prefer-const -- assigned once the TLS material has been checked
  let credentials: ReloadableServerCredentials;
  const tls = createTlsReloader({
    files: options.tls,
    apply: (m) => credentials.reload(m),
    watch: options.watchTls ?? true,
    onReload:
      options.onTlsReload ??
      ((o) => {
        if (!o.ok) process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: "agency", agency: options.agencyId, msg: "TLS reload refused; the previous material stays in use", reason: o.reason })}\n`);
      }),
  });
  credentials = new ReloadableServerCredentials(tls.current().material, { minVersion: "TLSv1.3", ciphers: DEFAULT_TLS12_CIPHERS });
  const bySubject = new Map<string, CreditRecord[]>();
  for (const record of options.records) {
    const key = `${record.subject?.type}:${record.subject?.id}`;
    bySubject.set(key, [...(bySubject.get(key) ?? []), record]);
  }

  const objections: ReceiveObjectionRequest[] = [];
  const server = new Server();
  server.addService(serviceDefinitionOf(CreditProvider, { maxRequestBytes: 64 * 1024 }), {
    fetch(call: ServerUnaryCall<FetchRequest | UndecodableRequest, unknown>, callback: sendUnaryData<unknown>) {
      try {
        checkCallerIsGateway(call, options.trustDomain);
        const request = call.request;
        if (isUndecodable(request)) throw new CredexError(request.$undecodable);
        const categories = new Set(request.categories);
        // Minimum necessary (PIPL Art. 6): only the asked categories, up to the level the gateway may release.
        const records = (bySubject.get(`${request.subject?.type}:${request.subject?.id}`) ?? []).filter(
          (r) => categories.has(r.category) && (request.maxLevel === 0 || r.level <= request.maxLevel),
        );
        const reply = create(FetchResponseSchema, { records });
        if (options.delayMs) setTimeout(() => callback(null, reply), options.delayMs);
        else callback(null, reply);
      } catch (err) {
        callback(statusFromError(err instanceof CredexError ? err : new CredexError("INTERNAL", undefined, {}, { cause: err })));
      }
    },
    receiveObjection(call: ServerUnaryCall<ReceiveObjectionRequest | UndecodableRequest, unknown>, callback: sendUnaryData<unknown>) {
      try {
        checkCallerIsGateway(call, options.trustDomain);
        const request = call.request;
        if (isUndecodable(request)) throw new CredexError(request.$undecodable);
        const held = bySubject.get(`${request.subject?.type}:${request.subject?.id}`) ?? [];
        const recordFound = held.some((r) => r.recordId === request.recordId);
        if (recordFound) {
          objections.push(request);
          options.onObjection?.(request);
        }
        callback(null, create(ReceiveObjectionResponseSchema, { recordFound }));
      } catch (err) {
        callback(statusFromError(err instanceof CredexError ? err : new CredexError("INTERNAL", undefined, {}, { cause: err })));
      }
    },
  } as never);
  new HealthImplementation({ "": "SERVING", [CreditProvider.typeName]: "SERVING" }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.listen, credentials as ServerCredentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = options.listen.slice(0, options.listen.lastIndexOf(":"));
  return {
    agencyId: options.agencyId,
    objections,
    port,
    address: `${host}:${port}`,
    reloadTls() {
      const outcome = tls.reload("admin");
      if (!outcome.ok) throw new Error(outcome.reason);
      return outcome;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        tls.close();
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

function checkCallerIsGateway(call: object, trustDomain: string): void {
  const peer = peerTlsOf(call);
  if (!peer.certificateDer) throw new CredexError("CLIENT_CERT_MISSING");
  if (!peer.authorized) throw new CredexError("CLIENT_CERT_UNTRUSTED", undefined, { verify_error: peer.authorizationError ?? "UNKNOWN" });
  const cert = readClientCertificate(peer.certificateDer);
  if (!cert.uris.includes(`spiffe://${trustDomain}/gateway`)) throw new CredexError("CALLER_NOT_GATEWAY");
}
