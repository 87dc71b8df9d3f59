import { Client, Metadata, Server, type ServerCredentials, type ServerUnaryCall, type sendUnaryData, type ServiceError } from "@grpc/grpc-js";
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
}

export interface RunningBareProxy {
  readonly address: string;
  stop(): Promise<void>;
}

const identity = (b: Buffer) => b;

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
  const forward = (path: string) => (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    const deadline = call.getDeadline();
    upstream.makeUnaryRequest(path, identity, identity, call.request, new Metadata(), { deadline }, (err: ServiceError | null, response?: Buffer) =>
      err ? callback(err) : callback(null, response),
    );
  };
  const definition = Object.fromEntries(
    options.paths.map((path) => [
      path,
      { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
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
