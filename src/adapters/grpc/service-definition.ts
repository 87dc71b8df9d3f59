import type { ServiceDefinition, MethodDefinition } from "@grpc/grpc-js";
import { fromBinary, toBinary, type DescMessage, type DescService, type MessageShape } from "@bufbuild/protobuf";

/**
 * A request that could not be turned into its message: too large for the
 * configured limit, or not valid protobuf. grpc-js would answer these with a
 * bare status and no handler would run; passing them through as values lets
 * the pipeline refuse them with a catalogued reason and audit the attempt.
 */
export interface UndecodableRequest {
  readonly $undecodable: "REQUEST_TOO_LARGE" | "REQUEST_MALFORMED";
  readonly size: number;
  readonly detail: string;
}

export function isUndecodable(value: unknown): value is UndecodableRequest {
  return typeof value === "object" && value !== null && "$undecodable" in value;
}

/** Size in bytes of each decoded request, for the audit record. */
const requestSizes = new WeakMap<object, number>();

export function requestSizeOf(message: object): number {
  return requestSizes.get(message) ?? (isUndecodable(message) ? message.size : 0);
}

export interface ServiceDefinitionOptions {
  /** Requests above this many bytes are not decoded (REQUEST_TOO_LARGE). */
  readonly maxRequestBytes?: number;
}

/**
 * Builds a grpc-js ServiceDefinition from a protobuf-es service descriptor:
 * protobuf-es ships no grpc-js adapter (TOOLCHAIN.md). Paths are
 * `/<package>.<Service>/<Method>` as in the gRPC HTTP/2 protocol spec.
 */
export function serviceDefinitionOf(service: DescService, options: ServiceDefinitionOptions = {}): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (value) => Buffer.from(toBinary(method.input, value as MessageShape<DescMessage>)),
      requestDeserialize: (bytes: Buffer) => decodeRequest(method.input, bytes, options.maxRequestBytes),
      // Handlers may hand over bytes already serialized (the pipeline digests exactly what is sent).
      // Never unknown fields: only what this gateway knows (and released) goes out.
      responseSerialize: (value) => (Buffer.isBuffer(value) ? value : bufferOf(toBinary(method.output, value as MessageShape<DescMessage>, { writeUnknownFields: false }))),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
      originalName: method.name,
    };
  }
  return definition as ServiceDefinition;
}

function decodeRequest(schema: DescMessage, bytes: Buffer, maxBytes: number | undefined): unknown {
  if (maxBytes !== undefined && bytes.length > maxBytes) {
    return { $undecodable: "REQUEST_TOO_LARGE", size: bytes.length, detail: `${bytes.length} bytes, limit ${maxBytes}` } satisfies UndecodableRequest;
  }
  try {
    // Unknown fields are not kept: nothing this gateway does not understand is stored or passed on.
    const message = fromBinary(schema, bytes, { readUnknownFields: false });
    requestSizes.set(message, bytes.length);
    return message;
  } catch (err) {
    return { $undecodable: "REQUEST_MALFORMED", size: bytes.length, detail: (err as Error).message } satisfies UndecodableRequest;
  }
}

/** The same definition for clients (requests serialized, responses decoded). */
export function clientDefinitionOf(service: DescService): ServiceDefinition {
  return serviceDefinitionOf(service);
}

/** The encoded bytes as a Buffer without copying them (Buffer.from(Uint8Array) copies; answers can be MiBs). */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
