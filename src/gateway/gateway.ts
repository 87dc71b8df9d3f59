import { createPrivateKey, randomUUID, X509Certificate } from "node:crypto";
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { create } from "@bufbuild/protobuf";
import { CreditExchange, QueryStreamResponseSchema, type QueryRequest, type QueryStreamRequest } from "../gen/credex/v1/exchange_pb.js";
import { CredexError, toCredexError } from "../core/errors.js";
import { runQuery, type PipelineDeps } from "../core/pipeline.js";
import { authenticateCertificate } from "../core/stages/authenticate.js";
import { AgencyRegistry } from "../core/registry.js";
import type { Authorizer } from "../core/authorizer.js";
import type { AuditHistory, AuditSink } from "../core/audit-sink.js";
import type { Catalogue } from "../core/catalogue.js";
import type { ExchangeContext } from "../core/exchange-context.js";
import type { ProviderClient } from "../core/stages/fetch.js";
import type { Pseudonymize, PseudonymizeOperator } from "../core/stages/audit.js";
import { loadStatutoryExemptions } from "../config/exemptions-file.js";
import type { ByteSealer } from "../core/audit/seal.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { loadCatalogue } from "../config/catalogue-file.js";
import { isUndecodable, requestSizeOf, serviceDefinitionOf, type UndecodableRequest } from "../adapters/grpc/service-definition.js";
import { statusFromError } from "../adapters/grpc/rich-status.js";
import { peerTlsOf } from "../adapters/grpc/peer-tls.js";
import type { PeerTls, Principal } from "../core/principal.js";
import { ReloadableServerCredentials, DEFAULT_TLS12_CIPHERS, type TlsMaterial } from "../adapters/grpc/server-credentials.js";
import { createGrpcProviderClient } from "../adapters/grpc/provider-client.js";
import { addReflection } from "../adapters/grpc/reflection.js";
import { HEALTH_SERVICE_NAME, healthFileDescriptor } from "../adapters/grpc/health-descriptor.js";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "../gen/google/rpc/status_pb.js";
import { RevocationSet } from "./revocation-set.js";
import { createGatewayAgencyLimits } from "./agency-limits.js";
import { createAdmission } from "../core/limits/admission.js";
import { listenerServerOptions } from "./listener-limits.js";
import { sessionOfCall, type Http2SessionGuard } from "../adapters/grpc/http2-session-guard.js";
import { createSpecialAccessHandlers } from "./special-access-service.js";
import { createSubjectQueriesHandlers } from "./subject-queries-service.js";
import type { QueryHistorySource } from "../core/subject-queries/list-subject-queries.js";
import { SpecialAccessRegistry } from "../core/special-access/special-access-registry.js";
import { NO_LOGGER, type Logger } from "../core/logger.js";
import { createExchangeLog } from "../core/exchange-log.js";
import type { ControlResult } from "../core/posture/posture-evidence.js";
import { startObservability, type RunningObservability } from "./observability.js";
import type { RotatingCheckpointSigner } from "../core/audit/checkpoint.js";
import type { ChainRestart } from "../core/audit/chain-restart.js";
import { startGatewayCertificates } from "./gateway-certificates.js";
import type { ReloadOutcome } from "./tls-reloader.js";
import type { CertificateExpiring, CertificateExpiryEntry } from "../core/certificate-expiry.js";
import type { ControlChannel } from "../core/control/control-channel.js";
import type { ControlConsumer } from "../core/control/control-consumer.js";
import { POLICY_BUNDLE_ITEM } from "../core/control/policy-bundle-item.js";
import { createPolicyUpdates, type PolicyApplied, type PolicyRejected, type PolicyUpdates } from "./policy-updates.js";
import { randomTraceId } from "./trace-id.js";
import type { ObjectionDelivery } from "../core/objections/objection-calls.js";
import { startMemberServices, type MemberServiceParts, type MemberServices } from "./member-services.js";
import { createRuntimeSettings, type RuntimeSettingRefused, type RuntimeSettings } from "./runtime-settings.js";
import type { AgencyRateLimit } from "../core/agency-rate-limiter.js";
import type { RuntimeSettingRecord } from "../core/control/runtime-setting-item.js";
import type { ControlItem } from "../core/control/control-item.js";
import { startDisclosureService, type DisclosureService, type DisclosureServiceParts } from "./disclosure-service.js";

/** Parts a test or an embedding program may supply instead of the ones built from config. */
export interface GatewayParts {
  readonly authorizer: Authorizer;
  readonly auditSink: AuditSink;
  readonly pseudonymize: Pseudonymize;
  /** Keyed pseudonym of a query's human operator (Art. 22). */
  readonly pseudonymizeOperator: PseudonymizeOperator;
  /** Seals list log entries at rest (the audit key ring, use "lists"): the log holds no subject id in clear. */
  readonly listSealer: ByteSealer;
  /** Seals the owners' statements answering objections (the audit key ring, use "objections"). */
  readonly objectionSealer: ByteSealer;
  readonly providers?: ProviderClient;
  readonly onExchange?: (ctx: ExchangeContext) => void;
  /** Special applications and grants (in memory when absent). */
  readonly specialAccess?: SpecialAccessRegistry;
  /** Structured logs (one line per exchange, posture, metrics); none by default. */
  readonly logger?: Logger;
  /** A posture control went from pass/warn to fail at the periodic check: raise an incident. */
  readonly onPostureRegression?: (control: ControlResult) => void;
  /** A certificate of the gateway or of an agency has crossed 30, 7 or 1 days left (incident handling). */
  readonly onCertificateExpiring?: (event: CertificateExpiring) => void;
  /** The control channel to use instead of the one config.control describes (tests). */
  readonly controlChannel?: ControlChannel;
  readonly onProhibited?: PipelineDeps["onProhibited"];
  /** Per-agency rate check (the incident system's limiter): throws RATE_LIMITED; part of the gateway's one admission point. */
  readonly admit?: (principal: Principal) => void;
  /** A provider labelled records less strictly than the catalogue (incident handling). */
  readonly onDataQuality?: PipelineDeps["onDataQuality"];
  /** A signed policy bundle from the control topic is in force on this replica. */
  readonly onPolicyApplied?: (event: PolicyApplied) => void;
  /** A policy bundle was refused (parse, tests, signature); the old policy stays (incident detector). */
  readonly onPolicyRejected?: (event: PolicyRejected) => void;
  /** Lists and objections: log, objection store, clock, onObjectionOverdue (src/gateway/member-services.ts). */
  readonly members?: MemberServiceParts;
  /** The audit sink's checkpoint signer, switched with each TLS reload so checkpoints are signed with the served key. */
  readonly checkpointSigner?: RotatingCheckpointSigner;
  /** The audit sink started an announced new chain (--new-audit-chain): raised as an incident. */
  readonly onAuditChainRestart?: (restart: ChainRestart) => void;
  /** This gateway's audit read back at start (the records agencies received: standing to object); none: start empty. */
  readonly auditHistory?: AuditHistory;
  /** A subject's queries read from the audit (ListSubjectQueries); none: that call is refused with AUDIT_UNAVAILABLE. */
  readonly queryHistory?: QueryHistorySource;
  /** Where fleet-wide throttles (control topic) bind: the per-agency rate limiter behind `admit`. */
  readonly agencyThrottle?: { throttle(agencyId: string, limit: AgencyRateLimit): void; unthrottle(agencyId: string): void };
  /** A suspension, throttle or restricted-mode record on the control topic was refused (forged, replayed, not a replica's). */
  readonly onRuntimeSettingRefused?: (refused: RuntimeSettingRefused) => void;
  /** A suspension, throttle or restricted mode is in force on this replica (set here or received from the topic). */
  readonly onRuntimeSettingApplied?: (record: RuntimeSettingRecord, item: ControlItem) => void;
  /** The public disclosure feed: log, clock, onLatePublication (src/gateway/disclosure-service.ts). */
  readonly disclosure?: DisclosureServiceParts;
}

export interface RunningGateway {
  readonly config: GatewayConfig;
  readonly port: number;
  /** host:port the gateway listens on. */
  readonly address: string;
  readonly registry: AgencyRegistry;
  readonly revocations: RevocationSet;
  /** Per-agency usage and transport-protection figures (README "Limits"). */
  readonly limits: { usage(agencyId: string): { calls: number; connections: number }; readonly transport: Http2SessionGuard["stats"] };
  readonly catalogue: Catalogue;
  readonly specialAccess: SpecialAccessRegistry;
  /**
   * Re-reads certificate, key, CA bundle and CRLs from their files; new
   * handshakes use them, open calls continue. Throws with the reason when the
   * set is refused (unparsable, key not matching, stale CRL): the old set stays.
   */
  reloadTls(): ReloadOutcome;
  /**
   * The server credentials every listener of this gateway binds with (public,
   * admin): one TLS policy (config tls.minVersion, the suite list) and one
   * material, swapped for all of them together on every reload.
   */
  readonly tlsCredentials: ReloadableServerCredentials;
  /** The gateway's and the seen agencies' certificates, soonest expiry first (metrics). */
  certificateExpiry(): CertificateExpiryEntry[];
  /** The consumer of the control topic (add handlers for new item types with on()), when configured. */
  readonly control: ControlConsumer | undefined;
  /** Policy bundles received over the control topic (applied/rejected counts, settled()). */
  readonly policyUpdates: PolicyUpdates;
  /** Replaces the policy in force atomically (a new evaluator; the old one finishes the exchanges that began with it). */
  setAuthorizer(next: Authorizer): void;
  authorizer(): Authorizer;
  /** Restricted mode: only level-1 data flows (incident containment). On this replica only; runtimeSettings.set reaches the fleet. */
  setRestrictedMode(on: boolean): void;
  restrictedMode(): boolean;
  /** Suspensions, throttles and restricted mode for the whole fleet (signed, on the control topic). */
  readonly runtimeSettings: RuntimeSettings;
  auditSink(): AuditSink;
  /** Metrics endpoint, telemetry gauges and posture monitor; present when the config has an observability section. */
  readonly observability?: RunningObservability | undefined;
  /** Joint reward and punishment lists and objections (issue 9). */
  readonly members: MemberServices;
  /** The public disclosure feed (PublishDisclosures; docs/disclosure.md). */
  readonly disclosure: DisclosureService;
  /** Stops accepting calls, drains those in flight (up to graceMs), flushes and closes the audit sink. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The credex gateway: CreditExchange over mTLS, with health and reflection.
 * Wires the pipeline of src/core/pipeline.ts to grpc-js.
 */
export async function startGateway(config: GatewayConfig, parts: GatewayParts): Promise<RunningGateway> {
  const registry = new AgencyRegistry(config.agencies);
  const catalogue = loadCatalogue(config.policy.categories);
  const revocations = new RevocationSet();
  let authorizer = parts.authorizer;
  const policyUpdates = createPolicyUpdates({
    instance: config.instance,
    agencies: config.agencies,
    current: () => authorizer,
    swap: (next) => void (authorizer = next),
    auditSink: () => parts.auditSink,
    onPolicyApplied: parts.onPolicyApplied,
    onPolicyRejected: parts.onPolicyRejected,
  });
  let restricted = false;
  // eslint-disable-next-line prefer-const -- assigned once the TLS material has been checked
  let credentials: ReloadableServerCredentials;
  // eslint-disable-next-line prefer-const -- assigned below; the settings use it only after start
  let certificates: Awaited<ReturnType<typeof startGatewayCertificates>>;
  const runtimeSettings = createRuntimeSettings({
    registry,
    setRestricted: (on) => void (restricted = on),
    throttle: parts.agencyThrottle,
    trust: { trustDomain: config.trustDomain, isRevoked: (serial) => revocations.lookup(serial) !== undefined },
    trusted: () => certificates.trusted(),
    signer: () => {
      const m = certificates.material();
      return { certificate: new X509Certificate(m.cert), key: createPrivateKey(m.key) };
    },
    publish: () => certificates.publish,
    log: (fields) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: "gateway-control", instance: config.instance, ...fields })}\n`),
    onRefused: parts.onRuntimeSettingRefused,
    onApplied: parts.onRuntimeSettingApplied,
  });
  certificates = await startGatewayCertificates({
    config,
    apply: (m) => {
      // The checkpoint signer is checked first: a key it cannot use refuses the whole reload.
      const switchSigner = parts.checkpointSigner?.prepare({ privateKeyPem: m.key.toString("utf8"), certificatePem: m.cert.toString("utf8") });
      credentials.reload(m);
      switchSigner?.();
    },
    revocations,
    onCertificateExpiring: parts.onCertificateExpiring,
    controlChannel: parts.controlChannel,
    // Runtime settings are replayed with the rest of the topic, before the gateway serves its first call.
    controlHandlers: { [POLICY_BUNDLE_ITEM]: (item) => policyUpdates.handle(item), ...runtimeSettings.handlers },
    controlVerifiers: runtimeSettings.verifiers,
    onControlRejected: (err, key) => {
      policyUpdates.refused(err, key);
      runtimeSettings.refused(err, key);
    },
  });
  // A replica starts serving with the latest bundle of the topic, not the policy files of its config.
  await policyUpdates.start();
  const material = (): TlsMaterial => certificates.material();
  let acceptingCalls = true;

  credentials = new ReloadableServerCredentials(material(), { minVersion: config.tls.minVersion, ciphers: DEFAULT_TLS12_CIPHERS });
  const providers =
    parts.providers ??
    createGrpcProviderClient({ trustDomain: config.trustDomain, tls: material, maxResponseBytes: config.limits.maxProviderResponseBytes });

  const specialAccess = parts.specialAccess ?? new SpecialAccessRegistry();
  const logger = parts.logger ?? NO_LOGGER;
  const observability = config.observability
    ? await startObservability({ config, observability: config.observability, logger, auditSink: () => parts.auditSink, policyRevision: () => authorizer.revision })
    : undefined;
  const exchangeLog = createExchangeLog({ logger: logger.child("exchange"), pseudonymize: parts.pseudonymize, successLevel: config.observability?.exchangeLogLevel });

  const agencyLimits = createGatewayAgencyLimits(config.limits);
  // The connection joins the TLS facts for the per-agency connection limit; kept per facts object so that
  // TLS 1.3 connections (whose facts peerTlsOf reads once) allocate nothing per call.
  const withConnection = new WeakMap<PeerTls, PeerTls>();
  const peerOf = (call: object): PeerTls => {
    const facts = peerTlsOf(call);
    let peer = withConnection.get(facts);
    if (!peer) withConnection.set(facts, (peer = { ...facts, connection: sessionOfCall(call) }));
    return peer;
  };

  // One admission point for every CreditExchange method an agency calls (rate, then concurrency and
  // connections): queries, special applications, lists and objections alike (README "Limits").
  const admission = createAdmission({ rate: parts.admit, slots: agencyLimits.holdCallSlot });

  const deps: PipelineDeps = {
    authenticate: { trustDomain: config.trustDomain, registry, revocations },
    authorize: { authorizer: () => authorizer, registry, levelCap: () => (restricted ? 1 : 4), catalogue },
    catalogue,
    maxCategories: config.limits.maxCategories,
    providers,
    providerTimeoutMs: config.limits.providerTimeoutMs,
    deadlineReserveMs: config.limits.deadlineReserveMs,
    auditSink: () => parts.auditSink,
    pseudonymize: parts.pseudonymize,
    pseudonymizeOperator: parts.pseudonymizeOperator,
    exemptions: loadStatutoryExemptions(config.policy.exemptions, new Set(catalogue.categories.keys())),
    admission,
    onExchange: (ctx) => {
      certificates.observeExchange(ctx);
      members.noteExchange(ctx);
      parts.onExchange?.(ctx);
      exchangeLog(ctx);
    },
    telemetry: observability?.telemetry,
    specialAccess,
    onProhibited: parts.onProhibited,
    onDataQuality: parts.onDataQuality,
    // Art. 25: records under an open objection are released marked disputed.
    isDisputed: (owner, recordId) => members.objections.isDisputed(owner, recordId),
  };
  // Objections go to the owners' CreditProvider: the exchange's own client when it can carry them, else one of its own (closed on stop).
  const ownDelivery = isObjectionDelivery(providers)
    ? undefined
    : createGrpcProviderClient({ trustDomain: config.trustDomain, tls: material, maxResponseBytes: config.limits.maxProviderResponseBytes });
  const objectionDelivery: ObjectionDelivery = ownDelivery ?? (providers as ProviderClient & ObjectionDelivery);
  const members = await startMemberServices({
    config,
    authenticate: deps.authenticate,
    authorizer: () => authorizer,
    auditSink: () => parts.auditSink,
    pseudonymize: parts.pseudonymize,
    listSealer: parts.listSealer,
    objectionSealer: parts.objectionSealer,
    delivery: objectionDelivery,
    acceptingCalls: () => acceptingCalls,
    admission,
    auditHistory: parts.auditHistory,
    parts: parts.members,
  });

  const disclosure = await startDisclosureService({
    config,
    catalogue,
    authenticate: deps.authenticate,
    auditSink: () => parts.auditSink,
    pseudonymize: parts.pseudonymize,
    material,
    acceptingCalls: () => acceptingCalls,
    admission,
    logger,
    parts: parts.disclosure,
  });

  const newContext = (method: string, call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>, request: unknown): ExchangeContext => ({
    exchangeId: randomUUID(),
    traceId: traceIdOf(call.metadata.get("traceparent")[0]),
    traceparent: validTraceparent(call.metadata.get("traceparent")[0]),
    gatewayInstance: config.instance,
    method,
    receivedAt: new Date(),
    peerAddress: call.getPeer(),
    requestBytes: requestSizeOf(request as object),
  });

  const requestOrError = (request: QueryRequest | UndecodableRequest | undefined): QueryRequest | CredexError => {
    if (!acceptingCalls) return new CredexError("SHUTTING_DOWN");
    if (request === undefined) return new CredexError("REQUEST_MALFORMED", "the request has no query");
    if (isUndecodable(request)) return new CredexError(request.$undecodable, `the request could not be accepted: ${request.detail}`, { size: String(request.size) });
    return request;
  };

  const handlers = {
    ...createSpecialAccessHandlers({
      instance: config.instance,
      authenticate: deps.authenticate,
      registry,
      catalogue,
      specialAccess,
      auditSink: () => parts.auditSink,
      pseudonymize: parts.pseudonymize,
      acceptingCalls: () => acceptingCalls,
      admission,
    }),
    ...createSubjectQueriesHandlers({
      instance: config.instance,
      authenticate: deps.authenticate,
      auditSink: () => parts.auditSink,
      pseudonymize: parts.pseudonymize,
      history: parts.queryHistory,
      admission,
      acceptingCalls: () => acceptingCalls,
      windowDays: 365,
      maxQueries: 1_000,
    }),
    query(call: ServerUnaryCall<QueryRequest | UndecodableRequest, Buffer>, callback: sendUnaryData<Buffer>) {
      const ctx = newContext("Query", call, call.request);
      runQuery(deps, ctx, peerOf(call), requestOrError(call.request), deadlineOf(call.getDeadline())).then(
        (outcome) => callback(null, outcome.responseBytes),
        (err) => callback(statusFromError(toCredexError(err))),
      );
    },
    queryStream(call: ServerWritableStream<QueryStreamRequest | UndecodableRequest, unknown>) {
      const ctx = newContext("QueryStream", call, call.request);
      const raw = call.request;
      const request = isUndecodable(raw) ? raw : raw.query;
      const batchSize = !isUndecodable(raw) && raw.batchSize > 0 ? Math.min(raw.batchSize, config.limits.queryStreamBatchSize) : config.limits.queryStreamBatchSize;
      runQuery(deps, ctx, peerOf(call), requestOrError(request), deadlineOf(call.getDeadline())).then(
        (outcome) => {
          // Released only now that the whole answer is audited; batches keep each message small.
          const results = outcome.response.results;
          for (const result of results) {
            const records = result.records;
            for (let i = 0; i === 0 || i < records.length; i += batchSize) {
              const batch = { ...result, records: records.slice(i, i + batchSize), withheld: i === 0 ? result.withheld : [] };
              call.write(create(QueryStreamResponseSchema, { exchangeId: ctx.exchangeId, batch, last: false }));
            }
          }
          call.write(create(QueryStreamResponseSchema, { exchangeId: ctx.exchangeId, last: true }));
          call.end();
        },
        (err) => call.emit("error", statusFromError(toCredexError(err))),
      );
    },
  };

  const server = new Server(listenerServerOptions(config.limits));
  server.addService(serviceDefinitionOf(CreditExchange, { maxRequestBytes: config.limits.maxRequestBytes }), { ...handlers, ...members.handlers, ...disclosure.handlers } as never);
  const health = new HealthImplementation({ "": "SERVING", [CreditExchange.typeName]: "SERVING" });
  health.addToServer(server);
  // Reflection only to a caller whose certificate the exchange CA vouches for (any role); health stays open for load balancers.
  addReflection(
    server,
    [CreditExchange],
    { admit: (call) => void authenticateCertificate(deps.authenticate, peerTlsOf(call)), alsoDescribe: [{ typeName: HEALTH_SERVICE_NAME, fileDescriptorProtos: [healthFileDescriptor()] }] },
    [file_google_rpc_error_details, file_google_rpc_status],
  );

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(config.listen, credentials as ServerCredentials, (err, boundPort) => (err ? reject(err) : resolve(boundPort))),
  ).catch(async (err: unknown) => {
    await observability?.stop();
    await certificates.close();
    throw err;
  });
  const sessionGuard = agencyLimits.guard(server);
  const host = config.listen.slice(0, config.listen.lastIndexOf(":"));
  observability?.startPostureMonitor(`${host}:${port}`, parts.onPostureRegression);

  return {
    config,
    port,
    address: `${host}:${port}`,
    registry,
    revocations,
    limits: { usage: (agencyId) => agencyLimits.limiter.usage(agencyId), transport: sessionGuard.stats },
    catalogue,
    specialAccess,
    reloadTls: () => certificates.reload("admin"),
    tlsCredentials: credentials,
    certificateExpiry: () => certificates.certificateExpiry(),
    control: certificates.control,
    policyUpdates,
    setAuthorizer(next) {
      authorizer = next;
    },
    authorizer: () => authorizer,
    setRestrictedMode(on) {
      restricted = on;
    },
    restrictedMode: () => restricted,
    runtimeSettings,
    auditSink: () => parts.auditSink,
    observability,
    members,
    disclosure,
    async stop(graceMs = 10_000) {
      acceptingCalls = false;
      health.setStatus("", "NOT_SERVING");
      health.setStatus(CreditExchange.typeName, "NOT_SERVING");
      members.endSubscriptions();
      // Drain: no new calls, in-flight calls finish (each waits for its own audit record).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await members.close();
      await disclosure.close();
      if ("close" in providers && typeof providers.close === "function") providers.close();
      ownDelivery?.close();
      await certificates.close();
      await parts.auditSink.flush();
      await parts.auditSink.close();
      await observability?.stop();
    },
  };
}

function isObjectionDelivery(providers: ProviderClient): providers is ProviderClient & ObjectionDelivery {
  return "receiveObjection" in providers && typeof providers.receiveObjection === "function";
}

function deadlineOf(deadline: Date | number): Date | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/** The header itself when it is a valid W3C traceparent (version 00), so the exchange's trace continues the caller's. */
function validTraceparent(traceparent: unknown): string | undefined {
  if (typeof traceparent !== "string") return undefined;
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent.trim());
  return m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!) ? traceparent.trim() : undefined;
}

/** The trace id of a W3C traceparent header (https://www.w3.org/TR/trace-context/), or a fresh one. */
function traceIdOf(traceparent: unknown): string {
  if (typeof traceparent === "string") {
    const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent.trim());
    if (m && m[1] !== "0".repeat(32)) return m[1]!;
  }
  return randomTraceId();
}
