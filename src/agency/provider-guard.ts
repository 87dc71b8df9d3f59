import type { ServerCredentials, sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import type { FetchRequest } from "../gen/credex/v1/provider_pb.js";
import type { CreditRecord } from "../gen/credex/v1/types_pb.js";
import { CredexError, GrpcCode, toCredexError } from "../core/errors.js";
import type { ClientCertificate } from "../core/client-certificate.js";
import type { Logger } from "../core/logger.js";
import { authenticateGateway, type GatewayCaller } from "../core/provider/authenticate-gateway.js";
import { fetchLimits, recordsWithin, type ProviderCeiling } from "../core/provider/provider-ceiling.js";
import { isUndecodable, type UndecodableRequest } from "../adapters/grpc/service-definition.js";
import { statusFromError } from "../adapters/grpc/rich-status.js";
import { peerTlsOf } from "../adapters/grpc/peer-tls.js";
import { ReloadableServerCredentials, DEFAULT_TLS12_CIPHERS } from "../adapters/grpc/server-credentials.js";
import { createJsonLogger } from "../adapters/log/json-logger.js";
import { RevocationSet } from "../gateway/revocation-set.js";
import type { TlsFiles } from "../gateway/tls-files.js";
import { createTlsReloader, type ReloadOutcome } from "../gateway/tls-reloader.js";

export interface ProviderGuardOptions {
  /** The agency this provider serves for (log lines). */
  readonly agencyId: string;
  /** Only `spiffe://<trustDomain>/gateway` may call. */
  readonly trustDomain: string;
  /**
   * The provider's server certificate and key, the CA bundle callers must chain to, and the CRL
   * files (root's and issuing CA's: every certificate of the chain is checked). Re-read when they
   * change, under the gateway's rules: a set that is half written, mismatched, expired, or has a
   * stale or unsigned CRL is refused and the previous one stays in use.
   */
  readonly tls: TlsFiles;
  /** The agency's own ceiling: the highest level released per requester and category, whatever the gateway asks. */
  readonly ceiling: ProviderCeiling;
  /** Reload the TLS files when they change (default true). */
  readonly watchTls?: boolean;
  /** Every reload attempt, accepted or refused (refused ones are logged in any case). */
  readonly onTlsReload?: (outcome: ReloadOutcome) => void;
  /** Refusals (warn), ceiling cuts (info), refused reloads (warn). Default: JSON lines on stderr. */
  readonly logger?: Logger;
}

/** A grpc-js unary handler, as `server.addService` takes it. */
export type UnaryHandler<Req> = (call: ServerUnaryCall<Req | UndecodableRequest, unknown>, callback: sendUnaryData<unknown>) => void;

/**
 * The provider side of credex as one reusable piece: what any CreditProvider —
 * the reference agency here, or an agency's own grpc-js server — needs to
 * answer only the exchange gateway and to release no more than the agency
 * itself agrees to. Bind the server with `credentials`, wrap each handler in
 * `unary`, and filter Fetch answers through `limitFetch`.
 */
export interface ProviderGuard {
  /** mTLS server credentials (client certificate requested; certificate, CA bundle and CRLs hot-reloaded). */
  readonly credentials: ServerCredentials;
  /**
   * Wraps a handler: it runs only for this trust domain's gateway with a valid, unrevoked
   * certificate (checked on every call), on a request that decoded. Anything it throws becomes a
   * gRPC status with its catalogue reason (google.rpc.ErrorInfo); every refusal is logged.
   */
  unary<Req extends object, Res>(method: string, handle: (request: Req, caller: GatewayCaller) => Res | Promise<Res>): UnaryHandler<Req>;
  /**
   * The records of `held` this Fetch may release: the asked categories, each up to the lower of the
   * gateway's max_level and the agency's ceiling for the requester; fields above the ceiling removed.
   * Throws (for `unary` to answer) when the request has no level or no requester, or when the
   * ceiling releases none of the asked categories to the requester.
   */
  limitFetch(request: FetchRequest, held: readonly CreditRecord[]): CreditRecord[];
  /** Reloads the TLS files now. */
  reloadTls(): ReloadOutcome;
  close(): void;
}

const CODE_NAMES = Object.fromEntries(Object.entries(GrpcCode).map(([name, code]) => [code, name])) as Record<number, string>;

export function createProviderGuard(options: ProviderGuardOptions): ProviderGuard {
  const logger = options.logger ?? createJsonLogger({ component: "agency", write: (line) => void process.stderr.write(line) });
  const revocations = new RevocationSet();
  // eslint-disable-next-line prefer-const -- assigned once the TLS material has been checked
  let credentials: ReloadableServerCredentials;
  const tls = createTlsReloader({
    files: options.tls,
    apply: (m) => credentials.reload(m),
    revocations,
    watch: options.watchTls ?? true,
    onReload: (o) => {
      if (!o.ok) logger.warn("TLS reload refused; the previous material stays in use", { agency: options.agencyId, trigger: o.trigger, reason: o.reason });
      options.onTlsReload?.(o);
    },
  });
  credentials = new ReloadableServerCredentials(tls.current().material, { minVersion: "TLSv1.3", ciphers: DEFAULT_TLS12_CIPHERS });
  const deps = { trustDomain: options.trustDomain, revocations };

  return {
    credentials,
    unary<Req extends object, Res>(method: string, handle: (request: Req, caller: GatewayCaller) => Res | Promise<Res>): UnaryHandler<Req> {
      return (call, callback) => {
        let presented: ClientCertificate | undefined;
        const run = async () => {
          const caller = authenticateGateway(deps, peerTlsOf(call), (cert) => (presented = cert));
          const request = call.request;
          if (isUndecodable(request)) throw new CredexError(request.$undecodable);
          return handle(request, caller);
        };
        run().then(
          (reply) => callback(null, reply),
          (err: unknown) => {
            const refusal = toCredexError(err);
            const fields = {
              agency: options.agencyId,
              method,
              reason: refusal.reason,
              code: CODE_NAMES[refusal.code],
              caller: presented?.uris.join(" ") || undefined,
              serial: presented?.serial,
              detail: refusal.message,
            };
            if (refusal.reason === "INTERNAL") logger.error("call failed", { ...fields, cause: String((refusal.cause as Error | undefined)?.message ?? refusal.cause) });
            else logger.warn("call refused", fields);
            callback(statusFromError(refusal));
          },
        );
      };
    },
    limitFetch(request, held) {
      const limits = fetchLimits(options.ceiling, request);
      for (const l of limits.values()) {
        if (l.ceiling < l.asked) {
          logger.info("ceiling applied", { agency: options.agencyId, exchange: request.exchangeId, requester: request.requesterAgency, category: l.category, asked: l.asked, ceiling: l.ceiling });
        }
      }
      return recordsWithin(held, limits);
    },
    reloadTls: () => tls.reload("admin"),
    close: () => tls.close(),
  };
}
