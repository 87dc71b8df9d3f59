import { readFileSync } from "node:fs";
import { Client, Metadata, type ServiceError } from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { GatewayAdmin } from "../gen/credex/v1/admin_pb.js";
import { channelCredentials } from "../adapters/grpc/provider-client.js";

export interface AdminClientOptions {
  /** host:port of the gateway's admin listener. */
  readonly address: string;
  readonly trustDomain: string;
  /** PEM files: the administrator's certificate (URI SAN spiffe://<td>/admin/<role>/<name>) and key, and the CA bundle. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

type Methods = typeof GatewayAdmin.method;
type Unary<K extends keyof Methods> = Methods[K] extends DescMethodUnary<infer I, infer O> ? { input: I; output: O } : never;

export interface AdminClient {
  /** Calls one GatewayAdmin method, e.g. `call("listIncidents", { state: "open" })`. */
  call<K extends keyof Methods>(method: K, request: MessageInitShape<Unary<K>["input"]>, options?: { timeoutMs?: number }): Promise<MessageShape<Unary<K>["output"]>>;
  close(): void;
}

/** A GatewayAdmin client over mTLS, verifying the gateway's SPIFFE identity. */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const material = { cert: readFileSync(options.certFile), key: readFileSync(options.keyFile), ca: readFileSync(options.caFile) };
  const client = new Client(options.address, channelCredentials(material, `spiffe://${options.trustDomain}/gateway`), {
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_authority": "localhost",
  });
  return {
    call(method, request, opts = {}) {
      const desc = GatewayAdmin.method[method] as unknown as DescMethodUnary;
      const message = create(desc.input, request as never);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          `/${GatewayAdmin.typeName}/${desc.name}`,
          (value: typeof message) => Buffer.from(toBinary(desc.input, value)),
          (bytes: Buffer) => fromBinary(desc.output, bytes),
          message,
          new Metadata(),
          { deadline: Date.now() + (opts.timeoutMs ?? 10_000) },
          (err: ServiceError | null, response?: unknown) => (err ? reject(err) : resolve(response as never)),
        );
      });
    },
    close: () => client.close(),
  };
}
