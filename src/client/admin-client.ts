import { readFileSync } from "node:fs";
import { Client, Metadata, type ServiceError } from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { GatewayAdmin } from "../gen/credex/v1/admin_pb.js";
import { channelCredentials } from "../adapters/grpc/provider-client.js";
import { errorInfoOf } from "../adapters/grpc/rich-status.js";
import { TOTP_PERIOD_SECONDS, totpCode } from "../adapters/totp/totp.js";

/** Call metadata carrying the administrator's TOTP code (src/gateway/admin-totp.ts). */
const TOTP_METADATA_KEY = "x-credex-totp";

export interface AdminClientOptions {
  /** host:port of the gateway's admin listener. */
  readonly address: string;
  readonly trustDomain: string;
  /** PEM files: the administrator's certificate (URI SAN spiffe://<td>/admin/<role>/<name>) and key, and the CA bundle. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** Second factor (GB/T 22239-2019 8.1.4.1 d): a code as the administrator's app shows it (`--totp`). */
  readonly totpCode?: string | undefined;
  /**
   * Or the enrolled base32 secret in a file (0600; the demo and tests): a code is computed
   * per call, and a call refused as a replay (another connection used this step's code)
   * is retried once with the next step's code.
   */
  readonly totpSecretFile?: string | undefined;
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
  const secret = options.totpSecretFile !== undefined ? readFileSync(options.totpSecretFile, "utf8").trim() : undefined;
  const metadata = (): Metadata => {
    const m = new Metadata();
    const code = secret !== undefined ? totpCode(secret, new Date()) : options.totpCode;
    if (code !== undefined) m.set(TOTP_METADATA_KEY, code);
    return m;
  };
  return {
    async call(method, request, opts = {}) {
      const desc = GatewayAdmin.method[method] as unknown as DescMethodUnary;
      const message = create(desc.input, request as never);
      const once = () =>
        new Promise<never>((resolve, reject) => {
          client.makeUnaryRequest(
            `/${GatewayAdmin.typeName}/${desc.name}`,
            (value: typeof message) => Buffer.from(toBinary(desc.input, value)),
            (bytes: Buffer) => fromBinary(desc.output, bytes),
            message,
            metadata(),
            { deadline: Date.now() + (opts.timeoutMs ?? 10_000) },
            (err: ServiceError | null, response?: unknown) => (err ? reject(err) : resolve(response as never)),
          );
        });
      try {
        return await once();
      } catch (err) {
        if (secret === undefined || errorInfoOf(err as ServiceError)?.reason !== "ADMIN_TOTP_REPLAYED") throw err;
        const period = TOTP_PERIOD_SECONDS * 1000;
        await new Promise((r) => setTimeout(r, period - (Date.now() % period) + 50));
        return once();
      }
    },
    close: () => client.close(),
  };
}
