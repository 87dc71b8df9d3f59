import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * gRPC server reflection for services described by protobuf-es.
 * @grpc/reflection reads FileDescriptorProto bytes from a proto-loader style
 * package definition; we hand it the descriptors protobuf-es embeds, with
 * their dependencies (TOOLCHAIN.md), so tools like grpcurl can list and call.
 */
export function addReflection(server: Server, services: readonly DescService[], extraFiles: readonly DescFile[] = []): void {
  const files = new Map<string, Buffer>();
  const visit = (file: DescFile) => {
    if (files.has(file.name)) return;
    files.set(file.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
    file.dependencies.forEach(visit);
  };
  services.forEach((s) => visit(s.file));
  // Files no service references, e.g. google/rpc/error_details.proto, so tools can decode ErrorInfo.
  extraFiles.forEach(visit);
  const definition = { "credex.descriptors": { fileDescriptorProtos: [...files.values()] } };
  new ReflectionService(definition as never, { services: services.map((s) => s.typeName) }).addToServer(server);
}
