import { readFileSync } from "node:fs";
import { Client, Metadata, type ServiceError } from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CreditExchange,
  QueryRequestSchema,
  QueryResponseSchema,
  QueryStreamRequestSchema,
  QueryStreamResponseSchema,
  type QueryRequest,
  type QueryResponse,
  type QueryStreamResponse,
} from "../gen/credex/v1/exchange_pb.js";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  DecideSpecialAccessRequestSchema,
  DecideSpecialAccessResponseSchema,
  RequestSpecialAccessRequestSchema,
  RequestSpecialAccessResponseSchema,
  type SpecialAccessApplication,
} from "../gen/credex/v1/special_access_pb.js";
import {
  PublishListEntriesRequestSchema,
  PublishListEntriesResponseSchema,
  SubscribeListsRequestSchema,
  SubscribeListsResponseSchema,
  type PublishListEntriesResponse,
  type SubscribeListsResponse,
} from "../gen/credex/v1/lists_pb.js";
import {
  FileObjectionRequestSchema,
  FileObjectionResponseSchema,
  ListObjectionsRequestSchema,
  ListObjectionAnswersRequestSchema,
  ListObjectionAnswersResponseSchema,
  ListCorrectionNoticesRequestSchema,
  ListCorrectionNoticesResponseSchema,
  ListObjectionsResponseSchema,
  ResolveObjectionRequestSchema,
  ResolveObjectionResponseSchema,
  type FileObjectionResponse,
  type ListObjectionsResponse,
  type ListObjectionAnswersResponse,
  type ListCorrectionNoticesResponse,
  type ResolveObjectionResponse,
} from "../gen/credex/v1/objections_pb.js";
import { ListSubjectQueriesRequestSchema, ListSubjectQueriesResponseSchema, type ListSubjectQueriesResponse } from "../gen/credex/v1/subject_queries_pb.js";
import { PublishDisclosuresRequestSchema, PublishDisclosuresResponseSchema, type PublishDisclosuresResponse } from "../gen/credex/v1/disclosure_pb.js";
import { channelCredentials } from "../adapters/grpc/provider-client.js";
import type { TlsMaterial } from "../adapters/grpc/server-credentials.js";
import { createTlsReloader, type ReloadOutcome, type TlsReloader } from "../gateway/tls-reloader.js";

export interface ExchangeClientOptions {
  /** host:port of the gateway. */
  readonly address: string;
  readonly trustDomain: string;
  /** PEM file paths: the agency's certificate chain and key, and the exchange CA bundle. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /**
   * CRL files (the root's and the issuing CA's: every certificate of the gateway's chain is
   * checked). With them, the gateway's certificate is checked against the CRLs at every handshake,
   * and the files are re-read when they change under the gateway's rules (a stale, unsigned or
   * half-written set is refused and the previous one kept); calls after a reload go over a new
   * connection, so a gateway revoked since is refused. Without them, revocation is not checked.
   */
  readonly crlFiles?: readonly string[];
  /** Every reload attempt of the files (refused ones are also written to stderr). */
  readonly onTlsReload?: (outcome: ReloadOutcome) => void;
  /**
   * The human operator signed in at the agency (its staff identifier), stamped on every query
   * that names none (Art. 22: who queried; required for natural-person subjects).
   */
  readonly operator?: string;
}

export interface ExchangeClient {
  query(request: MessageInitShape<typeof QueryRequestSchema>, options?: { timeoutMs?: number; metadata?: Record<string, string> }): Promise<QueryResponse>;
  queryStream(request: MessageInitShape<typeof QueryRequestSchema>, options?: { batchSize?: number; timeoutMs?: number }): Promise<QueryStreamResponse[]>;
  requestSpecialAccess(request: MessageInitShape<typeof RequestSpecialAccessRequestSchema>): Promise<SpecialAccessApplication>;
  decideSpecialAccess(request: MessageInitShape<typeof DecideSpecialAccessRequestSchema>): Promise<SpecialAccessApplication>;
  publishListEntries(request: MessageInitShape<typeof PublishListEntriesRequestSchema>, options?: CallOptions): Promise<PublishListEntriesResponse>;
  /** Opens a SubscribeLists stream; `onMessage` gets each message (keep its cursor to resume). */
  subscribeLists(request: MessageInitShape<typeof SubscribeListsRequestSchema>, onMessage: (message: SubscribeListsResponse) => void): ListSubscription;
  fileObjection(request: MessageInitShape<typeof FileObjectionRequestSchema>, options?: CallOptions): Promise<FileObjectionResponse>;
  resolveObjection(request: MessageInitShape<typeof ResolveObjectionRequestSchema>, options?: CallOptions): Promise<ResolveObjectionResponse>;
  listObjections(request: MessageInitShape<typeof ListObjectionsRequestSchema>, options?: CallOptions): Promise<ListObjectionsResponse>;
  /** The owners' answers to objections this agency filed, after a position (Art. 25). */
  listObjectionAnswers(request: MessageInitShape<typeof ListObjectionAnswersRequestSchema>, options?: CallOptions): Promise<ListObjectionAnswersResponse>;
  /** Corrections of records this agency received in the last 90 days, after a position. */
  listCorrectionNotices(request: MessageInitShape<typeof ListCorrectionNoticesRequestSchema>, options?: CallOptions): Promise<ListCorrectionNoticesResponse>;
  /** The queries about a subject, for the subject's signed request (Art. 22; PIPL Art. 45). */
  listSubjectQueries(request: MessageInitShape<typeof ListSubjectQueriesRequestSchema>, options?: CallOptions): Promise<ListSubjectQueriesResponse>;
  publishDisclosures(request: MessageInitShape<typeof PublishDisclosuresRequestSchema>, options?: CallOptions): Promise<PublishDisclosuresResponse>;
  close(): void;
}

export interface CallOptions {
  readonly timeoutMs?: number;
}

/** An open SubscribeLists stream. */
export interface ListSubscription {
  /** Cancels the stream (the subscriber "disconnects"); `ended` then resolves. */
  cancel(): void;
  /** Resolves when the stream ends or is cancelled; rejects with the gateway's error otherwise. */
  readonly ended: Promise<void>;
}

/**
 * A CreditExchange client for an agency: what the CLI, the demo, tests and benches use. The
 * server must be the gateway of the trust domain (exactly the URI SAN spiffe://<td>/gateway)
 * and, with `crlFiles`, not revoked.
 */
export function createExchangeClient(options: ExchangeClientOptions): ExchangeClient {
  const channelOf = (material: TlsMaterial) =>
    new Client(options.address, channelCredentials(material, `spiffe://${options.trustDomain}/gateway`), {
      "grpc.ssl_target_name_override": "localhost",
      "grpc.default_authority": "localhost",
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
    });
  let client: Client;
  let reloader: TlsReloader | undefined;
  if (options.crlFiles && options.crlFiles.length > 0) {
    // The gateway's reload rules (tls-reloader.ts): the whole set is checked before it is used; a refused one leaves the previous in use.
    reloader = createTlsReloader({
      files: { cert: options.certFile, key: options.keyFile, ca: options.caFile, crl: options.crlFiles },
      apply: (material) => {
        // New calls go over a new connection checked against the new CRLs; calls in flight finish on the old one.
        const previous = client;
        client = channelOf(material);
        previous.close();
      },
      onReload: (o) => {
        if (!o.ok) process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: "exchange-client", msg: "TLS reload refused; the previous material stays in use", reason: o.reason })}\n`);
        options.onTlsReload?.(o);
      },
    });
    client = channelOf(reloader.current().material);
  } else {
    client = channelOf({ cert: readFileSync(options.certFile), key: readFileSync(options.keyFile), ca: readFileSync(options.caFile) });
  }
  const path = (m: { name: string }) => `/${CreditExchange.typeName}/${m.name}`;
  return {
    query(request, opts = {}) {
      const message = withOperator(create(QueryRequestSchema, request));
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          path(CreditExchange.method.query),
          (value: QueryRequest) => Buffer.from(toBinary(QueryRequestSchema, value)),
          (bytes: Buffer) => fromBinary(QueryResponseSchema, bytes),
          message,
          metadataOf(opts.metadata),
          { deadline: Date.now() + (opts.timeoutMs ?? 10_000) },
          (err: ServiceError | null, response?: QueryResponse) => (err ? reject(err) : resolve(response!)),
        );
      });
    },
    queryStream(request, opts = {}) {
      const message = create(QueryStreamRequestSchema, { query: withOperator(create(QueryRequestSchema, request)), batchSize: opts.batchSize ?? 0 });
      return new Promise((resolve, reject) => {
        const out: QueryStreamResponse[] = [];
        const stream = client.makeServerStreamRequest(
          path(CreditExchange.method.queryStream),
          (value: typeof message) => Buffer.from(toBinary(QueryStreamRequestSchema, value)),
          (bytes: Buffer) => fromBinary(QueryStreamResponseSchema, bytes),
          message,
          new Metadata(),
          { deadline: Date.now() + (opts.timeoutMs ?? 10_000) },
        );
        stream.on("data", (m: QueryStreamResponse) => out.push(m));
        stream.on("error", reject);
        stream.on("end", () => resolve(out));
      });
    },
    async requestSpecialAccess(request) {
      return (await unary(RequestSpecialAccessRequestSchema, RequestSpecialAccessResponseSchema, "RequestSpecialAccess", request)).application!;
    },
    async decideSpecialAccess(request) {
      return (await unary(DecideSpecialAccessRequestSchema, DecideSpecialAccessResponseSchema, "DecideSpecialAccess", request)).application!;
    },
    publishListEntries: (request, opts) => unary(PublishListEntriesRequestSchema, PublishListEntriesResponseSchema, "PublishListEntries", request, opts),
    fileObjection: (request, opts) => unary(FileObjectionRequestSchema, FileObjectionResponseSchema, "FileObjection", request, opts),
    resolveObjection: (request, opts) => unary(ResolveObjectionRequestSchema, ResolveObjectionResponseSchema, "ResolveObjection", request, opts),
    listObjections: (request, opts) => unary(ListObjectionsRequestSchema, ListObjectionsResponseSchema, "ListObjections", request, opts),
    listObjectionAnswers: (request, opts) => unary(ListObjectionAnswersRequestSchema, ListObjectionAnswersResponseSchema, "ListObjectionAnswers", request, opts),
    listCorrectionNotices: (request, opts) => unary(ListCorrectionNoticesRequestSchema, ListCorrectionNoticesResponseSchema, "ListCorrectionNotices", request, opts),
    listSubjectQueries: (request, opts) => unary(ListSubjectQueriesRequestSchema, ListSubjectQueriesResponseSchema, "ListSubjectQueries", request, opts),
    publishDisclosures: (request, opts) => unary(PublishDisclosuresRequestSchema, PublishDisclosuresResponseSchema, "PublishDisclosures", request, opts),
    subscribeLists(request, onMessage) {
      const message = create(SubscribeListsRequestSchema, request);
      const stream = client.makeServerStreamRequest(
        `/${CreditExchange.typeName}/SubscribeLists`,
        (value: typeof message) => Buffer.from(toBinary(SubscribeListsRequestSchema, value)),
        (bytes: Buffer) => fromBinary(SubscribeListsResponseSchema, bytes),
        message,
        new Metadata(),
      );
      let cancelled = false;
      const ended = new Promise<void>((resolve, reject) => {
        stream.on("data", (m: SubscribeListsResponse) => {
          if (!cancelled) onMessage(m);
        });
        stream.on("error", (err: ServiceError) => (cancelled ? resolve() : reject(err)));
        stream.on("end", () => resolve());
      });
      return {
        ended,
        cancel() {
          cancelled = true;
          stream.cancel();
        },
      };
    },
    close: () => {
      reloader?.close();
      client.close();
    },
  };

  function withOperator(message: QueryRequest): QueryRequest {
    return message.operator === "" && options.operator ? create(QueryRequestSchema, { ...message, operator: options.operator }) : message;
  }

  function unary<I extends DescMessage, O extends DescMessage>(input: I, output: O, method: string, request: MessageInitShape<I>, opts: CallOptions = {}): Promise<MessageShape<O>> {
    const message = create(input, request);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        `/${CreditExchange.typeName}/${method}`,
        (value: MessageShape<I>) => Buffer.from(toBinary(input, value)),
        (bytes: Buffer) => fromBinary(output, bytes),
        message,
        new Metadata(),
        { deadline: Date.now() + (opts.timeoutMs ?? 10_000) },
        (err: ServiceError | null, response?: MessageShape<O>) => (err ? reject(err) : resolve(response!)),
      );
    });
  }
}


function metadataOf(values: Record<string, string> | undefined): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(values ?? {})) md.set(k, v);
  return md;
}
