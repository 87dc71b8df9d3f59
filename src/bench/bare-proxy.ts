import { Client, Metadata, Server, type ServerCredentials, type ServerUnaryCall, type sendUnaryData, type ServiceError } from "@grpc/grpc-js";
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { channelCredentials } from "../adapters/grpc/provider-client.js";
import { DEFAULT_TLS12_CIPHERS, ReloadableServerCredentials } from "../adapters/grpc/server-credentials.js";
import { readTlsMaterial, type TlsFiles } from "../gateway/tls-files.js";

export interface BareProxyOptions {
  readonly listen: string;
  /** The proxy's own identity, on both sides (server towards callers, client towards the upstream). */
  readonly tls: TlsFiles;
  readonly upstream: string;
  /** The spiffe URI the upstream's certificate must carry (the same check the gateway makes). */
  readonly upstreamIdentity: string;
  /** Unary method paths forwarded, e.g. ["/credex.v1.CreditProvider/Fetch"]. */
  readonly paths: readonly string[];
  /**
   * Decode and re-encode every message with protobuf-es (request and response
   * types of the forwarded paths), still checking nothing: what any gateway
   * that reads the content it brokers pays before its first check.
   */
  readonly decode?: { readonly request: DescMessage; readonly response: DescMessage };
}

export interface RunningBareProxy {
  readonly address: string;
  stop(): Promise<void>;
}

const identity = (b: Buffer) => b;

interface Codec {
  readonly decodeRequest: (b: Buffer) => unknown;
  readonly encodeRequest: (m: unknown) => Buffer;
  readonly decodeResponse: (b: Buffer) => unknown;
  readonly encodeResponse: (m: unknown) => Buffer;
}

const bytesAsIs: Codec = { decodeRequest: identity, encodeRequest: identity as (m: unknown) => Buffer, decodeResponse: identity, encodeResponse: identity as (m: unknown) => Buffer };

function protobufCodec(d: NonNullable<BareProxyOptions["decode"]>): Codec {
  const enc = (schema: DescMessage) => (m: unknown) => {
    const u = toBinary(schema, m as MessageShape<DescMessage>);
    return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  };
  return {
    decodeRequest: (b) => fromBinary(d.request, b),
    encodeRequest: enc(d.request),
    decodeResponse: (b) => fromBinary(d.response, b),
    encodeResponse: enc(d.response),
  };
}

/**
 * The benchmark's baseline: a grpc-js pass-through with mTLS on both sides and
 * nothing else — no identity mapping, validation, policy, release or audit. The
 * request and response bytes are forwarded undecoded, so it is the cheapest
 * thing a grpc-js gateway could be. TLS is set up exactly as the gateway's
 * (same credentials classes and options), so the difference measured is the
 * gateway's own work. Bench only: it checks nothing and must never face a network.
 */
export async function startBareProxy(options: BareProxyOptions): Promise<RunningBareProxy> {
  const material = readTlsMaterial(options.tls);
  const upstream = new Client(options.upstream, channelCredentials(material, options.upstreamIdentity), {
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_authority": "localhost",
    "grpc.max_receive_message_length": 256 * 1024 * 1024,
  });
  const codec = options.decode ? protobufCodec(options.decode) : bytesAsIs;
  const forward = (path: string) => (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const deadline = call.getDeadline();
    upstream.makeUnaryRequest(path, codec.encodeRequest, codec.decodeResponse, call.request, new Metadata(), { deadline }, (err: ServiceError | null, response?: unknown) =>
      err ? callback(err) : callback(null, response),
    );
  };
  const definition = Object.fromEntries(
    options.paths.map((path) => [
      path,
      { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: codec.decodeRequest, responseSerialize: codec.encodeResponse, responseDeserialize: identity },
    ]),
  );
  const handlers = Object.fromEntries(options.paths.map((path) => [path, forward(path)]));
  const server = new Server({ "grpc.max_receive_message_length": 256 * 1024 * 1024, "grpc.max_send_message_length": 256 * 1024 * 1024 });
  server.addService(definition as never, handlers as never);
  const credentials = new ReloadableServerCredentials(material, { minVersion: "TLSv1.3", ciphers: DEFAULT_TLS12_CIPHERS });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.listen, credentials as ServerCredentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = options.listen.slice(0, options.listen.lastIndexOf(":"));
  return {
    address: `${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          upstream.close();
          resolve();
        });
      }),
  };
}
