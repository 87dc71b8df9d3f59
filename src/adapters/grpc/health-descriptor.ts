import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { service as healthService } from "grpc-health-check";

export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";

/**
 * The FileDescriptorProto of grpc.health.v1 (the gRPC Health Checking Protocol) as
 * grpc-health-check serves it, for reflection. grpc-health-check loads its health.proto with
 * proto-loader, whose protobufjs descriptors break two rules of descriptor.proto that strict
 * clients (Go's protoreflect, i.e. grpcurl) check: a map field's entry type must be named
 * `<Field>Entry` (here `StatusesEntry`), and type names are resolved from the package. This
 * rewrites those names; every message, field and method stays as the package loaded it.
 */
export function healthFileDescriptor(): Uint8Array {
  const requestType = (healthService["Check"] as unknown as { requestType: { fileDescriptorProtos: Buffer[] } }).requestType;
  const file = fromBinary(FileDescriptorProtoSchema, requestType.fileDescriptorProtos[0]!);
  file.name = "grpc/health/v1/health.proto";
  for (const message of file.messageType) qualify(file, message, `.${file.package}.${message.name}`);
  return toBinary(FileDescriptorProtoSchema, file);
}

function qualify(file: FileDescriptorProto, message: DescriptorProto, path: string): void {
  const renamed = new Map<string, string>();
  for (const nested of message.nestedType) {
    if (nested.options?.mapEntry && !nested.name.endsWith("Entry")) {
      renamed.set(nested.name, `${nested.name}Entry`);
      nested.name = `${nested.name}Entry`;
    }
  }
  for (const field of message.field) {
    if (field.typeName === "" || field.typeName.startsWith(".")) continue;
    const local = renamed.get(field.typeName) ?? field.typeName;
    const inMessage = message.nestedType.some((n) => n.name === local) || message.enumType.some((e) => e.name === local);
    field.typeName = inMessage ? `${path}.${local}` : resolveInFile(file, local);
  }
  for (const nested of message.nestedType) qualify(file, nested, `${path}.${nested.name}`);
}

/** A name relative to the package: a top-level message, or an enum nested in one (protobufjs writes its own name only). */
function resolveInFile(file: FileDescriptorProto, name: string): string {
  if (file.messageType.some((m) => m.name === name)) return `.${file.package}.${name}`;
  for (const m of file.messageType) if (m.enumType.some((e) => e.name === name)) return `.${file.package}.${m.name}.${name}`;
  throw new Error(`grpc.health.v1 descriptor: cannot resolve type "${name}"`);
}
