import { randomUUID } from "node:crypto";
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from "@grpc/grpc-js";
import type { PublishListEntriesRequest, SubscribeListsRequest, SubscribeListsResponse } from "../gen/credex/v1/lists_pb.js";
import type {
  FileObjectionRequest,
  ListCorrectionNoticesRequest,
  ListObjectionAnswersRequest,
  ListObjectionsRequest,
  Objection,
  ResolveObjectionRequest,
} from "../gen/credex/v1/objections_pb.js";
import { CredexError, toCredexError } from "../core/errors.js";
import type { AuditHistory, AuditSink } from "../core/audit-sink.js";
import type { ExchangeContext } from "../core/exchange-context.js";
import type { Authorizer } from "../core/authorizer.js";
import type { AuthenticateDeps } from "../core/stages/authenticate.js";
import type { Pseudonymize } from "../core/stages/audit.js";
import type { MemberCallContext } from "../core/audit/member-call-event.js";
import type { Admission } from "../core/limits/admission.js";
import type { ListLog } from "../core/lists/list-log.js";
import type { ListDeps } from "../core/lists/list-deps.js";
import { publishListEntries } from "../core/lists/publish-list-entries.js";
import { subscribeLists } from "../core/lists/subscribe-lists.js";
import { ObjectionRegistry, type ObjectionStore } from "../core/objections/objection-registry.js";
import {
  fileObjection,
  listCorrectionNotices,
  listObjectionAnswers,
  listObjections,
  raiseOverdueObjections,
  resolveObjection,
  type ObjectionDelivery,
  type ObjectionDeps,
} from "../core/objections/objection-calls.js";
import { createRecordReceipts, receiptsOfAuditEvent, receiptsOfExchange, type RecordReceipts } from "../core/objections/record-receipts.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { loadListCatalogue } from "../config/list-catalogue-file.js";
import { openFileListLog } from "../adapters/lists/file-list-log.js";
import { sealListLog } from "../core/lists/sealed-list-log.js";
import type { ByteSealer } from "../core/audit/seal.js";
import { openKafkaListLog } from "../adapters/kafka/kafka-list-log.js";
import { createFileObjectionStore } from "../adapters/objections/file-objection-store.js";
import { isUndecodable, requestSizeOf, type UndecodableRequest } from "../adapters/grpc/service-definition.js";
import { statusFromError } from "../adapters/grpc/rich-status.js";
import { peerTlsOf } from "../adapters/grpc/peer-tls.js";

/** Optional parts for tests and embedding programs (GatewayParts carries them). */
export interface MemberServiceParts {
  /** The list log to use instead of the one config names (its records are sealed all the same). */
  readonly listLog?: ListLog;
  readonly objectionStore?: ObjectionStore;
  /** Injectable clock for list expiry and the Art. 25 deadline (tests advance it). */
  readonly clock?: () => Date;
  /** Raised once per objection not answered within 20 days (Art. 25): the lead wires it to the incident module. */
  readonly onObjectionOverdue?: (objection: Objection) => void;
  /** Who received which record (standing to object) instead of the in-memory index built from config. */
  readonly recordReceipts?: RecordReceipts;
}

export interface MemberServicesInput {
  readonly config: GatewayConfig;
  readonly authenticate: AuthenticateDeps;
  readonly authorizer: () => Authorizer;
  readonly auditSink: () => AuditSink;
  readonly pseudonymize: Pseudonymize;
  /** Seals every list log record (keys stay pseudonyms; values are opened only inside the gateway). */
  readonly listSealer: ByteSealer;
  /** Seals the owners' statements answering objections, kept for the filers. */
  readonly objectionSealer: ByteSealer;
  readonly delivery: ObjectionDelivery;
  /** False while the gateway drains: new calls are refused with SHUTTING_DOWN. */
  readonly acceptingCalls: () => boolean;
  /** The gateway's one admission point (rate, concurrency), applied to every list and objection call. */
  readonly admission?: Admission | undefined;
  /** The gateway's audit read back at start, to rebuild who received which record. */
  readonly auditHistory?: AuditHistory | undefined;
  readonly parts?: MemberServiceParts;
}

export interface MemberServices {
  /** grpc-js handlers for the list and objection methods of CreditExchange (merge into the service's handlers). */
  readonly handlers: Record<string, unknown>;
  readonly listLog: ListLog;
  readonly objections: ObjectionRegistry;
  readonly receipts: RecordReceipts;
  /** Notes the records a finished exchange released to its requester (called for every exchange; only audited answers count). */
  noteExchange(ctx: ExchangeContext): void;
  /** Raises overdue objections now (also run on a timer every objections.checkIntervalMs). */
  checkObjectionDeadlines(): Promise<Objection[]>;
  /** Ends open subscriptions (the gateway drains: streams would otherwise hold the shutdown). */
  endSubscriptions(): void;
  /** Ends open subscriptions, stops the deadline timer, closes the log. */
  close(): Promise<void>;
}

/**
 * The exchanges besides queries: joint reward and punishment lists and
 * objections (Planning Outline §4(1); Credit Investigation Regulation Art. 25). Built from config (the list log: Kafka when
 * configured, else the embedded file log; the objection state file), with
 * handlers that bridge grpc-js to src/core/lists and src/core/objections.
 */
export async function startMemberServices(input: MemberServicesInput): Promise<MemberServices> {
  const { config } = input;
  const parts = input.parts ?? {};
  const clock = parts.clock ?? (() => new Date());
  const listLog = sealListLog(
    parts.listLog ??
      (config.lists.log === "kafka"
        ? await openKafkaListLog({ brokers: config.lists.kafka!.brokers.join(","), tls: config.kafka?.tls, topic: config.lists.kafka!.topic, partitions: config.lists.kafka!.partitions, clientId: `credex-${config.instance}` })
        : await openFileListLog(config.lists.file, "embedded:credex.lists.v1")),
    input.listSealer,
  );
  const objections = await ObjectionRegistry.open({ store: parts.objectionStore ?? createFileObjectionStore(config.objections.stateFile), clock, answerDays: config.objections.answerDays, restDays: config.objections.restDays });
  const receiptWindowMs = config.objections.receiptDays * 86_400_000;
  const receipts = parts.recordReceipts ?? createRecordReceipts({ retentionMs: receiptWindowMs, maxEntries: config.objections.maxReceipts });
  // Before the first call: standing after a restart is what the audit shows, not what this process saw.
  if (input.auditHistory) {
    await input.auditHistory(new Date(Date.now() - receiptWindowMs), (event) => {
      for (const r of receiptsOfAuditEvent(event)) receipts.note(r);
    });
  }

  const listDeps: ListDeps = {
    authenticate: input.authenticate,
    authorizer: input.authorizer,
    catalogue: loadListCatalogue(config.policy.lists),
    log: listLog,
    auditSink: input.auditSink,
    pseudonymize: input.pseudonymize,
    clock,
    newId: randomUUID,
    maxEntriesPerPublish: config.lists.maxEntriesPerPublish,
    deliveryBatchSize: config.lists.deliveryBatchSize,
    maxSubscriptionsPerAgency: config.lists.maxSubscriptionsPerAgency,
    admission: input.admission,
  };
  const objectionDeps: ObjectionDeps = {
    authenticate: input.authenticate,
    objections,
    receipts,
    delivery: input.delivery,
    answerSealer: input.objectionSealer,
    auditSink: input.auditSink,
    pseudonymize: input.pseudonymize,
    newId: randomUUID,
    providerTimeoutMs: config.limits.providerTimeoutMs,
    admission: input.admission,
    onObjectionOverdue: parts.onObjectionOverdue,
  };

  const streams = new Set<AbortController>();
  const contextOf = (method: string, call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>): MemberCallContext => ({
    callId: randomUUID(),
    traceId: traceIdOf(call.metadata.get("traceparent")[0]),
    gatewayInstance: config.instance,
    method,
    receivedAt: new Date(),
    peerAddress: call.getPeer(),
    requestBytes: requestSizeOf(call.request as object),
    attributes: {},
  });
  const requestOrError = <T>(request: T | UndecodableRequest | undefined): T | CredexError => {
    if (!input.acceptingCalls()) return new CredexError("SHUTTING_DOWN");
    if (request === undefined) return new CredexError("REQUEST_MALFORMED", "the request is empty");
    if (isUndecodable(request)) return new CredexError(request.$undecodable, `the request could not be accepted: ${request.detail}`, { size: String(request.size) });
    return request;
  };
  const unary =
    <Req>(method: string, run: (ctx: MemberCallContext, call: ServerUnaryCall<Req | UndecodableRequest, unknown>, request: Req | CredexError) => Promise<unknown>) =>
    (call: ServerUnaryCall<Req | UndecodableRequest, unknown>, callback: sendUnaryData<unknown>) => {
      const ctx = contextOf(method, call);
      run(ctx, call, requestOrError(call.request)).then(
        (response) => callback(null, response),
        (err) => callback(statusFromError(toCredexError(err))),
      );
    };

  const handlers = {
    publishListEntries: unary<PublishListEntriesRequest>("PublishListEntries", (ctx, call, request) => publishListEntries(listDeps, ctx, peerTlsOf(call), request)),
    fileObjection: unary<FileObjectionRequest>("FileObjection", (ctx, call, request) => fileObjection(objectionDeps, ctx, peerTlsOf(call), request)),
    resolveObjection: unary<ResolveObjectionRequest>("ResolveObjection", (ctx, call, request) => resolveObjection(objectionDeps, ctx, peerTlsOf(call), request)),
    listObjections: unary<ListObjectionsRequest>("ListObjections", (ctx, call, request) => listObjections(objectionDeps, ctx, peerTlsOf(call), request)),
    listObjectionAnswers: unary<ListObjectionAnswersRequest>("ListObjectionAnswers", (ctx, call, request) => listObjectionAnswers(objectionDeps, ctx, peerTlsOf(call), request)),
    listCorrectionNotices: unary<ListCorrectionNoticesRequest>("ListCorrectionNotices", (ctx, call, request) => listCorrectionNotices(objectionDeps, ctx, peerTlsOf(call), request)),
    subscribeLists(call: ServerWritableStream<SubscribeListsRequest | UndecodableRequest, SubscribeListsResponse>) {
      const ctx = contextOf("SubscribeLists", call);
      const abort = new AbortController();
      streams.add(abort);
      const waiting = new Set<(err: Error) => void>();
      const gone = () => {
        abort.abort();
        for (const reject of waiting) reject(new Error("the subscriber went away"));
        waiting.clear();
      };
      call.on("cancelled", gone);
      call.on("close", gone);
      abort.signal.addEventListener("abort", () => waiting.forEach((reject) => reject(new Error("the subscription ended"))), { once: true });
      const sink = {
        signal: abort.signal,
        send: (message: SubscribeListsResponse) =>
          new Promise<void>((resolve, reject) => {
            if (abort.signal.aborted || call.cancelled) {
              reject(new Error("the subscriber went away"));
              return;
            }
            // Back-pressure: wait for 'drain' when grpc-js buffers, so a slow subscriber slows only its own reader.
            if (call.write(message)) resolve();
            else {
              waiting.add(reject);
              call.once("drain", () => {
                waiting.delete(reject);
                resolve();
              });
            }
          }),
      };
      subscribeLists(listDeps, ctx, peerTlsOf(call), requestOrError(call.request), sink)
        .then(
          () => {
            if (!call.cancelled) call.end();
          },
          (err) => {
            if (!call.cancelled) call.emit("error", statusFromError(toCredexError(err)));
          },
        )
        .finally(() => streams.delete(abort));
    },
  };

  const check = () => raiseOverdueObjections(objectionDeps, config.instance);
  const timer = setInterval(() => void check().catch(() => undefined), config.objections.checkIntervalMs);
  timer.unref();

  return {
    handlers,
    listLog,
    objections,
    receipts,
    noteExchange(ctx) {
      for (const r of receiptsOfExchange(ctx, input.pseudonymize)) receipts.note(r);
    },
    checkObjectionDeadlines: check,
    endSubscriptions() {
      for (const s of streams) s.abort();
    },
    async close() {
      clearInterval(timer);
      for (const s of streams) s.abort();
      await listLog.close();
    },
  };
}

/** The trace id of a W3C traceparent header (https://www.w3.org/TR/trace-context/), or "" (the audit then has none). */
function traceIdOf(traceparent: unknown): string {
  if (typeof traceparent === "string") {
    const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent.trim());
    if (m && m[1] !== "0".repeat(32)) return m[1]!;
  }
  return randomUUID().replaceAll("-", "");
}
