import { Metadata, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { ErrorInfoSchema, type ErrorInfo } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { ERROR_DOMAIN, type CredexError } from "../../core/errors.js";

/** The trailer of the gRPC rich error model (google.rpc.Status, binary, base64 on the wire by grpc-js). */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

/** A CredexError as the status a grpc-js handler returns: code, message, and ErrorInfo in the details trailer. */
export function statusFromError(err: CredexError): Partial<StatusObject> & { code: number; details: string; metadata: Metadata } {
  const info = create(ErrorInfoSchema, { reason: err.reason, domain: ERROR_DOMAIN, metadata: { ...err.metadata } });
  const status = create(StatusSchema, { code: err.code, message: err.message, details: [anyPack(ErrorInfoSchema, info)] });
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(toBinary(StatusSchema, status)));
  return { code: err.code, details: err.message, metadata };
}

/** The ErrorInfo a failed call carried, if any (for clients: CLI, tests, the gateway reading provider errors). */
export function errorInfoOf(err: Partial<ServiceError> | undefined): ErrorInfo | undefined {
  const raw = err?.metadata?.get(STATUS_DETAILS_KEY)[0];
  if (raw === undefined) return undefined;
  try {
    const status = fromBinary(StatusSchema, typeof raw === "string" ? Buffer.from(raw, "base64") : raw);
    for (const detail of status.details) {
      const info = anyUnpack(detail, ErrorInfoSchema);
      if (info) return info;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
