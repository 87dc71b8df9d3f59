/**
 * FOR TESTS ONLY: a CreditProvider that misbehaves on purpose, served over
 * the same mTLS as a reference agency, so the chaos suite can show what the
 * gateway does when a provider hangs, crashes mid-call, returns garbage, or
 * answers slowly.
 */
import { randomBytes } from "node:crypto";
import { Server, type ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { CreditProvider, FetchResponseSchema } from "../../src/gen/credex/v1/provider_pb.js";
import { serviceDefinitionOf } from "../../src/adapters/grpc/service-definition.js";
import { sessionOfCall } from "../../src/adapters/grpc/http2-session-guard.js";
import { ReloadableServerCredentials, DEFAULT_TLS12_CIPHERS } from "../../src/adapters/grpc/server-credentials.js";
import { readTlsMaterial, type TlsFiles } from "../../src/gateway/tls-files.js";

export type ProviderFault =
  /** accepts the call and never answers */
  | "hang"
  /** drops the connection (TCP reset) while the call is in progress, as a crashing process would */
  | "crash-mid-call"
  /** answers with bytes that are not a FetchResponse */
  | "garbage"
  /** answers correctly (no records) after delayMs */
  | "slow";

export interface FaultProvider {
  readonly address: string;
  /** Calls received. */
  calls(): number;
  stop(): Promise<void>;
}

export async function startFaultProvider(options: { listen: string; tls: TlsFiles; fault: ProviderFault; delayMs?: number }): Promise<FaultProvider> {
  const server = new Server();
  const definition = serviceDefinitionOf(CreditProvider);
  let calls = 0;
  const garbage = options.fault === "garbage";
  // Garbage goes through the serializer: bytes a protobuf parser must reject (a length-delimited field running past the end).
  const fetchDefinition = { ...definition["fetch"]!, responseSerialize: (value: unknown) => (garbage ? Buffer.concat([Buffer.from([0x0a, 0xff, 0x01]), randomBytes(16)]) : definition["fetch"]!.responseSerialize(value)) };
  server.addService({ fetch: fetchDefinition }, {
    fetch(call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
      calls++;
      const empty = create(FetchResponseSchema, { records: [] });
      switch (options.fault) {
        case "hang":
          return;
        case "crash-mid-call":
          // destroy() without a code: the socket closes with no GOAWAY, as when the process dies.
          setTimeout(() => sessionOfCall(call)?.destroy(), 50);
          return;
        case "garbage":
          callback(null, empty);
          return;
        case "slow":
          setTimeout(() => callback(null, empty), options.delayMs ?? 500);
          return;
      }
    },
  } as never);
  const credentials = new ReloadableServerCredentials(readTlsMaterial(options.tls), { minVersion: "TLSv1.3", ciphers: DEFAULT_TLS12_CIPHERS });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(options.listen, credentials as ServerCredentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    calls: () => calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
