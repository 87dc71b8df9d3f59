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
import { channelCredentials } from "../adapters/grpc/provider-client.js";

export interface ExchangeClientOptions {
  /** host:port of the gateway. */
  readonly address: string;
  readonly trustDomain: string;
  /** PEM file paths: the agency's certificate chain and key, and the exchange CA bundle. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface ExchangeClient {
  query(request: MessageInitShape<typeof QueryRequestSchema>, options?: { timeoutMs?: number; metadata?: Record<string, string> }): Promise<QueryResponse>;
  queryStream(request: MessageInitShape<typeof QueryRequestSchema>, options?: { batchSize?: number; timeoutMs?: number }): Promise<QueryStreamResponse[]>;
  requestSpecialAccess(request: MessageInitShape<typeof RequestSpecialAccessRequestSchema>): Promise<SpecialAccessApplication>;
  decideSpecialAccess(request: MessageInitShape<typeof DecideSpecialAccessRequestSchema>): Promise<SpecialAccessApplication>;
  close(): void;
}

/** A CreditExchange client for an agency: what the CLI, the demo, tests and benches use. */
export function createExchangeClient(options: ExchangeClientOptions): ExchangeClient {
  const material = { cert: readFileSync(options.certFile), key: readFileSync(options.keyFile), ca: readFileSync(options.caFile) };
  const client = new Client(options.address, channelCredentials(material, `spiffe://${options.trustDomain}/gateway`), {
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_authority": "localhost",
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
  });
  const path = (m: { name: string }) => `/${CreditExchange.typeName}/${m.name}`;
  return {
    query(request, opts = {}) {
      const message = create(QueryRequestSchema, request);
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
      const message = create(QueryStreamRequestSchema, { query: create(QueryRequestSchema, request), batchSize: opts.batchSize ?? 0 });
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
      const response = await unary(client, path(CreditExchange.method.requestSpecialAccess), RequestSpecialAccessRequestSchema, RequestSpecialAccessResponseSchema, request);
      return response.application!;
    },
    async decideSpecialAccess(request) {
      const response = await unary(client, path(CreditExchange.method.decideSpecialAccess), DecideSpecialAccessRequestSchema, DecideSpecialAccessResponseSchema, request);
      return response.application!;
    },
    close: () => client.close(),
  };
}


function unary<I extends DescMessage, O extends DescMessage>(client: Client, method: string, input: I, output: O, request: MessageInitShape<I>, timeoutMs = 10_000): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method,
      (value: MessageShape<I>) => Buffer.from(toBinary(input, value)),
      (bytes: Buffer) => fromBinary(output, bytes),
      create(input, request),
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: ServiceError | null, response?: MessageShape<O>) => (err ? reject(err) : resolve(response!)),
    );
  });
}

function metadataOf(values: Record<string, string> | undefined): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(values ?? {})) md.set(k, v);
  return md;
}
