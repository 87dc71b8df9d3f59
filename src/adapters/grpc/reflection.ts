import type { Server, ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { toCredexError } from "../../core/errors.js";
import { statusFromError } from "./rich-status.js";

export interface ReflectionOptions {
  /**
   * Runs before each reflection stream with the grpc-js call; a throw refuses
   * the stream with the thrown CredexError's status and reason, before any
   * descriptor is sent.
   */
  readonly admit: (call: object) => void;
  /**
   * Services described by other means than protobuf-es (e.g. grpc.health.v1.Health, which
   * grpc-health-check loads with proto-loader): their name and FileDescriptorProto bytes.
   */
  readonly alsoDescribe?: readonly { readonly typeName: string; readonly fileDescriptorProtos: readonly Uint8Array[] }[];
}

/**
 * gRPC server reflection for services described by protobuf-es.
 * @grpc/reflection reads FileDescriptorProto bytes from a proto-loader style
 * package definition; we hand it the descriptors protobuf-es embeds, with
 * their dependencies (TOOLCHAIN.md), so tools like grpcurl can list and call.
 *
 * Reflection describes the whole API surface, so it is answered only to a
 * caller `admit` lets through: the gateway's listener completes handshakes
 * without a client certificate (server-credentials.ts), so the check has to
 * be made at the call.
 */
export function addReflection(server: Server, services: readonly DescService[], options: ReflectionOptions, extraFiles: readonly DescFile[] = []): void {
  const files = new Map<string, Buffer>();
  const visit = (file: DescFile) => {
    if (files.has(file.name)) return;
    files.set(file.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
    file.dependencies.forEach(visit);
  };
  services.forEach((s) => visit(s.file));
  // Files no service references, e.g. google/rpc/error_details.proto, so tools can decode ErrorInfo.
  extraFiles.forEach(visit);
  const raw = (options.alsoDescribe ?? []).flatMap((s) => s.fileDescriptorProtos.map((b) => Buffer.from(b)));
  const definition = { "credex.descriptors": { fileDescriptorProtos: [...files.values(), ...raw] } };
  // @grpc/reflection adds its v1 and v1alpha services itself; every handler it adds is wrapped with the check.
  const admitted = {
    addService(service: ServiceDefinition, implementation: UntypedServiceImplementation) {
      server.addService(service, admittedHandlers(implementation, options.admit));
    },
  };
  new ReflectionService(definition as never, { services: [...services.map((s) => s.typeName), ...(options.alsoDescribe ?? []).map((s) => s.typeName)] }).addToServer(admitted as unknown as Server);
}

type StreamHandler = (call: { emit(event: "error", err: unknown): boolean }) => void;

function admittedHandlers(implementation: UntypedServiceImplementation, admit: (call: object) => void): UntypedServiceImplementation {
  const wrapped: Record<string, StreamHandler> = {};
  for (const [name, handler] of Object.entries(implementation)) {
    wrapped[name] = (call) => {
      try {
        admit(call);
      } catch (err) {
        // grpc-js ends a server stream that emits "error" with that status (trailers carry the ErrorInfo).
        call.emit("error", statusFromError(toCredexError(err)));
        return;
      }
      (handler as StreamHandler)(call);
    };
  }
  return wrapped as UntypedServiceImplementation;
}
